"""Lesion flags, scan-level score and triage category, on the input scan's own grid."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

URGENT_TOTAL_ML = 5.0  # total flagged volume (mL) that makes a scan urgent
URGENT_LARGEST_ML = 3.0  # or a single flag this large


class FlagSet(NamedTuple):
    """labels: (I, J, K) uint16, k = flag k (0 elsewhere); flags: one dict per label, largest first;
    weak: components large enough to flag but left out because their peak anomaly stays under
    ``min_peak_ratio`` x the strongest flag's (same dicts without ``label``, plus ``peak_ratio``)."""
    labels: np.ndarray
    flags: list[dict]
    weak: list[dict]


def _describe(local: np.ndarray, region: tuple[slice, ...], anomaly: np.ndarray, affine: np.ndarray,
              voxel_mm3: float) -> dict:
    """One component (``local``: bool mask inside the bounding ``region``) as the contract's flag dict.

    anchor: where a viewer goes to show the flag: the component's voxel whose 3x3x3 neighbourhood (inside the
    component) holds the most anomaly, the one nearest the centroid (in mm) where several tie. The centroid itself
    can lie outside a curved or ring-shaped region, and a tumour's flag often has a core that the network rebuilt
    well (anomaly near 0) inside a strong rim; landing there shows the reader nothing of why it was flagged. The
    neighbourhood, rather than the single largest voxel, keeps one stray voxel at the flag's edge from drawing it."""
    idx = np.argwhere(local) + np.array([s.start for s in region])
    centroid_vox = idx.mean(axis=0)
    centroid_mm = affine[:3, :3] @ centroid_vox + affine[:3, 3]
    inside = np.where(local, anomaly[region], 0.0).astype(np.float64)
    strength = ndimage.uniform_filter(inside, size=3, mode="constant")[local]
    candidates = idx[strength >= strength.max() * (1 - 1e-6)]
    world = candidates @ affine[:3, :3].T + affine[:3, 3]
    anchor_vox = candidates[int(np.argmin(np.sum((world - centroid_mm) ** 2, axis=1)))]
    anchor_mm = affine[:3, :3] @ anchor_vox + affine[:3, 3]
    values = anomaly[region][local]
    return {
        "voxel_count": int(local.sum()),
        "volume_mm3": round(float(local.sum() * voxel_mm3), 2),
        "centroid_mm": [round(float(v), 2) for v in centroid_mm],
        "centroid_voxel": [int(round(float(v))) for v in centroid_vox],
        "anchor_mm": [round(float(v), 2) for v in anchor_mm],
        "anchor_voxel": [int(v) for v in anchor_vox],
        "bbox_voxel": [[int(v) for v in idx.min(axis=0)], [int(v) for v in idx.max(axis=0)]],
        "mean_anomaly": round(float(values.mean()), 4),
        "max_anomaly": round(float(values.max()), 4),
    }


def find_flags(mask: np.ndarray, anomaly: np.ndarray, affine: np.ndarray, min_volume_mm3: float,
               min_peak_ratio: float = 0.0) -> FlagSet:
    """Connected components (26-connectivity) of ``mask`` of at least ``min_volume_mm3`` whose peak
    anomaly reaches ``min_peak_ratio`` x the strongest such component's peak.

    mask: (I, J, K) bool on the scan grid; anomaly: (I, J, K) float anomaly map in [0, 1];
    affine: 4x4 voxel -> world mm; min_peak_ratio: 0 keeps every component of the size. The ratio
    exists because a large lesion lowers the subject threshold, so normal tissue that the network
    rebuilds a little worse than average (cerebellum, brainstem) stays masked too, at a fraction of
    the lesion's error (ml/README.md, "Weak regions").
    """
    voxel_mm3 = float(abs(np.linalg.det(affine[:3, :3])))
    components, count = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    labels = np.zeros(mask.shape, dtype=np.uint16)
    if count == 0:
        return FlagSet(labels, [], [])
    sizes = np.bincount(components.ravel(), minlength=count + 1)
    kept = [c for c in range(1, count + 1) if sizes[c] * voxel_mm3 >= min_volume_mm3]
    kept.sort(key=lambda c: (-sizes[c], c))
    slices = ndimage.find_objects(components)
    described = []
    for component in kept:
        region = slices[component - 1]
        local = components[region] == component
        described.append((region, local, _describe(local, region, anomaly, affine, voxel_mm3)))
    strongest = max((d["max_anomaly"] for _, _, d in described), default=0.0)
    flags, weak = [], []
    for region, local, flag in described:
        ratio = flag["max_anomaly"] / strongest if strongest > 0 else 1.0
        if ratio < min_peak_ratio:
            weak.append({**flag, "peak_ratio": round(ratio, 4)})
            continue
        flags.append({"label": len(flags) + 1, **flag})
        labels[region][local] = len(flags)
    return FlagSet(labels, flags, weak)


def triage(flags: list[dict], rescan: bool = False) -> str:
    """urgent: >= URGENT_TOTAL_ML flagged in total or one flag of >= URGENT_LARGEST_ML;
    rescan: the acquisition checks failed (quality.check_acquisition) and nothing is urgent;
    review: any other flag; routine: no flags."""
    if flags:
        total_ml = sum(f["volume_mm3"] for f in flags) / 1000.0
        largest_ml = max(f["volume_mm3"] for f in flags) / 1000.0
        if total_ml >= URGENT_TOTAL_ML or largest_ml >= URGENT_LARGEST_ML:
            return "urgent"
    if rescan:
        return "rescan"
    return "review" if flags else "routine"
