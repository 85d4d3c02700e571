import { useId, useState } from 'react';
import { ApiError } from '../api/errors';
import type { SeriesChoice } from '../api/types';
import type { Choice, Sequence } from '../lib/modelChoices';
import { SequenceOptions } from './SequenceOptions';

/** The series the server listed for an upload of several DICOM series (a whole study); null for any other error. */
export function seriesChoicesOf(err: unknown): SeriesChoice[] | null {
  if (!(err instanceof ApiError) || err.status !== 422) return null;
  const series = (err.body as { series?: unknown } | undefined)?.series;
  return Array.isArray(series) && series.length > 1 ? (series as SeriesChoice[]) : null;
}

/** "Series 3 · *tfl3d1 · 3D · sagittal · 176 images · 1 mm": how the scanner and PACS viewers name a series. */
export function seriesLabel(s: SeriesChoice): string {
  return [
    `Series ${s.number ?? '?'}`,
    s.sequence || s.modality || null,
    s.acquisition || null,
    s.plane || null,
    `${s.images} images`,
    s.slice_mm != null ? `${s.slice_mm} mm` : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * Lets the uploader pick one series of a study that was uploaded whole, and the sequence it is; `onChoose` sends
 * the same files again with that series' choice token. Nothing is chosen for them: the series list of a study often
 * holds a T1 and a FLAIR of the same size, and the wrong one would be read by the wrong model. The sequence is asked
 * here again, beside the series, because the one given for the whole upload may well be another series'.
 */
export function SeriesChooser({
  choices,
  onChoose,
  busy,
  sequences,
  sequence: sentAs,
}: {
  choices: SeriesChoice[];
  onChoose: (choice: SeriesChoice, sequence: Sequence) => void;
  busy: boolean;
  /** the sequences the upload form offers */
  sequences: Choice[];
  /** the sequence the whole upload was sent as, the starting choice */
  sequence: Sequence;
}) {
  const name = useId();
  const [picked, setPicked] = useState<string | null>(null);
  const [sequence, setSequence] = useState<Sequence>(sentAs);
  const chosen = choices.find((c) => c.choice === picked);
  return (
    <fieldset className="series-chooser">
      <legend>This upload holds {choices.length} series. Choose the one to analyse:</legend>
      {choices.map((c) => (
        <label key={c.choice} className="series-option">
          <input
            type="radio"
            name={name}
            value={c.choice}
            checked={picked === c.choice}
            disabled={c.modality !== 'MR' || busy}
            onChange={() => setPicked(c.choice)}
          />
          {seriesLabel(c)}
          {c.modality !== 'MR' && <span className="muted small"> (not MR)</span>}
        </label>
      ))}
      <label className="field-inline">
        <span>Sequence of this series</span>
        <select value={sequence} onChange={(e) => setSequence(e.target.value as Sequence)} disabled={busy}>
          <SequenceOptions sequences={sequences} />
        </select>
      </label>
      <button type="button" disabled={!chosen || busy} onClick={() => chosen && onChoose(chosen, sequence)}>
        {chosen ? `Upload series ${chosen.number ?? '?'}` : 'Upload the chosen series'}
      </button>
    </fieldset>
  );
}
