import type { CaseSummary } from '../api/types';
import { clampPercent, statusText } from '../lib/format';

export function StatusCell({ c }: { c: Pick<CaseSummary, 'status' | 'progress' | 'stage' | 'label'> }) {
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

export function TriageChip({ triage }: { triage: string | null | undefined }) {
  if (!triage) return null;
  return <span className={`chip triage-${triage}`}>{triage}</span>;
}
