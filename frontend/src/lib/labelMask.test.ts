import { describe, expect, it } from 'vitest';
import {
  applyMaskMode,
  DEFAULT_MASK_MODE,
  MASK_FILL_OPACITY,
  type LabelColormap,
  type MaskLayer,
  loadMaskMode,
  MASK_STORAGE_KEY,
  maskColormap,
  maxLabel,
  normalizeMaskMode,
  outlineLabels,
  saveMaskMode,
} from './labelMask';

/** nx × ny × nz volume with a labelled box [x0,x1) × [y0,y1) × [z0,z1). */
function volume(dims: [number, number, number], boxes: { label: number; from: number[]; to: number[] }[]) {
  const [nx, ny, nz] = dims;
  const img = new Uint8Array(nx * ny * nz);
  for (const b of boxes)
    for (let z = b.from[2]; z < b.to[2]; z++)
      for (let y = b.from[1]; y < b.to[1]; y++)
        for (let x = b.from[0]; x < b.to[0]; x++) img[z * nx * ny + y * nx + x] = b.label;
  return img;
}
const at = (img: ArrayLike<number>, dims: number[], x: number, y: number, z: number) =>
  img[z * dims[0] * dims[1] + y * dims[0] + x];

describe('outlineLabels', () => {
  it('keeps the shell of a label and clears its interior', () => {
    const dims: [number, number, number] = [7, 7, 7];
    const img = volume(dims, [{ label: 1, from: [1, 1, 1], to: [6, 6, 6] }]);
    const out = outlineLabels(img, dims);
    expect(out).toBeInstanceOf(Uint8Array);
    expect(at(out, dims, 3, 3, 3)).toBe(0); // interior
    expect(at(out, dims, 1, 3, 3)).toBe(1); // face
    expect(at(out, dims, 5, 5, 5)).toBe(1); // corner
    expect(at(out, dims, 0, 0, 0)).toBe(0); // background stays 0
    // 5³ box: 125 voxels, 27 inside
    expect(out.filter((v) => v > 0).length).toBe(125 - 27);
    expect(img.filter((v) => v > 0).length).toBe(125); // input untouched
  });

  it('draws the border between two touching labels on both sides', () => {
    const dims: [number, number, number] = [8, 5, 5];
    const img = volume(dims, [
      { label: 1, from: [0, 0, 0], to: [4, 5, 5] },
      { label: 2, from: [4, 0, 0], to: [8, 5, 5] },
    ]);
    const out = outlineLabels(img, dims);
    expect(at(out, dims, 3, 2, 2)).toBe(1);
    expect(at(out, dims, 4, 2, 2)).toBe(2);
    expect(at(out, dims, 2, 2, 2)).toBe(0);
    expect(at(out, dims, 5, 2, 2)).toBe(0);
  });

  it('treats a single slice as 2D and keeps the array type', () => {
    const dims: [number, number, number] = [5, 5, 1];
    const img = new Int16Array(volume(dims, [{ label: 3, from: [1, 1, 0], to: [4, 4, 1] }]));
    const out = outlineLabels(img, dims);
    expect(out).toBeInstanceOf(Int16Array);
    expect(at(out, dims, 2, 2, 0)).toBe(0);
    expect(at(out, dims, 1, 1, 0)).toBe(3);
    expect(Array.from(out).filter((v) => v > 0).length).toBe(8);
  });

  it('returns an empty mask for nonsense dimensions', () => {
    expect(Array.from(outlineLabels(new Uint8Array([1, 1]), [4, 4, 4]))).toEqual([0, 0]);
  });
});

describe('maskColormap', () => {
  it('has transparent background, one entry per flag and the selected flag highlighted', () => {
    const cm = maskColormap(3, 2);
    expect(cm.I).toEqual([0, 1, 2, 3]);
    expect(cm.A[0]).toBe(0);
    expect(cm.A[2]).toBe(255);
    expect([cm.R[2], cm.G[2], cm.B[2]]).toEqual([255, 255, 0]);
    expect([cm.R[1], cm.G[1], cm.B[1]]).toEqual([cm.R[3], cm.G[3], cm.B[3]]);
    expect([cm.R[1], cm.G[1], cm.B[1]]).not.toEqual([255, 255, 0]);
    expect(cm.labels[1]).toBe('Flag 1');
  });
  it('always has at least labels 0 and 1', () => {
    expect(maskColormap(0, null).I).toEqual([0, 1]);
  });
});

describe('maxLabel / mask mode', () => {
  it('finds the largest label', () => {
    expect(maxLabel(new Uint8Array([0, 2, 5, 1]))).toBe(5);
    expect(maxLabel(new Float32Array(3))).toBe(0);
  });
  it('normalizes and persists the mode', () => {
    expect(normalizeMaskMode('fill')).toBe('fill');
    expect(normalizeMaskMode('bogus')).toBe(DEFAULT_MASK_MODE);
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
    saveMaskMode('hidden', storage);
    expect(m.get(MASK_STORAGE_KEY)).toBe('hidden');
    expect(loadMaskMode(storage)).toBe('hidden');
    expect(loadMaskMode(null)).toBe(DEFAULT_MASK_MODE);
  });
});

describe('applyMaskMode', () => {
  it('swaps fill / outline data, sets opacity and highlights the selected label', () => {
    const dims: [number, number, number] = [5, 5, 5];
    const fill = volume(dims, [{ label: 1, from: [1, 1, 1], to: [4, 4, 4] }]);
    const cms: LabelColormap[] = [];
    const vol = { img: fill, hdr: { dims: [3, ...dims] }, opacity: 0, setColormapLabel: (cm: LabelColormap) => void cms.push(cm) };
    const layer: MaskLayer = { vol, fill, outline: null, nLabels: 1 };

    applyMaskMode(layer, 'outline', 1);
    expect(vol.img).not.toBe(fill);
    expect(Array.from(vol.img).filter((v) => v > 0).length).toBe(27 - 1);
    expect(vol.opacity).toBe(1);
    expect(cms[0].A[1]).toBe(255);
    const outline = layer.outline;

    applyMaskMode(layer, 'fill', null);
    expect(vol.img).toBe(fill);
    expect(vol.opacity).toBe(MASK_FILL_OPACITY);
    expect([cms[1].R[1], cms[1].G[1], cms[1].B[1]]).not.toEqual([255, 255, 0]);

    applyMaskMode(layer, 'hidden', null);
    expect(vol.opacity).toBe(0);
    applyMaskMode(layer, 'outline', null);
    expect(layer.outline).toBe(outline); // computed once
  });
});
