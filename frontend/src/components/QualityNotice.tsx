import type { QualityIssue } from '../api/types';

/**
 * The engine's acquisition problems (slices missing inside the brain, brain cut off): the scan should be
 * repeated, so this sits above the viewer, where the reader looks first. Nothing when the scan looks complete.
 */
export function QualityNotice({ issues }: { issues: QualityIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <section className="quality-notice" role="alert" aria-labelledby="quality-title">
      <h2 id="quality-title">Incomplete scan: rescan recommended</h2>
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
