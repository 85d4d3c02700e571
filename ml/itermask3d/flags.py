"""Lesion flags, scan-level score and triage category, on the input scan's own grid."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

URGENT_TOTAL_ML = 5.0  # total flagged volume (mL) that makes a scan urgent
URGENT_LARGEST_ML = 3.0  # or a single flag this large


def find_flags(mask: np.ndarray, anomaly: np.ndarray, affine: np.ndarray,
               min_volume_mm3: float) -> tuple[np.ndarray, list[dict]]:
    """Connected components (26-connectivity) of ``mask`` of at least ``min_volume_mm3``.

    mask: (I, J, K) bool on the scan grid; anomaly: (I, J, K) float anomaly map in [0, 1];
    affine: 4x4 voxel -> world mm. Returns (labels (I, J, K) uint16 with k = flag k, ordered by
    volume descending; list of flag dicts as in the contract's result.json).
    """
    voxel_mm3 = float(abs(np.linalg.det(affine[:3, :3])))
    components, count = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    labels = np.zeros(mask.shape, dtype=np.uint16)
    if count == 0:
        return labels, []
    sizes = np.bincount(components.ravel(), minlength=count + 1)
    kept = [c for c in range(1, count + 1) if sizes[c] * voxel_mm3 >= min_volume_mm3]
    kept.sort(key=lambda c: (-sizes[c], c))
    slices = ndimage.find_objects(components)
    flags = []
    for label, component in enumerate(kept, start=1):
        region = slices[component - 1]
        local = components[region] == component
        labels[region][local] = label
        idx = np.argwhere(local) + np.array([s.start for s in region])
        centroid_vox = idx.mean(axis=0)
        centroid_mm = affine[:3, :3] @ centroid_vox + affine[:3, 3]
        values = anomaly[region][local]
        flags.append({
            "label": label,
            "voxel_count": int(sizes[component]),
            "volume_mm3": round(float(sizes[component] * voxel_mm3), 2),
            "centroid_mm": [round(float(v), 2) for v in centroid_mm],
            "centroid_voxel": [int(round(float(v))) for v in centroid_vox],
            "bbox_voxel": [[int(v) for v in idx.min(axis=0)], [int(v) for v in idx.max(axis=0)]],
            "mean_anomaly": round(float(values.mean()), 4),
            "max_anomaly": round(float(values.max()), 4),
        })
    return labels, flags


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
