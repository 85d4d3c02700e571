import { describe, expect, it } from 'vitest';
import { formatWL, fromWindowLevel, niceStep, parseWL, sameWL, sliderBounds, toWindowLevel } from './windowLevel';

describe('window/level', () => {
  it('converts display range <-> window/level both ways', () => {
    expect(toWindowLevel(100, 500)).toEqual({ window: 400, level: 300 });
    expect(fromWindowLevel({ window: 400, level: 300 })).toEqual({ cal_min: 100, cal_max: 500 });
  });
  it('keeps the window positive and values finite', () => {
    const r = fromWindowLevel({ window: -5, level: 10 }, { min: 0, max: 1000 });
    expect(r.cal_max).toBeGreaterThan(r.cal_min);
    expect(r.cal_max - r.cal_min).toBeCloseTo(1);
    const n = fromWindowLevel({ window: NaN, level: NaN });
    expect(Number.isFinite(n.cal_min) && Number.isFinite(n.cal_max)).toBe(true);
  });
  it('offers slider bounds around the data range with a nice step', () => {
    const b = sliderBounds({ min: 0, max: 1000, defaultMin: 20, defaultMax: 800 });
    expect(b.step).toBe(2);
    expect(b.window.max).toBe(2000);
    expect(b.level.min).toBe(-500);
    expect(b.level.max).toBe(1500);
    expect(b.window.min).toBeGreaterThan(0);
    const small = sliderBounds({ min: 0, max: 1, defaultMin: 0, defaultMax: 1 });
    expect(small.step).toBe(0.002);
  });
  it('niceStep, formatWL, parseWL, sameWL', () => {
    expect(niceStep(3)).toBe(5);
    expect(niceStep(0.013)).toBe(0.02);
    expect(niceStep(0)).toBe(1);
    expect(formatWL(12.345, 1)).toBe('12');
    expect(formatWL(12.345, 0.01)).toBe('12.35');
    expect(parseWL(' 12.5 ')).toBe(12.5);
    expect(parseWL('x')).toBeNull();
    expect(parseWL('')).toBeNull();
    expect(sameWL({ window: 1, level: 2 }, { window: 1 + 1e-9, level: 2 })).toBe(true);
    expect(sameWL({ window: 1, level: 2 }, { window: 2, level: 2 })).toBe(false);
    expect(sameWL(null, null)).toBe(true);
  });
});
