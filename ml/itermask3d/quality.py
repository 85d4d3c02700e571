"""Acquisition checks that call for a rescan: slices missing inside the brain, brain cut off, a blank region.

Missing slices in a skull-stripped upload are zero (background), so the brain mask leaves them
out and the network never sees them: without this check a scan with a hole through the brain
would look normal. The checks work on the scan's own voxel grid, plane by plane along each voxel
axis, because slices go missing along the acquisition's axes, whatever the scan's orientation.

A plane's *tissue* is its number of voxels above the foreground threshold (io.tissue_mask).
- missing slices: a run of planes inside the brain's extent whose tissue is below
  MISSING_FRACTION of what the intact planes on both sides of the run hold;
- cut off: the first or last plane with tissue on an axis still holds at least CUT_FRACTION of
  the largest plane's tissue. A whole brain tapers towards its ends: on synthetic scans of every
  benchmark grid and 5-7 mm slices the end planes held at most 0.13. A brain whose top 10 / 15 /
  20 mm are missing ends with 0.18-0.25 / 0.28-0.34 / 0.39-0.46, so cuts of 15 mm and more are
  caught and some of 10-12 mm are not (ml/ACQUISITION-CHECKS.md, scripts/measure_acquisition_checks.py).
- blank region: at least BLANK_MIN_ML of the brain holds one exact non-zero intensity, each voxel equal
  to its neighbours along the two finest axes. Measured signal always carries noise, so such a region
  was never imaged (signal lost and filled, e.g. the spec's slab set to the brain's minimum); the
  network would inpaint it like any other dark tissue. On synthetic normals and lesions the largest
  such region is empty; an integer-valued upload with very few grey levels could in principle hold
  small flat patches, which is why the region must be large.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import nibabel as nib
import numpy as np
from scipy import ndimage

from .io import Scan, tissue_mask

MISSING_FRACTION = 0.1
CUT_FRACTION = 0.2
BLANK_MIN_ML = 1.0

_AXIS_NAMES = {"L": "left-right", "R": "left-right", "A": "anterior-posterior",
               "P": "anterior-posterior", "S": "inferior-superior", "I": "inferior-superior"}


@dataclass(frozen=True)
class QualityIssue:
    """One reason to rescan. kind: "missing_slices" | "cut_off" | "blank_region" here, "noise" | "spike" | "zipper" |
    "ghosting" | "motion" | "bias_field" from signal_checks; axis: voxel axis (0, 1, 2); planes: [first, last]
    voxel indices along that axis (inclusive); extent_mm: their thickness. The three are None for a
    problem of the whole image (noise, spike, bias field); ghosting and motion have an axis but no planes."""

    kind: str
    axis: int | None
    planes: tuple[int, int] | None
    extent_mm: float | None
    message: str

    def to_dict(self) -> dict:
        out = asdict(self)
        out["planes"] = list(self.planes) if self.planes is not None else None
        return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) index pairs of the runs of True in a 1D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e) - 1) for s, e in zip(edges[::2], edges[1::2])]


def _missing_runs(tissue: np.ndarray) -> list[tuple[int, int]]:
    """Runs of planes strictly inside the brain's extent with too little tissue.

    tissue: (N,) tissue voxel count per plane. A run is missing when every plane in it holds less
    than MISSING_FRACTION of the smaller of the two intact planes just outside it. Low runs that
    reach the first or last plane with tissue are the brain tapering off, not a gap."""
    present = np.flatnonzero(tissue > 0)
    if present.size == 0:
        return []
    first, last = int(present[0]), int(present[-1])
    inside = tissue[first:last + 1].astype(float)
    low = inside < MISSING_FRACTION * inside.max()
    missing = []
    for start, end in _runs(low):
        if start == 0 or end == inside.size - 1:
            continue
        reference = min(inside[start - 1], inside[end + 1])
        if inside[start:end + 1].max() < MISSING_FRACTION * reference:
            missing.append((start + first, end + first))
    return missing


def axis_direction(affine: np.ndarray, axis: int) -> str:
    return _AXIS_NAMES[nib.aff2axcodes(affine)[axis]]


def largest_blank_region(data: np.ndarray, foreground: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """The largest connected region of brain voxels that equal their neighbours along the two finest
    axes (thick slices may hold a thin region in one plane) and are not zero; (I, J, K) bool."""
    flat = foreground & (data != 0)
    for axis in np.argsort(spacing, kind="stable")[:2]:
        for shift in (1, -1):
            flat &= data == np.roll(data, shift, int(axis))
    labels, count = ndimage.label(flat)
    if count == 0:
        return flat
    return labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))


def _blank_region_issue(scan: Scan) -> QualityIssue | None:
    spacing = np.asarray(scan.spacing_mm, dtype=float)
    region = largest_blank_region(np.asarray(scan.data), scan.foreground, spacing)
    ml = float(region.sum() * np.prod(spacing) / 1000.0)
    if ml < BLANK_MIN_ML:
        return None
    # Report it along the axis where it is thinnest: a slab's normal.
    bounds = [np.flatnonzero(region.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    axis = int(np.argmin([(b[-1] - b[0] + 1) * spacing[i] for i, b in enumerate(bounds)]))
    start, end = int(bounds[axis][0]), int(bounds[axis][-1])
    return QualityIssue(
        "blank_region", axis, (start, end), round(float((end - start + 1) * spacing[axis]), 1),
        f"{ml:.0f} mL inside the brain hold one constant intensity without noise, so they were not imaged "
        f"(signal lost or overwritten; planes {start}-{end} of the {axis_direction(scan.affine, axis)} axis); "
        "rescan recommended.")


def check_acquisition(scan: Scan) -> list[QualityIssue]:
    """Missing-slice, cut-off and blank-region checks on the scan's own grid; [] when the scan looks complete."""
    tissue = tissue_mask(scan.data)
    spacing = scan.spacing_mm
    issues: list[QualityIssue] = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        counts = tissue.sum(axis=other)
        direction = axis_direction(scan.affine, axis)
        for start, end in _missing_runs(counts):
            mm = float((end - start + 1) * spacing[axis])
            issues.append(QualityIssue(
                "missing_slices", axis, (start, end), round(mm, 1),
                f"{mm:.0f} mm of slices missing inside the brain ({direction} axis, "
                f"planes {start}-{end}); rescan recommended."))
        present = np.flatnonzero(counts)
        if present.size == 0:
            continue
        peak = float(counts.max())
        for end_index, side in ((int(present[0]), "first"), (int(present[-1]), "last")):
            fraction = float(counts[end_index]) / peak
            if fraction >= CUT_FRACTION:
                issues.append(QualityIssue(
                    "cut_off", axis, (end_index, end_index), round(float(spacing[axis]), 1),
                    f"The brain is cut off at the {side} slice of the {direction} axis (plane {end_index} "
                    f"still holds {fraction:.0%} of the largest slice's brain); rescan with full coverage."))
    blank = _blank_region_issue(scan)
    return issues + ([blank] if blank is not None else [])
