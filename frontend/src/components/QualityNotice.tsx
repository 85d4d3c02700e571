import type { QualityIssue } from '../api/types';

// Kinds the engine reports when part of the brain was not imaged (slices missing, brain cut off, a blank
// region of one constant intensity); every other kind is a signal problem (noise, a k-space spike, a zipper
// line, ghosting, motion, a strong bias field) over a scan that is complete.
const COVERAGE_KINDS = new Set(['missing_slices', 'cut_off', 'blank_region']);

/** The notice's heading: what a reader must know first about why the scan should be repeated. */
export function qualityHeading(issues: QualityIssue[]): string {
  const coverage = issues.some((issue) => COVERAGE_KINDS.has(issue.kind));
  const signal = issues.some((issue) => !COVERAGE_KINDS.has(issue.kind));
  if (coverage && signal) return 'Incomplete scan with image artefacts: rescan recommended';
  return coverage ? 'Incomplete scan: rescan recommended' : 'Image artefact: rescan recommended';
}

/**
 * The engine's acquisition problems (slices missing inside the brain, brain cut off, heavy noise, stripes, zipper
 * lines, ghosting, motion, strong bias field): the scan should be repeated, so this sits above the viewer, where the reader looks
 * first. Nothing when the scan looks fine.
 */
export function QualityNotice({ issues }: { issues: QualityIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <section className="quality-notice" role="alert" aria-labelledby="quality-title">
      <h2 id="quality-title">{qualityHeading(issues)}</h2>
      <ul aria-label="Acquisition problems">
        {issues.map((issue, i) => (
          <li key={i} data-kind={issue.kind}>
            {issue.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** One line for the case's result facts. */
export function qualityText(issues: QualityIssue[]): string {
  if (issues.length === 0) return 'No acquisition problems found';
  const n = issues.length;
  return `${n} acquisition problem${n === 1 ? '' : 's'}: rescan recommended`;
}
