import type { CaseDetail } from '../api/types';
import { earlierResultText, formatScore, hasResult, isActive, smallestFlagText } from '../lib/format';
import { isChecksOnly } from './ChecksOnlyNotice';
import { qualityText } from './QualityNotice';

/** The engine's scan-level result: score, triage, subject threshold, passes, run time, smallest flag, quality (for
 * a checks-only result: what ran, triage, run time, quality). */
export function ResultSummary({ c }: { c: CaseDetail }) {
  const checksOnly: [string, string][] = [
    ['Screening', 'Rescan checks only'],
    ['Triage', c.triage ?? '—'],
    ['Run time', c.seconds == null ? '—' : `${c.seconds.toFixed(1)} s`],
  ];
  const facts: [string, string][] = isChecksOnly(c) ? checksOnly : [
    ['Score', formatScore(c.score)],
    ['Triage', c.triage ?? '—'],
    ['Threshold', c.threshold == null ? '—' : c.threshold.toFixed(4)],
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
