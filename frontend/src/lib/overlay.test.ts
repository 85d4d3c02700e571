import { describe, expect, it, vi } from 'vitest';
import {
  applyOverlay,
  redrawOverlays,
  DEFAULT_OVERLAY,
  effectiveOpacity,
  fromPercent,
  loadOverlay,
  normalizeOverlay,
  overlayDifferences,
  overlayRange,
  saveOverlay,
  STORAGE_KEY,
  toPercent,
} from './overlay';

function memoryStorage(init: Record<string, string> = {}) {
  const m = new Map(Object.entries(init));
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    m,
  };
}

describe('normalizeOverlay', () => {
  it('clamps and defaults every field', () => {
    expect(normalizeOverlay({ opacity: 3, threshold: -1, visible: 'yes', colormap: 'rainbow' })).toEqual({
      opacity: 1,
      threshold: 0,
      visible: true,
      colormap: 'warm',
    });
    expect(normalizeOverlay(null)).toEqual(DEFAULT_OVERLAY);
    expect(normalizeOverlay({ opacity: '0.25', threshold: 'x' }).opacity).toBe(0.25);
    expect(normalizeOverlay({ threshold: 'x' }).threshold).toBe(DEFAULT_OVERLAY.threshold);
    expect(normalizeOverlay({ colormap: 'hot', visible: false })).toMatchObject({ colormap: 'hot', visible: false });
  });
});

describe('persistence', () => {
  it('keeps opacity, threshold and colormap as a preference', () => {
    const s = memoryStorage();
    saveOverlay({ opacity: 0.3, threshold: 0.5, visible: true, colormap: 'hot' }, s);
    expect(loadOverlay(s)).toEqual({ opacity: 0.3, threshold: 0.5, visible: true, colormap: 'hot' });
  });
  it('opens every case with the overlay shown, though it was hidden on the last one', () => {
    const s = memoryStorage();
    saveOverlay({ ...DEFAULT_OVERLAY, threshold: 0.5, visible: false }, s);
    expect(JSON.parse(s.m.get(STORAGE_KEY)!)).not.toHaveProperty('visible');
    expect(loadOverlay(s)).toEqual({ ...DEFAULT_OVERLAY, threshold: 0.5, visible: true });
    // an older version stored "hidden": it is not honoured either
    const old = memoryStorage({ [STORAGE_KEY]: JSON.stringify({ ...DEFAULT_OVERLAY, visible: false }) });
    expect(loadOverlay(old).visible).toBe(true);
  });
  it('ignores corrupt or missing storage', () => {
    expect(loadOverlay(memoryStorage({ [STORAGE_KEY]: '{not json' }))).toEqual(DEFAULT_OVERLAY);
    expect(loadOverlay(null)).toEqual(DEFAULT_OVERLAY);
    const throwing = { setItem: () => { throw new Error('quota'); } };
    expect(() => saveOverlay(DEFAULT_OVERLAY, throwing)).not.toThrow();
  });
});

describe('overlayDifferences', () => {
  it('says each setting that is not the default, with the default', () => {
    expect(overlayDifferences(DEFAULT_OVERLAY)).toEqual([]);
    // hidden is not a preference: the checkbox itself shows it
    expect(overlayDifferences({ ...DEFAULT_OVERLAY, visible: false })).toEqual([]);
    expect(overlayDifferences({ ...DEFAULT_OVERLAY, threshold: 0.5 })).toEqual(['Threshold 0.50 (default 0.20)']);
    expect(overlayDifferences({ opacity: 0.8, threshold: 0.05, visible: true, colormap: 'hot' })).toEqual([
      'Threshold 0.05 (default 0.20)',
      'Opacity 80% (default 60%)',
      'Colormap hot (default warm)',
    ]);
    // float noise the slider cannot show is not a difference
    expect(overlayDifferences({ ...DEFAULT_OVERLAY, threshold: 0.2000001 })).toEqual([]);
  });
});

