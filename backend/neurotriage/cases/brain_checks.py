"""The engine's checks that an upload is a brain-extracted, unnormalised scan of a plausible brain, made at
upload so that such a scan is refused at once instead of becoming a case whose job fails in the worker.

The API does not import the engine (its image has no torch), so these are copies of ``itermask3d.io``'s
(``tissue_threshold``, ``foreground_mask``, ``_border_fraction`` and the checks in ``validate``), with the
same constants and in the same order; ``tests/backend/test_cases.py`` keeps them equal to the engine's.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from neurotriage.core.errors import Unprocessable

MAX_BRAIN_ML = 2600.0
MAX_BACKGROUND_FRACTION = 0.25  # of the volume's outer faces above the tissue threshold
MAX_NEGATIVE_FRACTION = 0.1  # of the non-zero voxels below zero
MIN_PART_FRACTION = 0.1  # a part of the tissue smaller than this share of the largest is not brain


def tissue_threshold(data: np.ndarray) -> float:
    """1 % of the 99th percentile of the positive voxels; inf when none is positive."""
    positive = data[data > 0]
    return 0.01 * float(np.percentile(positive, 99)) if positive.size else float("inf")


def border_fraction(data: np.ndarray) -> float:
    """The fraction of the volume's outer faces whose magnitude is above the tissue threshold. A skull-stripped
    scan's faces are empty; a scan from the scanner has signal, or at least noise, there."""
    threshold = tissue_threshold(data)
    faces = [data[0], data[-1], data[:, 0], data[:, -1], data[:, :, 0], data[:, :, -1]]
    return float(np.mean(np.concatenate([np.abs(face).ravel() > threshold for face in faces])))


def brain_mask(data: np.ndarray) -> np.ndarray:
    """The engine's brain mask: the tissue's connected parts of at least MIN_PART_FRACTION of the largest,
    closed, holes filled. (I, J, K) bool."""
    mask = data > tissue_threshold(data)
    if not mask.any():
        return mask
    labels, count = ndimage.label(mask)
    if count > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        mask = sizes[labels] >= MIN_PART_FRACTION * sizes.max()
    mask = ndimage.binary_closing(mask, iterations=2, border_value=0) | mask
    return ndimage.binary_fill_holes(mask)


def check_brain_extracted(data: np.ndarray, spacing_mm: np.ndarray) -> None:
    """Refuse, in the engine's order, a volume normalised to zero mean (its negative half would never be
    screened) and one that was not skull-stripped (signal on its faces, or more tissue than any brain).
    ``data``: (I, J, K) voxel values; ``spacing_mm``: (3,) voxel size."""
    faces = border_fraction(data)
    negative = float(np.count_nonzero(data < 0)) / max(np.count_nonzero(data), 1)
    if negative > MAX_NEGATIVE_FRACTION and faces <= MAX_BACKGROUND_FRACTION:
        raise Unprocessable(
            f"{100 * negative:.0f} % of the volume's non-zero voxels are below zero: it looks intensity-normalised "
            "(e.g. z-scored); upload the scan as acquired, before normalisation."
        )
    brain_ml = float(brain_mask(data).sum()) * float(np.prod(spacing_mm)) / 1000.0
    # The engine's "too little brain" (under MIN_BRAIN_ML) comes between these two; it is left to the worker,
    # where it is rare in practice (a partial-coverage or infant scan), and here it would refuse the small
    # volumes on which the API's own tests run.
    if faces > MAX_BACKGROUND_FRACTION or brain_ml > MAX_BRAIN_ML:
        reason = (
            f"{100 * faces:.0f} % of the volume's outer faces hold signal where a brain-extracted scan has none"
            if faces > MAX_BACKGROUND_FRACTION
            else f"it holds {brain_ml:.0f} mL of tissue, more than any brain"
        )
        raise Unprocessable(
            f"The scan does not look skull-stripped: {reason}. The analysis reads brain-extracted scans only; run a "
            "brain extraction (e.g. SynthStrip or HD-BET) and upload its result."
        )
