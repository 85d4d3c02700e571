/**
 * Flag mask display (anomaly_mask: voxel value k = flag with label k, 0 = background).
 * Pure helpers: the display mode (persisted), the label outline and the label colour table.
 */

export const MASK_MODES = ['fill', 'outline', 'hidden'] as const;
export type MaskMode = (typeof MASK_MODES)[number];
export const MASK_MODE_LABELS: Record<MaskMode, string> = { fill: 'Fill', outline: 'Outline', hidden: 'Hidden' };
export const DEFAULT_MASK_MODE: MaskMode = 'outline';
export const MASK_STORAGE_KEY = 'neurotriage.maskMode.v1';

export function normalizeMaskMode(raw: unknown): MaskMode {
  return MASK_MODES.includes(raw as MaskMode) ? (raw as MaskMode) : DEFAULT_MASK_MODE;
}

export function loadMaskMode(storage: Pick<Storage, 'getItem'> | null = safeStorage()): MaskMode {
  try {
    return normalizeMaskMode(storage?.getItem(MASK_STORAGE_KEY));
  } catch {
    return DEFAULT_MASK_MODE;
  }
}

export function saveMaskMode(mode: MaskMode, storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  try {
    storage?.setItem(MASK_STORAGE_KEY, normalizeMaskMode(mode));
  } catch {
    /* not persisted */
  }
}

function safeStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}

/** Numeric arrays NiiVue keeps voxel data in. */
export type VoxelArray =
  | Uint8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * Keeps only the boundary voxels of each label: a labelled voxel stays when one of its six face
 * neighbours has another value (or lies outside the volume); interior voxels become 0.
 * `dims` = [nx, ny, nz] (x fastest). Returns a new array of the same type.
 */
export function outlineLabels<T extends VoxelArray>(img: T, dims: readonly number[]): T {
  const [nx, ny, nz] = [dims[0] | 0, dims[1] | 0, Math.max(1, dims[2] | 0)];
  const nxy = nx * ny;
  const out = new (img.constructor as { new (n: number): T })(img.length);
  if (nx <= 0 || ny <= 0 || img.length < nxy * nz) return out;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * nxy + y * nx;
      for (let x = 0; x < nx; x++) {
        const i = row + x;
        const v = img[i];
        if (v === 0) continue;
        const edge =
          x === 0 ||
          x === nx - 1 ||
          y === 0 ||
          y === ny - 1 ||
          (nz > 1 && (z === 0 || z === nz - 1)) ||
          img[i - 1] !== v ||
          img[i + 1] !== v ||
          img[i - nx] !== v ||
          img[i + nx] !== v ||
          (nz > 1 && (img[i - nxy] !== v || img[i + nxy] !== v));
        if (edge) out[i] = v;
      }
    }
  }
  return out;
}

/** Largest label in the volume (0 when empty). */
export function maxLabel(img: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < img.length; i++) if (img[i] > m) m = img[i];
  return Math.round(m);
}

/** NiiVue label colour table (R, G, B, A, I arrays). */
export interface LabelColormap {
  R: number[];
  G: number[];
  B: number[];
  A: number[];
  I: number[];
  labels: string[];
}

const FLAG_RGB: [number, number, number] = [0, 220, 255]; // cyan: distinct from the warm anomaly map
const SELECTED_RGB: [number, number, number] = [255, 255, 0]; // yellow: the selected flag

/**
 * Colour table for labels 0..nLabels: 0 transparent, every flag cyan, the selected flag (label
 * `selected`, or none) yellow and fully opaque. At least labels 0 and 1, which NiiVue needs.
 */
export function maskColormap(nLabels: number, selected: number | null, alpha = 200): LabelColormap {
  const n = Math.max(1, Math.floor(nLabels));
  const cm: LabelColormap = { R: [], G: [], B: [], A: [], I: [], labels: [] };
  for (let k = 0; k <= n; k++) {
    const rgb = k === 0 ? [0, 0, 0] : k === selected ? SELECTED_RGB : FLAG_RGB;
    cm.R.push(rgb[0]);
    cm.G.push(rgb[1]);
    cm.B.push(rgb[2]);
    cm.A.push(k === 0 ? 0 : k === selected ? 255 : alpha);
    cm.I.push(k);
    cm.labels.push(k === 0 ? '' : `Flag ${k}`);
  }
  return cm;
}

/** What a mask layer is: the NiiVue volume plus the label data it was loaded with. */
export interface MaskLayer<V extends MaskVolume = MaskVolume> {
  vol: V;
  fill: VoxelArray;
  outline: VoxelArray | null;
  nLabels: number;
}

/** The surface of an NVImage we touch (testable with a fake). */
export interface MaskVolume {
  img?: VoxelArray | null;
  hdr?: { dims?: number[] } | null;
  opacity: number;
  setColormapLabel(cm: LabelColormap): void;
}

export const MASK_FILL_OPACITY = 0.45;

/** Opacity of the mask layer for a mode. */
export function maskOpacity(mode: MaskMode): number {
  return mode === 'hidden' ? 0 : mode === 'fill' ? MASK_FILL_OPACITY : 1;
}

/**
 * Shows the mask layer in a mode (outline computed once, on first use) with the selected label
 * highlighted; the caller redraws (NiiVue: updateGLVolume).
 */
export function applyMaskMode(layer: MaskLayer, mode: MaskMode, selected: number | null): void {
  const { vol } = layer;
  if (mode === 'outline') {
    if (!layer.outline) {
      const d = vol.hdr?.dims ?? [];
      layer.outline = outlineLabels(layer.fill, [d[1] ?? 0, d[2] ?? 0, d[3] ?? 1]);
    }
    vol.img = layer.outline;
  } else {
    vol.img = layer.fill;
  }
  vol.setColormapLabel(maskColormap(layer.nLabels, selected));
  vol.opacity = maskOpacity(mode);
}
