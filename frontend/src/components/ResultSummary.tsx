import type { CaseDetail } from '../api/types';
import { earlierResultText, formatScore, hasResult, isActive, smallestFlagText } from '../lib/format';
import { isChecksOnly } from './ChecksOnlyNotice';
import { qualityText } from './QualityNotice';

/** The engine's scan-level result: score, triage, subject threshold, passes, run time, smallest flag, quality (for
 * a checks-only result: what ran, triage, run time, quality). */
/** A share of the brain as a percentage, with enough digits to tell a small flag from none. */
export function brainPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${percent === 0 ? '0' : percent < 0.01 ? '< 0.01' : percent.toFixed(2)} %`;
}

export function ResultSummary({ c }: { c: CaseDetail }) {
  const checksOnly: [string, string][] = [
    ['Screening', 'Rescan checks only'],
    ['Triage', c.triage ?? '—'],
    ['Run time', c.seconds == null ? '—' : `${c.seconds.toFixed(1)} s`],
  ];
  const facts: [string, string][] = isChecksOnly(c) ? checksOnly : [
    // the score is the share of the brain left masked, the threshold a reconstruction error: two scales, each named,
    // so that a score "below" the threshold reads as what it is
    ['Score', c.score == null ? '—' : `${formatScore(c.score)} (${brainPercent(c.score)} of the brain flagged)`],
    ['Triage', c.triage ?? '—'],
    ['Error threshold', c.threshold == null ? '—' : `${c.threshold.toFixed(4)} (this scan's own)`],
    ['Passes', c.passes == null ? '—' : String(c.passes)],
    ['Run time', c.seconds == null ? '—' : `${c.seconds.toFixed(1)} s`],
    ['Smallest flag', smallestFlagText(c.min_flag_ml)],
  ];
  return (
    <section className="panel" aria-labelledby="summary-title">
      <h2 id="summary-title">Result</h2>
      {isActive(c.status) && (
        <p className="muted">{c.status === 'queued' ? 'Waiting for a worker…' : `Analysing: ${c.stage ?? 'working'}`}</p>
      )}
      {earlierResultText(c) && <p className="info-box earlier-result">{earlierResultText(c)}</p>}
      {(hasResult(c) || !isActive(c.status)) && (
        <dl className="facts">
          {facts.map(([term, value]) => (
            <div key={term}>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
          <div className="wide">
            <dt>Quality</dt>
            <dd>{hasResult(c) ? qualityText(c.quality ?? []) : '—'}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
