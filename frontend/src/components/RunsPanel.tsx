import { useEffect, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys, useModels, useRuns } from '../api/queries';
import type { CaseDetail, Job } from '../api/types';
import { formatDateTime, isActive } from '../lib/format';
import { firstAvailable, profileChoices, SEQUENCES, type Sequence } from '../lib/modelChoices';

interface Props {
  c: CaseDetail;
  /** clinicians and coordinators may re-run and cancel */
  canRerun: boolean;
  onNotice: (text: string) => void;
}

export function runStatusText(j: Pick<Job, 'status' | 'progress' | 'stage'>): string {
  if (j.status === 'running') return `running ${Math.max(0, Math.min(100, j.progress))}%${j.stage ? ` · ${j.stage}` : ''}`;
  return j.status;
}

/**
 * Per-case run numbers: the case's first run is Run 1, the next Run 2, … in the order they were requested.
 * Keyed by job id (the id is global across cases, so it is no run number for a reader).
 */
export function runNumbers(runs: readonly Pick<Job, 'id' | 'created_at'>[]): Map<number, number> {
  const ordered = [...runs].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
  return new Map(ordered.map((j, i) => [j.id, i + 1]));
}

/** The number of run `job` among `runs`; a job not listed yet (just queued) counts after the listed older ones. */
export function runNumberOf(runs: readonly Pick<Job, 'id' | 'created_at'>[], job: Pick<Job, 'id'>): number {
  return runNumbers(runs).get(job.id) ?? runs.filter((j) => j.id < job.id).length + 1;
}

const SEQUENCE_NAMES: Record<Sequence, string> = { t1: 'T1', t2: 'T2', flair: 'FLAIR' };

/**
 * What a re-run takes off the case page: verdicts are given on a run's flags, and the new run makes flags of its
 * own, which start without any. `own`: the viewer's flag verdicts on the shown run; `others`: other readers'
 * verdicts on its flags, where the viewer sees them ("verdicts"), or, for a blind reader, that others have read
 * the case at all ("read": what they gave is hidden). Null when there is nothing to lose.
 */
export function readsOnShownRun(c: CaseDetail): { own: number; others: 'verdicts' | 'read' | null } | null {
  const flags = c.flags ?? [];
  const own = flags.filter((f) => f.verdict).length;
  const others = flags.some((f) => (f.other_verdicts ?? []).length > 0)
    ? 'verdicts'
    : c.other_verdicts_hidden && c.other_readers > 0
      ? 'read'
      : null;
  return own > 0 || others ? { own, others } : null;
}

export function readsText(reads: { own: number; others: 'verdicts' | 'read' | null }, run: string): string {
  const yours = reads.own > 0 ? `yours on ${reads.own} flag${reads.own === 1 ? '' : 's'}` : '';
  const given =
    reads.others === 'verdicts'
      ? `${run}'s flags have verdicts (${[yours, "other readers'"].filter(Boolean).join(' and ')}).`
      : reads.others === 'read'
        ? `${yours ? `${run}'s flags have verdicts (${yours}), and other` : 'Other'} readers have read this case ` +
          `(whether they gave verdicts on ${run}'s flags is hidden until your own case verdict).`
        : `${run}'s flags have verdicts (${yours}).`;
  return (
    `${given} A re-run makes flags of its own, which start without verdicts: any verdicts on ${run}'s flags stay ` +
    'recorded with it (audit trail, statistics), but the case page, the worklist and the export then show the new ' +
    "run's flags, to be read again."
  );
}

/**
 * Run history of the case, with "Re-run" (model profile, and the sequence: a scan uploaded as the wrong one cannot be
 * uploaded again, so it is corrected here) and "Cancel run" for a queued run.
 */
