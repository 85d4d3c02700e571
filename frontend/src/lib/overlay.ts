/**
 * Anomaly-overlay display settings: pure helpers plus persistence in localStorage.
 *
 * Opacity, threshold and colormap persist as the reader's preference; the controls then say how they differ from
 * the default (`overlayDifferences`). Whether the overlay is shown does not persist: a map hidden with O on one case
 * must not leave the next case (or the page reloaded) without its anomaly map and nothing saying so.
 */

export const OVERLAY_COLORMAPS = ['warm', 'hot', 'red', 'plasma'] as const;
export type OverlayColormap = (typeof OVERLAY_COLORMAPS)[number];

export interface OverlaySettings {
  /** 0..1 opacity of the anomaly map layer */
  opacity: number;
  /** 0..1 anomaly value below which the map is transparent */
  threshold: number;
  visible: boolean;
  colormap: OverlayColormap;
}

export const DEFAULT_OVERLAY: OverlaySettings = {
  opacity: 0.6,
  threshold: 0.2,
  visible: true,
  colormap: 'warm',
};

export const STORAGE_KEY = 'neurotriage.overlay.v1';

/** What persists across cases: everything but `visible`. */
export type OverlayPreference = Omit<OverlaySettings, 'visible'>;

function clamp01(x: unknown, fallback: number): number {
  const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(1, Math.max(0, n));
}

/** Coerces anything (e.g. parsed JSON from storage) into valid settings. */
export function normalizeOverlay(raw: unknown): OverlaySettings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Partial<Record<keyof OverlaySettings, unknown>>;
  return {
    opacity: clamp01(r.opacity, DEFAULT_OVERLAY.opacity),
    threshold: clamp01(r.threshold, DEFAULT_OVERLAY.threshold),
    visible: typeof r.visible === 'boolean' ? r.visible : DEFAULT_OVERLAY.visible,
    colormap: OVERLAY_COLORMAPS.includes(r.colormap as OverlayColormap)
      ? (r.colormap as OverlayColormap)
      : DEFAULT_OVERLAY.colormap,
  };
}

/** The settings a case opens with: the saved preference, the overlay always shown (a stored `visible` from older
 * versions is ignored). */
export function loadOverlay(storage: Pick<Storage, 'getItem'> | null = safeStorage()): OverlaySettings {
  if (!storage) return { ...DEFAULT_OVERLAY };
  try {
    const text = storage.getItem(STORAGE_KEY);
    return text ? { ...normalizeOverlay(JSON.parse(text)), visible: true } : { ...DEFAULT_OVERLAY };
  } catch {
    return { ...DEFAULT_OVERLAY };
  }
}

/** Saves the preference part of the settings (not whether the overlay is shown). */
export function saveOverlay(s: OverlaySettings, storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  if (!storage) return;
  try {
    const { opacity, threshold, colormap } = normalizeOverlay(s);
    const pref: OverlayPreference = { opacity, threshold, colormap };
    storage.setItem(STORAGE_KEY, JSON.stringify(pref));
  } catch {
    /* quota or privacy mode: settings just don't persist */
  }
}

function safeStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}

/**
 * How the opacity, threshold and colormap differ from the defaults, one phrase each, as the controls show them:
 * "Threshold 0.50 (default 0.20)". Empty when they are the defaults. Compared as the sliders show them (whole
 * percent), so a value the slider cannot tell from the default does not count.
 */
export function overlayDifferences(s: OverlaySettings): string[] {
  const out: string[] = [];
  if (toPercent(s.threshold) !== toPercent(DEFAULT_OVERLAY.threshold)) {
    out.push(`Threshold ${s.threshold.toFixed(2)} (default ${DEFAULT_OVERLAY.threshold.toFixed(2)})`);
  }
  if (toPercent(s.opacity) !== toPercent(DEFAULT_OVERLAY.opacity)) {
    out.push(`Opacity ${toPercent(s.opacity)}% (default ${toPercent(DEFAULT_OVERLAY.opacity)}%)`);
  }
  if (s.colormap !== DEFAULT_OVERLAY.colormap) out.push(`Colormap ${s.colormap} (default ${DEFAULT_OVERLAY.colormap})`);
  return out;
}

/** Opacity actually given to the layer (0 when hidden). */
export function effectiveOpacity(s: OverlaySettings): number {
  return s.visible ? s.opacity : 0;
}

/**
 * Display range for the anomaly map (values are in [0, 1]).
 * cal_max must stay above cal_min or NiiVue draws nothing sensible.
 */
export function overlayRange(s: OverlaySettings): { cal_min: number; cal_max: number } {
  const cal_min = Math.min(s.threshold, 0.99);
  return { cal_min, cal_max: Math.max(1, cal_min + 0.01) };
}

/** Slider value (0..100 integer) <-> setting (0..1). */
export function toPercent(x: number): number {
  return Math.round(clamp01(x, 0) * 100);
}
export function fromPercent(p: number | string): number {
  return clamp01(Number(p) / 100, 0);
}

/** Minimal surface of a NiiVue instance we touch, so this is testable with a fake. */
export interface OverlayTarget {
  volumes: { opacity: number; cal_min?: number; cal_max?: number; colormap?: string; id: string }[];
  updateGLVolume(): void;
  /** NiiVue's per-layer rebuild (documented as internal there); used when present. */
  refreshLayers?(vol: never, layer: number): void;
  drawScene?(): void;
}

/**
 * Redraws after a change to the layers above the scan (anomaly map, flag mask).
 *
 * NiiVue's updateGLVolume rebuilds every layer, the scan included, and recomputes the scan's 3D
 * gradient texture (two shader passes over every slice): 1-2 s per call for a 1 mm scan without a
 * GPU. Overlay changes only need layers 1.. rebuilt, in order, since each blends onto the one below.
 */
export function redrawOverlays(nv: OverlayTarget): void {
  const { refreshLayers, drawScene } = nv;
  if (!refreshLayers || !drawScene || nv.volumes.length < 2) {
    nv.updateGLVolume();
    return;
  }
  for (let layer = 1; layer < nv.volumes.length; layer++) {
    refreshLayers.call(nv, nv.volumes[layer] as never, layer);
  }
  drawScene.call(nv);
}

/** Sets the overlay layer's (index 1) display from the settings, without redrawing. */
export function configureOverlay(vol: OverlayTarget['volumes'][number], s: OverlaySettings): void {
  const { cal_min, cal_max } = overlayRange(s);
  vol.opacity = effectiveOpacity(s);
  vol.cal_min = cal_min;
  vol.cal_max = cal_max;
  if (vol.colormap !== s.colormap) vol.colormap = s.colormap;
}

/** Applies settings to the overlay layer (index 1) and redraws. Returns false when there is no overlay yet. */
export function applyOverlay(nv: OverlayTarget, s: OverlaySettings, layer = 1): boolean {
  const vol = nv.volumes[layer];
  if (!vol) return false;
  configureOverlay(vol, s);
  redrawOverlays(nv);
  return true;
}
