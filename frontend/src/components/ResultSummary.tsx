import type { CaseDetail } from '../api/types';
import { formatScore, isActive } from '../lib/format';
import { qualityText } from './QualityNotice';

/** The engine's scan-level result: score, triage, subject threshold, passes, run time, quality. */
export function ResultSummary({ c }: { c: CaseDetail }) {
  const succeeded = c.status === 'succeeded';
  return (
    <section className="panel" aria-labelledby="summary-title">
      <h2 id="summary-title">Result</h2>
      {isActive(c.status) ? (
        <p className="muted">{c.status === 'queued' ? 'Waiting for a worker…' : `Analysing: ${c.stage ?? 'working'}`}</p>
      ) : (
        <dl className="facts">
          <div>
            <dt>Score</dt>
            <dd>{formatScore(c.score)}</dd>
          </div>
          <div>
            <dt>Triage</dt>
            <dd>{c.triage ?? '—'}</dd>
          </div>
          <div>
            <dt>Threshold</dt>
            <dd>{c.threshold == null ? '—' : c.threshold.toFixed(4)}</dd>
          </div>
          <div>
            <dt>Passes</dt>
            <dd>{c.passes ?? '—'}</dd>
          </div>
          <div>
            <dt>Run time</dt>
            <dd>{c.seconds == null ? '—' : `${c.seconds.toFixed(1)} s`}</dd>
          </div>
          <div className="wide">
            <dt>Quality</dt>
            <dd>{succeeded ? qualityText(c.quality ?? []) : '—'}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
