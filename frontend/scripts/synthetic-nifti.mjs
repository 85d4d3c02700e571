// Synthetic gzipped NIfTI-1 volumes (scan + anomaly map + label mask) for the mock API and tests.
import { gzipSync } from 'node:zlib';

// NT_MOCK_GRID_MM=1 gives a 1 mm grid (160 x 192 x 160) for the first-view benchmark; default 2 mm.
const MM = Number(process.env.NT_MOCK_GRID_MM) === 1 ? 1 : 2;
const F = 2 / MM;
export const GRID = { nx: 80 * F, ny: 96 * F, nz: 80 * F, mm: MM, origin: [-80, -112, -70] };

/** Two lesions in voxel space: centre and radius (voxels). Label 1 is the larger. */
export const LESIONS = [
  { c: [52 * F, 58 * F, 46 * F], r: 6 * F },
  { c: [27 * F, 40 * F, 50 * F], r: 3.5 * F },
];

export function vox2mm([i, j, k]) {
  return [i * GRID.mm + GRID.origin[0], j * GRID.mm + GRID.origin[1], k * GRID.mm + GRID.origin[2]];
}

function header(datatype, bitpix) {
  const { nx, ny, nz, mm, origin } = GRID;
  const b = Buffer.alloc(352);
  b.writeInt32LE(348, 0);
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  dim.forEach((d, i) => b.writeInt16LE(d, 40 + 2 * i));
  b.writeInt16LE(datatype, 70);
  b.writeInt16LE(bitpix, 72);
  const pix = [1, mm, mm, mm, 1, 1, 1, 1];
  pix.forEach((p, i) => b.writeFloatLE(p, 76 + 4 * i));
  b.writeFloatLE(352, 108); // vox_offset
  b.writeFloatLE(1, 112); // scl_slope
  b.writeFloatLE(0, 116);
  b.writeUInt8(10, 123); // xyzt_units: mm + s
  b.writeInt16LE(0, 252); // qform_code
  b.writeInt16LE(1, 254); // sform_code: scanner
  [mm, 0, 0, origin[0]].forEach((v, i) => b.writeFloatLE(v, 280 + 4 * i));
  [0, mm, 0, origin[1]].forEach((v, i) => b.writeFloatLE(v, 296 + 4 * i));
  [0, 0, mm, origin[2]].forEach((v, i) => b.writeFloatLE(v, 312 + 4 * i));
  b.write('n+1\0', 344, 'latin1');
  return b;
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function build(kind) {
  const { nx, ny, nz } = GRID;
  const n = nx * ny * nz;
  const isMask = kind === 'mask';
  const data = isMask ? new Int16Array(n) : new Float32Array(n);
  const rand = rng(kind === 'scan' ? 1 : 2);
  const cx = nx / 2, cy = ny / 2, cz = nz / 2;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const idx = i + nx * (j + ny * k);
        const e = ((i - cx) / (34 * F)) ** 2 + ((j - cy) / (42 * F)) ** 2 + ((k - cz) / (32 * F)) ** 2;
        const inBrain = e < 1;
        let lesion = 0;
        let label = 0;
        LESIONS.forEach((L, li) => {
          const d2 = (i - L.c[0]) ** 2 + (j - L.c[1]) ** 2 + (k - L.c[2]) ** 2;
          const g = Math.exp(-d2 / (2 * (L.r / 1.6) ** 2));
          if (g > lesion) lesion = g;
          if (d2 <= L.r * L.r && !label) label = li + 1;
        });
        if (kind === 'scan') {
          if (!inBrain) {
            data[idx] = e < 1.12 ? 40 + 10 * rand() : 2 * rand();
          } else {
            const vent = ((i - cx) / (8 * F)) ** 2 + ((j - cy + 4 * F) / (14 * F)) ** 2 + ((k - cz - 3 * F) / (6 * F)) ** 2 < 1;
            const wm = e < 0.55;
            data[idx] = (vent ? 25 : wm ? 110 : 80) + 8 * rand() + 60 * lesion;
          }
        } else if (kind === 'map') {
          data[idx] = inBrain ? Math.min(1, Math.max(0, lesion * 0.98 + 0.06 * rand())) : 0;
        } else {
          data[idx] = inBrain ? label : 0;
        }
      }
  const [dt, bp] = isMask ? [4, 16] : [16, 32];
  return gzipSync(Buffer.concat([header(dt, bp), Buffer.from(data.buffer)]), { level: 6 });
}

let cache = null;
export function volumes() {
  if (!cache) cache = { scan: build('scan'), anomaly_map: build('map'), anomaly_mask: build('mask') };
  return cache;
}

export function flags() {
  const voxelMl = GRID.mm ** 3 / 1000;
  return LESIONS.map((L, i) => {
    const count = Math.round((4 / 3) * Math.PI * L.r ** 3);
    const r = Math.ceil(L.r);
    return {
      label: i + 1,
      voxel_count: count,
      volume_ml: +(count * voxelMl).toFixed(3),
      centroid_voxel: L.c,
      centroid_mm: vox2mm(L.c),
      bbox_voxel: [L.c.map((x) => x - r), L.c.map((x) => x + r)],
      mean_anomaly: 0.62 - i * 0.1,
      max_anomaly: 0.98 - i * 0.15,
    };
  });
}
