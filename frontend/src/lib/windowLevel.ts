/**
 * Window/level of the scan: window = cal_max − cal_min, level = (cal_max + cal_min) / 2.
 * Pure helpers so the sliders, NiiVue's right-drag contrast and "Reset window" agree.
 */

export interface WindowLevel {
  window: number;
  level: number;
}

export interface WindowRange {
  /** darkest and brightest value in the volume */
  min: number;
  max: number;
  /** the display range NiiVue chose when loading (what "Reset window" returns to) */
  defaultMin: number;
  defaultMax: number;
}

export function toWindowLevel(calMin: number, calMax: number): WindowLevel {
  return { window: calMax - calMin, level: (calMax + calMin) / 2 };
}

/** Smallest window allowed: NiiVue needs cal_max > cal_min. */
export function minWindow(r: Pick<WindowRange, 'min' | 'max'>): number {
  const span = r.max - r.min;
  return span > 0 ? span / 1000 : 1e-3;
}

/** Display range for a window/level, with the window kept positive and both finite. */
export function fromWindowLevel(wl: WindowLevel, r?: Pick<WindowRange, 'min' | 'max'>): { cal_min: number; cal_max: number } {
  const floor = r ? minWindow(r) : 1e-3;
  const w = Number.isFinite(wl.window) ? Math.max(floor, wl.window) : floor;
  const l = Number.isFinite(wl.level) ? wl.level : 0;
  return { cal_min: l - w / 2, cal_max: l + w / 2 };
}

/** Slider bounds and step for the controls. */
export function sliderBounds(r: WindowRange): {
  window: { min: number; max: number };
  level: { min: number; max: number };
  step: number;
} {
  const span = Math.max(r.max - r.min, r.defaultMax - r.defaultMin, 1e-3);
  const step = niceStep(span / 500);
  return {
    window: { min: roundTo(minWindow(r), step, 'up'), max: roundTo(span * 2, step, 'up') },
    level: { min: roundTo(r.min - span / 2, step, 'down'), max: roundTo(r.max + span / 2, step, 'up') },
    step,
  };
}

/** 1, 2 or 5 times a power of ten, at least `x`. */
export function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function roundTo(x: number, step: number, dir: 'up' | 'down'): number {
  const k = dir === 'up' ? Math.ceil(x / step - 1e-9) : Math.floor(x / step + 1e-9);
  return Number((k * step).toPrecision(12));
}

/** Shows a value with as many decimals as the slider step needs. */
export function formatWL(x: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  return x.toFixed(decimals);
}

/** Parses a typed value; null when it is not a number. */
export function parseWL(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Whether two window/levels differ by more than rounding noise. */
export function sameWL(a: WindowLevel | null, b: WindowLevel | null, eps = 1e-6): boolean {
  if (!a || !b) return a === b;
  const tol = eps * Math.max(1, Math.abs(a.window), Math.abs(b.window));
  return Math.abs(a.window - b.window) <= tol && Math.abs(a.level - b.level) <= tol;
}
