import { useEffect, useRef } from 'react';
import type { Flag, VerdictValue } from '../api/types';
import { formatDateTime, formatMl, formatVec, smallestFlagText, verdictText } from '../lib/format';

interface Props {
  flags: Flag[];
  selected: number;
  savingFlagId: number | null;
  reasons: Record<number, string>;
  onSelect: (index: number) => void;
  onVerdict: (index: number, verdict: VerdictValue) => void;
  onReason: (flagId: number, reason: string) => void;
  /** the reason field was left or Enter pressed: save a reason edited after the verdict */
  onReasonCommit?: (flagId: number) => void;
  labelledBy: string;
  /** false for roles that may look but not record verdicts */
  canReview: boolean;
  /** smallest region the model reports (mL); null when the result predates the engine saying so */
  minFlagMl?: number | null;
  /** the viewer's verdicts on an earlier run's flags, which a re-run's flags do not carry */
  earlierRunVerdicts?: number;
  /** the save under way waits for the network (offline): it is sent once the connection returns */
  waitingForConnection?: boolean;
}

/** Said above a re-run's flags to a reader who gave verdicts on an earlier run's: their reading was not lost. */
export function earlierRunText(n: number): string {
  return (
    `You gave verdicts on ${n} flag${n === 1 ? '' : 's'} of an earlier run of this case. This run found flags of ` +
    'its own, which need your verdict; the earlier ones stay recorded with their run (audit trail, statistics).'
  );
}

/** A reason typed and not saved yet (differs from the one saved with the viewer's verdict). */
export function reasonUnsaved(f: Flag, reasons: Record<number, string>): boolean {
  const typed = reasons[f.id];
  return typed !== undefined && typed.trim() !== (f.verdict?.reason ?? '').trim();
}

/** The flag's state for the viewer: their own verdict, or that they (or, for non-readers, anyone) have none. */
export function ownFlagStatus(f: Flag, canReview: boolean): string {
  if (f.verdict) return verdictText(f.verdict.verdict);
  if (canReview) return 'You have not reviewed this flag';
  const n = f.other_verdicts?.length ?? 0;
  return n ? `Reviewed by ${n} reader${n === 1 ? '' : 's'}` : 'No reader has reviewed this flag';
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
  onReasonCommit,
  labelledBy,
  canReview,
  minFlagMl = null,
  earlierRunVerdicts = 0,
  waitingForConnection = false,
}: Props) {
  const itemRefs = useRef<(HTMLLIElement | null)[]>([]);
  // a verdict button of this flag is being pressed: its click saves the typed reason with the verdict, so the
  // reason field's blur (which comes first) must not save it on its own
  const pressingVerdict = useRef<number | null>(null);

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
    {canReview && earlierRunVerdicts > 0 && flags.some((f) => !f.verdict) && (
      <p className="info-box small" role="note" data-testid="earlier-run-verdicts">
        {earlierRunText(earlierRunVerdicts)}
      </p>
    )}
    {!canReview && (
      <p className="muted small">Only clinicians record verdicts; you see theirs below each flag but cannot change them.</p>
    )}
    <ul className="flag-list" role="list" aria-labelledby={labelledBy}>
      {flags.map((f, i) => {
        const isSel = i === selected;
        const v = f.verdict?.verdict ?? null;
        const saving = savingFlagId === f.id;
        const others = f.other_verdicts ?? [];
        const unsaved = canReview && reasonUnsaved(f, reasons);
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
                {saving
                  ? waitingForConnection
                    ? 'Offline: waiting to save'
                    : 'Saving…'
                  : ownFlagStatus(f, canReview)}
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
            <div
              className="verdict-buttons"
              role="group"
              aria-label={`Verdict for flag ${f.label}`}
              onPointerDown={() => {
                pressingVerdict.current = f.id;
              }}
            >
              {BUTTONS.map((b) => (
                <button
                  key={b.verdict}
                  type="button"
                  className={`vbtn vbtn-${b.verdict}`}
                  aria-label={`${b.text} flag ${f.label}`}
                  aria-pressed={v === b.verdict}
                  // aria-disabled, not disabled, while saving: the button just pressed keeps the keyboard focus
                  // (a focused button that becomes disabled hands it to the page)
                  disabled={!canReview}
                  aria-disabled={saving || undefined}
                  title={`${b.text} (${b.key})`}
                  onClick={() => {
                    pressingVerdict.current = null;
                    if (saving) return;
                    onVerdict(i, b.verdict);
                  }}
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
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      onReasonCommit?.(f.id);
                    }
                  }}
                  onBlur={() => {
                    if (pressingVerdict.current === f.id) {
                      pressingVerdict.current = null;
                      return;
                    }
                    onReasonCommit?.(f.id);
                  }}
                  placeholder={f.verdict ? 'optional; Enter or leaving the field saves it' : 'optional, saved with the verdict'}
                  maxLength={500}
                />
              </label>
            )}
            {unsaved && (
              <p className="small unsaved-reason" data-testid={`unsaved-reason-${f.label}`}>
                {f.verdict
                  ? `Reason not saved yet${isSel ? ': press Enter or leave the field' : `: “${reasons[f.id]}”`}`
                  : `Reason will be saved with your verdict${isSel ? '' : `: “${reasons[f.id]}”`}`}
              </p>
            )}
            {f.verdict && (
              <p className="muted small own-verdict">
                Your verdict
                {f.verdict.reason ? ` · ${f.verdict.reason}` : ''}
                {` · ${formatDateTime(f.verdict.updated_at)}`}
              </p>
            )}
            {others.length > 0 && (
              <div className="other-verdicts" role="group" aria-label={`Other readers' verdicts on flag ${f.label}`}>
                {others.map((o) => (
                  <p
                    key={o.reviewer}
                    className="small other-verdict"
                    data-reviewer={o.reviewer}
                    data-verdict={o.verdict}
                    title={`${o.reviewer} · ${formatDateTime(o.updated_at)}${o.comment ? ` · ${o.comment}` : ''}`}
                  >
                    <strong>{o.reviewer}</strong>: <span className={`verdict-text v-${o.verdict}`}>{verdictText(o.verdict)}</span>
                    {o.reason ? ` · ${o.reason}` : ''}
                    {o.comment ? ` · “${o.comment}”` : ''}
                  </p>
                ))}
              </div>
            )}
          </li>
        );
      })}
    </ul>
    </>
  );
}
