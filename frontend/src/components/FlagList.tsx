import { useEffect, useRef } from 'react';
import type { Flag, VerdictValue } from '../api/types';
import { formatMl, formatVec, smallestFlagText, verdictText } from '../lib/format';

interface Props {
  flags: Flag[];
  selected: number;
  savingFlagId: number | null;
  reasons: Record<number, string>;
  onSelect: (index: number) => void;
  onVerdict: (index: number, verdict: VerdictValue) => void;
  onReason: (flagId: number, reason: string) => void;
  labelledBy: string;
  /** false for roles that may look but not record verdicts */
  canReview: boolean;
  /** smallest region the model reports (mL); null when the result predates the engine saying so */
  minFlagMl?: number | null;
}

const BUTTONS: { verdict: VerdictValue; text: string; key: string }[] = [
  { verdict: 'accept', text: 'Accept', key: 'A' },
  { verdict: 'reject', text: 'Reject', key: 'R' },
  { verdict: 'unsure', text: 'Unsure', key: 'U' },
];

export function FlagList({
  flags,
  selected,
  savingFlagId,
  reasons,
  onSelect,
  onVerdict,
  onReason,
  labelledBy,
  canReview,
  minFlagMl = null,
}: Props) {
  const itemRefs = useRef<(HTMLLIElement | null)[]>([]);

  useEffect(() => {
    itemRefs.current[selected]?.scrollIntoView?.({ block: 'nearest' });
  }, [selected]);

  // A clean list only means "nothing this large": say how large, so small lesions are still looked for.
  const floor = smallestFlagText(minFlagMl);
  const floorNote = floor === '—' ? null : `Regions smaller than ${floor} are not flagged.`;
  if (flags.length === 0) {
    return (
      <p className="muted">
        No flags: the model found no anomalous region above its threshold.{floorNote && ` ${floorNote}`}
      </p>
    );
  }

  return (
    <>
    {floorNote && <p className="muted small">{floorNote}</p>}
    {!canReview && <p className="muted small">Only clinicians record verdicts; you can look but not change them.</p>}
    <ul className="flag-list" role="list" aria-labelledby={labelledBy}>
      {flags.map((f, i) => {
        const isSel = i === selected;
        const v = f.verdict?.verdict ?? null;
        const saving = savingFlagId === f.id;
        return (
          <li
            key={f.id}
            ref={(el) => {
              itemRefs.current[i] = el;
            }}
            className={`flag${isSel ? ' selected' : ''}${v ? ` verdict-${v}` : ''}`}
            aria-current={isSel ? 'true' : undefined}
            data-flag-id={f.id}
            data-flag-label={f.label}
            data-verdict={v ?? ''}
            onClick={(e) => {
              // clicks on the controls inside handle themselves
              if ((e.target as HTMLElement).closest('button, input, select, textarea')) return;
              onSelect(i);
            }}
          >
            <div className="flag-head">
              <button
                type="button"
                className="flag-title link-like"
                aria-label={`Go to flag ${f.label}`}
                onClick={() => onSelect(i)}
              >
                Flag {f.label}
              </button>
              <span className={`verdict-text${v ? ` v-${v}` : ''}`}>
                {saving ? 'Saving…' : verdictText(v)}
              </span>
            </div>
            <dl className="flag-facts">
              <div>
                <dt>Volume</dt>
                <dd>{formatMl(f.volume_ml)} mL</dd>
              </div>
              <div>
                <dt>Max</dt>
                <dd>{f.max_anomaly.toFixed(2)}</dd>
              </div>
              <div className="wide">
                <dt>Centroid</dt>
                <dd>({formatVec(f.centroid_mm)}) mm</dd>
              </div>
            </dl>
            <div className="verdict-buttons" role="group" aria-label={`Verdict for flag ${f.label}`}>
              {BUTTONS.map((b) => (
                <button
                  key={b.verdict}
                  type="button"
                  className={`vbtn vbtn-${b.verdict}`}
                  aria-label={`${b.text} flag ${f.label}`}
                  aria-pressed={v === b.verdict}
                  disabled={saving || !canReview}
                  title={`${b.text} (${b.key})`}
                  onClick={() => onVerdict(i, b.verdict)}
                >
                  {b.text}
                </button>
              ))}
            </div>
            {isSel && canReview && (
              <label className="field reason">
                <span>Reason for flag {f.label}</span>
                <input
                  type="text"
                  value={reasons[f.id] ?? f.verdict?.reason ?? ''}
                  onChange={(e) => onReason(f.id, e.target.value)}
                  placeholder="optional, saved with the verdict"
                  maxLength={500}
                />
              </label>
            )}
            {f.verdict && (
              <p className="muted small">
                by {f.verdict.reviewer}
                {f.verdict.reason ? ` · ${f.verdict.reason}` : ''}
              </p>
            )}
          </li>
        );
      })}
    </ul>
    </>
  );
}
