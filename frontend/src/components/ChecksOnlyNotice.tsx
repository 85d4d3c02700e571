import type { CaseSummary } from '../api/types';

/** True when the shown result comes from the rescan checks alone: no model read the scan's sequence. */
export function isChecksOnly(c: Pick<CaseSummary, 'screening' | 'result_run_id'>): boolean {
  return c.result_run_id != null && c.screening === 'checks';
}

/**
 * Above the viewer, where the reader looks first: a result without flags must not read as a clean scan when no
 * lesion search ran at all. Shown for checks-only results (a sequence no installed model reads).
 */
export function ChecksOnlyNotice({ c }: { c: Pick<CaseSummary, 'screening' | 'result_run_id' | 'sequence'> }) {
  if (!isChecksOnly(c)) return null;
  return (
    <section className="checks-only-notice" role="note" aria-labelledby="checks-only-title">
      <h2 id="checks-only-title">Not screened for lesions</h2>
      <p>
        No model reads {c.sequence.toUpperCase()} scans here, so only the rescan checks ran (missing slices, motion,
        noise and other acquisition problems). Nothing on this scan was looked at for lesions: read it in full.
      </p>
    </section>
  );
}
