import type { CaseSummary } from '../api/types';
import { clampPercent, statusText } from '../lib/format';

export function StatusCell({
  c,
}: {
  c: Pick<CaseSummary, 'status' | 'progress' | 'stage' | 'label'> & Partial<Pick<CaseSummary, 'failure'>>;
}) {
  const text = statusText(c);
  return (
    <span className={`status status-${c.status}`}>
      <span className="status-text">{text}</span>
      {c.status === 'running' && (
        <span
          className="progress"
          role="progressbar"
          aria-label={`Analysis progress for ${c.label}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={clampPercent(c.progress)}
        >
          <span className="progress-fill" style={{ width: `${clampPercent(c.progress)}%` }} />
        </span>
      )}
    </span>
  );
}

// A rescan may be for missing coverage or for an image artefact; the case page says which.
const RESCAN_TITLE = 'Acquisition problem: rescan recommended';

export function TriageChip({ triage }: { triage: string | null | undefined }) {
  if (!triage) return null;
  return (
    <span className={`chip triage-${triage}`} title={triage === 'rescan' ? RESCAN_TITLE : undefined}>
      {triage}
    </span>
  );
}

/** Share of lesions of 1 cm or more a model may miss in testing before a "routine" from it needs a caveat. */
const MISSED_CAVEAT_SHARE = 0.25;

/** The triage chip, plus a rescan chip when an urgent (or other) result also found acquisition problems, a
 * "not screened" chip when only the rescan checks ran, and a "low sensitivity" chip beside a routine result from
 * a model that missed many lesions in testing. */

export function TriageChips({
  c,
}: {
  c: Pick<CaseSummary, 'triage' | 'rescan_recommended' | 'screening'> & Partial<Pick<CaseSummary, 'missed_in_testing'>>;
}) {
  const missed = c.missed_in_testing;
  // a routine scan is one without flags: worth only what the model finds, which the row must say where it is little
  const caveat = c.triage === 'routine' && missed && missed.missed > MISSED_CAVEAT_SHARE * missed.total;
  return (
    <>
      <TriageChip triage={c.triage} />
      {caveat && (
        <span
          className="chip chip-caveat"
          title={`No flag does not rule out a lesion: in testing, this model missed ${missed.missed} of ${missed.total} lesions of 1 cm or more`}
        >
          low sensitivity
        </span>
      )}
      {c.rescan_recommended && c.triage !== 'rescan' && <TriageChip triage="rescan" />}
      {c.screening === 'checks' && (
        <span className="chip chip-checks" title="Rescan checks only: no model read this sequence, so no lesion search ran">
          not screened
        </span>
      )}
    </>
  );
}