describe('derived values', () => {
  it('hides by zero opacity', () => {
    expect(effectiveOpacity({ ...DEFAULT_OVERLAY, opacity: 0.7, visible: false })).toBe(0);
    expect(effectiveOpacity({ ...DEFAULT_OVERLAY, opacity: 0.7 })).toBe(0.7);
  });
  it('keeps cal_max above cal_min', () => {
    expect(overlayRange({ ...DEFAULT_OVERLAY, threshold: 0.2 })).toEqual({ cal_min: 0.2, cal_max: 1 });
    const r = overlayRange({ ...DEFAULT_OVERLAY, threshold: 1 });
    expect(r.cal_max).toBeGreaterThan(r.cal_min);
  });
  it('converts slider percents', () => {
    expect(toPercent(0.456)).toBe(46);
    expect(fromPercent('35')).toBe(0.35);
    expect(fromPercent(250)).toBe(1);
  });
});

describe('applyOverlay', () => {
  it('sets opacity, range and colormap on layer 1 and redraws', () => {
    const nv = {
      volumes: [
        { id: 'scan', opacity: 1, colormap: 'gray' },
        { id: 'map', opacity: 0.6, cal_min: 0, cal_max: 1, colormap: 'warm' },
      ],
      updateGLVolume: vi.fn(),
    };
    expect(applyOverlay(nv, { opacity: 0.4, threshold: 0.3, visible: true, colormap: 'hot' })).toBe(true);
    expect(nv.volumes[1]).toMatchObject({ opacity: 0.4, cal_min: 0.3, cal_max: 1, colormap: 'hot' });
    expect(nv.updateGLVolume).toHaveBeenCalledOnce();
    expect(nv.volumes[0]).toMatchObject({ opacity: 1, colormap: 'gray' });
  });
  it('hides the map by opacity 0', () => {
    const nv = { volumes: [{ id: 'scan', opacity: 1 }, { id: 'map', opacity: 0.6 }], updateGLVolume: vi.fn() };
    applyOverlay(nv, { ...DEFAULT_OVERLAY, visible: false });
    expect(nv.volumes[1].opacity).toBe(0);
  });
  it('does nothing before the overlay exists', () => {
    const nv = { volumes: [{ id: 'scan', opacity: 1 }], updateGLVolume: vi.fn() };
    expect(applyOverlay(nv, DEFAULT_OVERLAY)).toBe(false);
    expect(nv.updateGLVolume).not.toHaveBeenCalled();
  });
});

describe('redrawOverlays', () => {
  const volumes = () => [
    { id: 'scan', opacity: 1 },
    { id: 'map', opacity: 0.6 },
    { id: 'mask', opacity: 1 },
  ];
  it('rebuilds only the layers above the scan, bottom up, then draws once', () => {
    const calls: string[] = [];
    const nv = {
      volumes: volumes(),
      updateGLVolume: vi.fn(),
      refreshLayers: vi.fn((vol: { id: string }, layer: number) => calls.push(`${vol.id}@${layer}`)),
      drawScene: vi.fn(() => calls.push('draw')),
    };
    redrawOverlays(nv);
    expect(calls).toEqual(['map@1', 'mask@2', 'draw']);
    expect(nv.updateGLVolume).not.toHaveBeenCalled();
  });
  it('falls back to a full update without the per-layer API or without overlays', () => {
    const full = { volumes: volumes(), updateGLVolume: vi.fn() };
    redrawOverlays(full);
    expect(full.updateGLVolume).toHaveBeenCalledOnce();
    const scanOnly = { volumes: [{ id: 'scan', opacity: 1 }], updateGLVolume: vi.fn(), refreshLayers: vi.fn(), drawScene: vi.fn() };
    redrawOverlays(scanOnly);
    expect(scanOnly.refreshLayers).not.toHaveBeenCalled();
    expect(scanOnly.updateGLVolume).toHaveBeenCalledOnce();
  });
});