export function RunsPanel({ c, canRerun, onNotice }: Props) {
  const qc = useQueryClient();
  const runs = useRuns(c.id);
  const models = useModels();
  const [pickedSequence, setPickedSequence] = useState<Sequence | null>(null);
  // after a run refused the scan as another sequence, that sequence is the one to offer; the same one would fail
  // the same way, so it cannot be re-run as such
  const mismatch = c.failure === 'sequence_mismatch';
  const sequence = pickedSequence ?? ((mismatch && c.looks_like) || (c.sequence as Sequence));
  const refusedAgain = mismatch && sequence === c.sequence;
  const stated = SEQUENCE_NAMES[c.sequence as Sequence] ?? c.sequence;
  const choices = profileChoices(models.data, sequence);
  const [picked, setPicked] = useState<string | null>(null);
  // the reader's pick while it can run, else the installation's default profile, else any that can run
  const profile = firstAvailable(choices, picked ?? models.data?.default_profile ?? 'fast');
  const [error, setError] = useState<string | null>(null);
  // asked once before a re-run would leave the readers' verdicts behind with the shown run
  const [asking, setAsking] = useState(false);

  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.case(c.id) });
    void qc.invalidateQueries({ queryKey: keys.allCases });
    void qc.invalidateQueries({ queryKey: keys.queue }); // a run now waits: is a worker there to take it?
  };
  const rerun = useMutation({
    mutationFn: ({ p, seq }: { p: string; seq: Sequence }) => api.rerun(c.id, p, seq !== c.sequence ? seq : null),
    onMutate: () => setError(null),
    onSuccess: (job, { seq }) => {
      const as = seq !== c.sequence ? `, as ${SEQUENCE_NAMES[seq]}` : '';
      onNotice(`Run ${runNumberOf(runs.data ?? [], job)} queued (${job.screening === 'checks' ? 'rescan checks only' : job.model_profile}${as})`);
      setPickedSequence(null); // the case is now of that sequence
      refresh();
    },
    onError: (e) => setError(`Re-run not started: ${errorMessage(e)}`),
  });
  const cancel = useMutation({
    mutationFn: (jobId: number) => api.cancelJob(jobId),
    onMutate: () => setError(null),
    onSuccess: (job) => {
      onNotice(`Run ${runNumberOf(runs.data ?? [], job)} cancelled`);
      refresh();
    },
    onError: (e) => {
      setError(`Run not cancelled: ${errorMessage(e)}`);
      refresh();
    },
  });

  // the case's status or shown result moved on (polled by the page): the history changed too, also when a re-run
  // went from requested to succeeded between two polls (the status then reads "succeeded" both times)
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: keys.runs(c.id) });
  }, [c.status, c.result_run_id, qc, c.id]);

  const list = runs.data ?? [];
  const numbers = runNumbers(list);
  const pending = list.some((j) => isActive(j.status)) || isActive(c.status);
  const reads = readsOnShownRun(c);
  const shownRun = c.result_run_id != null && numbers.has(c.result_run_id) ? `Run ${numbers.get(c.result_run_id)}` : 'The shown run';
  const startRerun = () => {
    setAsking(false);
    if (profile) rerun.mutate({ p: profile, seq: sequence });
  };

  return (
    <section className="panel runs-panel" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      {canRerun && (
        <form
          className="rerun-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (rerun.isPending || pending || !profile || refusedAgain) return;
            if (reads && !asking) setAsking(true);
            else startRerun();
          }}
        >
          <label className="field-inline">
            <span>Sequence</span>
            <select value={sequence} onChange={(e) => setPickedSequence(e.target.value as Sequence)}>
              {SEQUENCES.map((s) => (
                <option key={s} value={s}>
                  {SEQUENCE_NAMES[s]}
                </option>
              ))}
            </select>
          </label>
          <label className="field-inline">
            <span>Model profile</span>
            <select value={profile ?? ''} onChange={(e) => setPicked(e.target.value)}>
              {choices.map((p) => (
                <option key={p.value} value={p.value} disabled={!p.available}>
                  {p.note ? `${p.value} (${p.note})` : p.value}
                </option>
              ))}
            </select>
          </label>
          <button
            type="submit"
            disabled={rerun.isPending || pending || !profile || refusedAgain}
            aria-busy={rerun.isPending}
            title={
              pending
                ? 'A run of this case is still queued or running'
                : refusedAgain
                  ? `As ${stated} it would fail the same way: choose the sequence it is`
                  : profile
                    ? 'Analyse this case again'
                    : `No model for ${SEQUENCE_NAMES[sequence]} scans is installed`
            }
          >
            Re-run
          </button>
          {asking && reads && (
            <div className="inline-form" role="group" aria-label="Re-run a case that has verdicts?">
              <span className="small">{readsText(reads, shownRun)}</span>
              <button type="submit" disabled={rerun.isPending || pending || !profile || refusedAgain}>
                Re-run anyway
              </button>
              <button type="button" onClick={() => setAsking(false)}>
                Cancel
              </button>
            </div>
          )}
          {sequence !== c.sequence && (
            <p className="small" data-testid="sequence-change">
              The case becomes a {SEQUENCE_NAMES[sequence]} scan for this run and every later one (it was uploaded as{' '}
              {SEQUENCE_NAMES[c.sequence as Sequence] ?? c.sequence}); the audit trail records the change.
            </p>
          )}
        </form>
      )}
      {canRerun && mismatch && (
        <p className="info-box small" role="note" data-testid="sequence-mismatch">
          {c.looks_like ? (
            <>
              The last run found that the scan looks like a {SEQUENCE_NAMES[c.looks_like]} scan, not {stated}, so{' '}
              {SEQUENCE_NAMES[c.looks_like]} is chosen above. Re-run it as that if it is right, or choose the sequence
              it is; as {stated} it would fail the same way.
            </>
          ) : (
            <>
              The last run found that the scan does not look like a {stated} scan (its error says what it looks like).
              If that is right, choose its sequence above and re-run it; as {stated} it would fail the same way.
            </>
          )}
        </p>
      )}
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      {runs.isPending ? (
        <p className="muted small">Loading runs…</p>
      ) : runs.isError ? (
        <div className="error-box" role="alert">
          Could not load the runs: {errorMessage(runs.error)}{' '}
          <button type="button" onClick={() => void runs.refetch()}>
            Retry loading runs
          </button>
        </div>
      ) : (
        <ol className="runs" aria-label="Run history">
          {list.map((j) => (
            <li key={j.id} className={`run run-${j.status}`} data-run-id={j.id} data-status={j.status}>
              <div className="run-head">
                <strong title={`Job ${j.id}`}>Run {numbers.get(j.id)}</strong>{' '}
                <span className="muted">{j.screening === 'checks' ? 'rescan checks only' : j.model_profile}</span>{' '}
                <span className={`run-status st-${j.status}`}>{runStatusText(j)}</span>
              </div>
              <div className="muted small">
                requested {formatDateTime(j.created_at)}
                {j.finished_at ? ` · finished ${formatDateTime(j.finished_at)}` : ''}
                {j.attempts > 1 ? ` · ${j.attempts} attempts` : ''}
              </div>
              {j.error && <div className="error-text small">{j.error}</div>}
              {canRerun && j.status === 'queued' && (
                <button
                  type="button"
                  onClick={() => cancel.mutate(j.id)}
                  disabled={cancel.isPending}
                  aria-busy={cancel.isPending}
                >
                  Cancel run
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
