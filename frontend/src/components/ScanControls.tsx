import { useEffect, useState } from 'react';
import type { WindowState, MaskStatus } from './Viewer';
import { MASK_MODES, MASK_MODE_LABELS, type MaskMode } from '../lib/labelMask';
import { formatWL, parseWL, sliderBounds, type WindowLevel } from '../lib/windowLevel';

interface Props {
  windowState: WindowState | null;
  onWindowLevel: (wl: WindowLevel) => void;
  onResetWindow: () => void;
  maskMode: MaskMode;
  onMaskMode: (m: MaskMode) => void;
  maskStatus: MaskStatus;
  /** why there is no mask, shown beside the select (default: no flags) */
  noMaskText?: string;
  /** false when the case has no mask (no finished analysis, or no flags) */
  maskAvailable: boolean;
}

/** A number field that shows the live value unless the user is typing in it; a typed value is kept in bounds. */
export function NumberField({
  label,
  value,
  step,
  min,
  max,
  disabled,
  onCommit,
}: {
  label: string;
  value: number | null;
  step: number;
  min: number;
  max: number;
  disabled: boolean;
  onCommit: (v: number) => void;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const shown = draft ?? (value == null ? '' : formatWL(value, step));
  return (
    <label className="field-inline wl-field">
      <span>{label}</span>
      <input
        type="number"
        inputMode="decimal"
        value={shown}
        step={step}
        min={min}
        max={max}
        disabled={disabled}
        onFocus={() => setDraft(shown)}
        onBlur={() => setDraft(null)}
        onChange={(e) => {
          setDraft(e.target.value);
          const n = parseWL(e.target.value);
          // the field's bounds hold for typed values too: a window of -50 or 99999 would turn the scan into a mask
          if (n != null) onCommit(Math.min(max, Math.max(min, n)));
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === 'Escape') (e.target as HTMLInputElement).blur();
        }}
      />
    </label>
  );
}

export function ScanControls({
  windowState,
  onWindowLevel,
  onResetWindow,
  maskMode,
  onMaskMode,
  maskStatus,
  maskAvailable,
  noMaskText = 'no flags',
}: Props) {
  const bounds = windowState ? sliderBounds(windowState.range) : null;
  const wl = windowState?.wl ?? null;
  // keep the last values for a moment when the viewer reloads, so the fields don't flicker
  const [last, setLast] = useState<WindowLevel | null>(wl);
  useEffect(() => {
    if (wl) setLast(wl);
  }, [wl]);
  const shown = wl ?? last;
  const step = bounds?.step ?? 1;
  const off = !windowState;
  const modified =
    !!windowState &&
    (Math.abs(windowState.wl.window - (windowState.range.defaultMax - windowState.range.defaultMin)) > step / 2 ||
      Math.abs(windowState.wl.level - (windowState.range.defaultMax + windowState.range.defaultMin) / 2) > step / 2);

  return (
    <div className="viewer-toolbar scan-toolbar" role="group" aria-label="Scan display">
      <label className="field-inline">
        <span>Flag mask</span>
        <select
          value={maskMode}
          disabled={!maskAvailable}
          onChange={(e) => onMaskMode(e.target.value as MaskMode)}
          aria-describedby="mask-state"
        >
          {MASK_MODES.map((m) => (
            <option key={m} value={m}>
              {MASK_MODE_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <span id="mask-state" className="muted small mask-state">
        {!maskAvailable
          ? noMaskText
          : maskStatus === 'loading'
            ? 'loading mask…'
            : maskStatus === 'error'
              ? 'mask could not be loaded'
              : ''}
      </span>
      <NumberField
        label="Window"
        value={shown?.window ?? null}
        step={step}
        min={bounds?.window.min ?? 0}
        max={bounds?.window.max ?? 1}
        disabled={off}
        onCommit={(w) => shown && onWindowLevel({ window: w, level: shown.level })}
      />
      <NumberField
        label="Level"
        value={shown?.level ?? null}
        step={step}
        min={bounds?.level.min ?? 0}
        max={bounds?.level.max ?? 1}
        disabled={off}
        onCommit={(l) => shown && onWindowLevel({ window: shown.window, level: l })}
      />
      <button type="button" onClick={onResetWindow} disabled={off || !modified} title="Back to the automatic window (right-drag on the image also sets it)">
        Reset window
      </button>
    </div>
  );
}
