import { useRef, useState, type DragEvent, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys, useModels } from '../api/queries';
import { sequenceChoices, type Sequence } from '../lib/modelChoices';
import { planUploads } from '../lib/uploadPlan';
import { filesFromDrop } from '../lib/dropFiles';
import type { SeriesChoice } from '../api/types';
import { SeriesChooser, seriesChoicesOf } from './SeriesChooser';
import { SequenceOptions } from './SequenceOptions';
import {
  ownsUploads,
  patchRow,
  sentUploads,
  setUploadBusy,
  startBatch,
  useUploadQueue,
  type UploadRow,
} from '../lib/uploadQueue';

/** What the file picker offers; the server has the last word on what it accepts. */
const ACCEPT = '.nii,.nii.gz,.gz,.zip,.dcm,application/dicom,application/zip';

/** `user`: who uploads; the rows shown (kept while the reader is on other pages) are theirs alone. */
export function UploadForm({ user }: { user: string }) {
  const qc = useQueryClient();
  const fileRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [label, setLabel] = useState('');
  const sequences = sequenceChoices(useModels().data);
  // Chosen by the reader for every upload, never defaulted or kept from the last one, and never switched for them:
  // a scan sent under another sequence would be read by the wrong model (a T1 taken for the FLAIR before it).
  const [sequence, setSequence] = useState<Sequence | ''>('');
  const chosenSequence = sequence ? sequences.find((s) => s.value === sequence) : undefined;
  const canAnalyse = !!chosenSequence?.available;
  const [localError, setLocalError] = useState<string | null>(null);
  const { rows, busy } = useUploadQueue(user);
  const [dragging, setDragging] = useState(false);
  const [reading, setReading] = useState(false);
  const sent = useRef(sentUploads);
  const patch = patchRow;
  const setBusy = setUploadBusy;

  function choose(list: FileList | File[] | null) {
    setLocalError(null);
    setFiles(list ? Array.from(list) : []);
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setLocalError(null);
    const chosen = planUploads(files.length ? files : Array.from(fileRef.current?.files ?? []));
    if (!chosen.length) {
      setLocalError('Choose a scan file to upload.');
      return;
    }
    if (!sequence) {
      setLocalError('Choose the scan’s sequence (T1, T2 or FLAIR): it decides which model reads the scan.');
      return;
    }
    if (!canAnalyse) {
      setLocalError(
        `${sequence.toUpperCase()} scans cannot be analysed here: the profile uploads run with has no model for ` +
          'them. Choose the scan’s sequence, or ask an administrator to install a model.',
      );
      return;
    }
    const batch: UploadRow[] = chosen.map((g, i) => ({
      key: `${Date.now()}-${i}`,
      name: g.name,
      progress: 0,
      state: 'waiting',
    }));
    startBatch(user, batch);
    setBusy(true);
    // the label names a single upload; several files are named by the server from their file names
    const useLabel = chosen.length === 1 ? label : undefined;
    // (a DICOM series is one request with all its files)
    let ok = 0;
    for (let i = 0; i < chosen.length; i++) {
      if (!ownsUploads(user)) break; // signed out meanwhile, and someone else uploads here now
      const row = batch[i];
      sent.current.set(row.key, { files: chosen[i].files, label: useLabel, sequence });
      if (await send(row.key)) ok++;
    }
    setBusy(false);
    if (ok === chosen.length) resetForm();
  }

  function resetForm() {
    setLabel('');
    setSequence('');
    setFiles([]);
    if (fileRef.current) fileRef.current.value = '';
    if (folderRef.current) folderRef.current.value = '';
  }

  /** Sends the row's upload (with `series`, the chosen one of several); true when the case was created. */
  async function send(key: string, series?: SeriesChoice): Promise<boolean> {
    const upload = sent.current.get(key);
    if (!upload) return false;
    patch(key, { state: 'uploading', progress: 0, choices: undefined, message: undefined });
    try {
      const created = await api.uploadCaseWithProgress(upload.files, {
        label: upload.label,
        sequence: upload.sequence,
        series: series?.choice,
        onProgress: (f) => patch(key, { progress: f }),
      });
      qc.setQueryData(keys.case(created.id), created);
      patch(key, { state: 'done', progress: 1 });
      return true;
    } catch (err) {
      const choices = seriesChoicesOf(err);
      patch(key, { state: 'error', message: errorMessage(err), choices: choices ?? undefined });
      return false;
    } finally {
      void qc.invalidateQueries({ queryKey: keys.allCases });
      void qc.invalidateQueries({ queryKey: keys.queue }); // a run now waits: is a worker there to take it?
    }
  }

  async function sendChosenSeries(key: string, series: SeriesChoice, seriesSequence: Sequence) {
    const upload = sent.current.get(key);
    if (busy || !upload) return;
    sent.current.set(key, { ...upload, sequence: seriesSequence });
    setBusy(true);
    try {
      // the form still shows the study and its sequence: once the series chosen is in, it is done with them
      if ((await send(key, series)) && rows.every((r) => r.key === key || r.state === 'done')) resetForm();
    } finally {
      setBusy(false);
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (busy) return;
    // folders are walked (DICOM series); the entries must be taken before this handler returns
    const pending = filesFromDrop(
      e.dataTransfer.items as unknown as Parameters<typeof filesFromDrop>[0],
      e.dataTransfer.files,
    );
    setReading(true);
    pending
      .then((dropped) => {
        if (fileRef.current) fileRef.current.value = '';
        if (folderRef.current) folderRef.current.value = '';
        if (!dropped.length) setLocalError('Nothing to upload in what was dropped.');
        else choose(dropped);
      })
      .catch((err) => setLocalError(`Could not read the dropped files: ${errorMessage(err)}`))
      .finally(() => setReading(false));
  }

  const plan = planUploads(files);

  return (
    <section
      className={`panel upload${dragging ? ' dragging' : ''}`}
      aria-labelledby="upload-title"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <h2 id="upload-title">Upload scan</h2>
      <form onSubmit={onSubmit} className="upload-form">
        <label className="field">
          <span>Scan file</span>
          <input
            ref={fileRef}
            type="file"
            name="files"
            accept={ACCEPT}
            multiple
            onChange={(e) => choose(e.target.files)}
          />
        </label>
        <label className="field">
          <span>Scan folder</span>
          <input
            ref={folderRef}
            type="file"
            name="folder"
            onChange={(e) => choose(e.target.files)}
            {...{ webkitdirectory: '', directory: '' }}
          />
        </label>
        <label className="field">
          <span>Case label</span>
          <input
            type="text"
            name="label"
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder={plan.length > 1 ? 'automatic for each scan (case-…)' : 'optional'}
            // not from the file names: those often hold the patient's name
            title={plan.length > 1 ? 'Each case is labelled from its content, never from its file name' : undefined}
            disabled={plan.length > 1}
            maxLength={200}
          />
        </label>
        <label className="field field-small">
          <span>Sequence</span>
          <select name="sequence" value={sequence} onChange={(e) => setSequence(e.target.value as Sequence)}>
            <option value="" disabled>
              Choose…
            </option>
            <SequenceOptions sequences={sequences} />
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || reading} aria-busy={busy}>
          Upload
        </button>
        <span className="muted small drop-hint" data-testid="upload-chosen">
          {reading
            ? 'Reading the dropped files… · '
            : plan.length
              ? `Chosen: ${plan.map((g) => g.name).join(', ')} · `
              : ''}
          or drop NIfTI (.nii, .nii.gz), a zip, DICOM files or a DICOM folder here; brain-extracted scans only
        </span>
      </form>
      {chosenSequence?.checksOnly && (
        <p className="checks-only-notice small" data-testid="checks-only-note">
          No model reads {sequence.toUpperCase()} scans here: they get the rescan checks alone (missing slices,
          motion, noise and other acquisition problems) and are <strong>not screened for lesions</strong>. Each one
          goes to the worklist for a full read.
        </p>
      )}
      {localError && (
        <div className="error-box" role="alert">
          {localError}
        </div>
      )}
      {rows.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {rows.map((r) => (
            <li key={r.key} className={`upload-row up-${r.state}`}>
              <span className="up-name">{r.name}</span>
              {(r.state === 'uploading' || r.state === 'waiting') && (
                <span
                  className="progress"
                  role="progressbar"
                  aria-label={`Upload progress for ${r.name}`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={Math.round(r.progress * 100)}
                >
                  <span className="progress-fill" style={{ width: `${Math.round(r.progress * 100)}%` }} />
                </span>
              )}
              {r.state === 'waiting' && <span className="muted small">waiting</span>}
              {r.state === 'uploading' && (
                <span className="muted small">
                  {/* all sent, the server still converts, de-identifies and checks it: a bar at 100 % looks stuck */}
                  {r.progress >= 1 ? 'sent; the server is checking the scan…' : `${Math.round(r.progress * 100)}%`}
                </span>
              )}
              {r.state === 'done' && (
                <span className="ok-text" role="status">
                  Uploaded; queued for analysis.
                </span>
              )}
              {r.state === 'error' && r.choices && (
                <SeriesChooser
                  choices={r.choices}
                  busy={busy}
                  sequences={sequences}
                  sequence={sent.current.get(r.key)?.sequence ?? 't1'}
                  onChoose={(choice, seq) => void sendChosenSeries(r.key, choice, seq)}
                />
              )}
              {r.state === 'error' && !r.choices && (
                <span className="error-text" role="alert">
                  <MessageWithCaseLink text={r.message ?? ''} />
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The server names the case an upload duplicates ("… already uploaded as case 4.", or the case a stored scan
 * awaits a re-run in): that case becomes a link, so the reader need not search for it. */
function MessageWithCaseLink({ text }: { text: string }) {
  const m = /\bcase (\d+)\b/.exec(text);
  if (!m) return <>{text}</>;
  return (
    <>
      {text.slice(0, m.index)}
      <Link to={`/cases/${m[1]}`}>case {m[1]}</Link>
      {text.slice(m.index + m[0].length)}
    </>
  );
}
