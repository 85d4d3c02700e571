import type { OverlaySettings, OverlayColormap } from '../lib/overlay';
import { DEFAULT_OVERLAY, OVERLAY_COLORMAPS, fromPercent, overlayDifferences, toPercent } from '../lib/overlay';

interface Props {
  value: OverlaySettings;
  onChange: (next: OverlaySettings) => void;
  /** the case has no anomaly map to show (no result, or a checks-only one) */
  disabled: boolean;
  /** why, beside the controls: "No anomaly map: not screened for lesions" */
  disabledReason?: string;
  render3d: boolean;
  onToggle3d: () => void;
}

export function OverlayControls({ value, onChange, disabled, disabledReason, render3d, onToggle3d }: Props) {
  // a saved preference applies to every case: say so where the map is drawn, or a raised threshold reads as
  // "nothing anomalous here"
  const differences = disabled ? [] : overlayDifferences(value);
  const describedBy = disabled && disabledReason ? 'overlay-state' : differences.length ? 'overlay-differences' : undefined;
  return (
    <div className="viewer-toolbar" role="group" aria-label="Viewer settings">
      <label className="check">
        <input
          type="checkbox"
          checked={value.visible}
          disabled={disabled}
          aria-describedby={describedBy}
          onChange={(e) => onChange({ ...value, visible: e.target.checked })}
        />
        <span>Show overlay</span>
        {/* "key O", so the letter is not read as a zero (the shortcut is the letter O) */}
        <span className="key-hint" aria-hidden="true" title="Keyboard shortcut: the letter O">
          key <kbd className="key-letter">O</kbd>
        </span>
      </label>
      <label className="slider">
        <span>Overlay opacity</span>
        <input
          type="range"
          min={0}
          max={100}
          step={5}
          value={toPercent(value.opacity)}
          aria-valuetext={`${toPercent(value.opacity)}%`}
          disabled={disabled}
          aria-describedby={describedBy}
          onChange={(e) => onChange({ ...value, opacity: fromPercent(e.target.value) })}
        />
        <span className="slider-value" aria-hidden="true">{toPercent(value.opacity)}%</span>
      </label>
      <label className="slider">
        <span>Overlay threshold</span>
        <input
          type="range"
          min={0}
          max={95}
          step={1}
          value={toPercent(value.threshold)}
          aria-valuetext={value.threshold.toFixed(2)}
          disabled={disabled}
          aria-describedby={describedBy}
          onChange={(e) => onChange({ ...value, threshold: fromPercent(e.target.value) })}
        />
        <span className="slider-value" aria-hidden="true">{value.threshold.toFixed(2)}</span>
      </label>
      <label className="field-inline">
        <span>Colormap</span>
        <select
          value={value.colormap}
          disabled={disabled}
          aria-describedby={describedBy}
          onChange={(e) => onChange({ ...value, colormap: e.target.value as OverlayColormap })}
        >
          {OVERLAY_COLORMAPS.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      {disabled && disabledReason && (
        <span id="overlay-state" className="muted small">
          {disabledReason}
        </span>
      )}
      {/* the 3D render stays: it renders the scan itself, map or no map */}
      <button type="button" aria-pressed={render3d} onClick={onToggle3d} title="Toggle 3D render (D)">
        3D render
      </button>
      {differences.length > 0 && (
        <span id="overlay-differences" className="small" data-testid="overlay-differences">
          Not the default: {differences.join(', ')}.{' '}
          <button type="button" className="small-btn" onClick={() => onChange({ ...DEFAULT_OVERLAY })}>
            Reset overlay
          </button>
        </span>
      )}
    </div>
  );
}
