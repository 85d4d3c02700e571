"""Slices missing from a DICOM series: the converters close such a gap up without a word, so it is
found here, from the slices' positions, before conversion."""

from __future__ import annotations

import numpy as np
import pydicom

from neurotriage.cases.multiframe import frame_geometry, is_multi_frame
from neurotriage.core.errors import Unprocessable


def slice_positions(datasets: list[pydicom.Dataset]) -> tuple[np.ndarray, np.ndarray] | None:
    """The slices' row and column direction cosines, shape (6,), and positions, shape (slices, 3) in mm: of
    the frames of a multi-frame file, else of the single-frame files; None without the geometry tags."""
    if len(datasets) == 1 and is_multi_frame(datasets[0]):
        return frame_geometry(datasets[0])
    try:
        orientation = np.asarray([float(v) for v in datasets[0].ImageOrientationPatient], dtype=float)
        positions = np.asarray([[float(v) for v in ds.ImagePositionPatient] for ds in datasets], dtype=float)
    except (AttributeError, TypeError, ValueError):
        return None
    if orientation.shape != (6,) or positions.shape != (len(datasets), 3):
        return None
    return orientation, positions


def check_slice_spacing(datasets: list[pydicom.Dataset]) -> None:
    """Refuse a series of slices with a gap: the converter would close it up without a word, stretching
    the volume and misplacing every slice after the gap (and every overlay on them).

    Positions are projected on the slice normal; a step over 1.5 times the median step is a gap.
    Series without the geometry tags and repeated positions (4D series) are left to the converter."""
    geometry = slice_positions(datasets)
    if geometry is None:
        return
    orientation, positions = geometry
    normal = np.cross(orientation[:3], orientation[3:])
    along = np.sort(positions @ normal)
    steps = np.diff(along)
    step = float(np.median(steps)) if steps.size else 0.0
    if step <= 1e-3 or np.any(steps <= 1e-3):
        return
    gaps = np.flatnonzero(steps > 1.5 * step)
    if gaps.size:
        missing = int(sum(round(steps[i] / step) - 1 for i in gaps))
        widest = int(gaps[np.argmax(steps[gaps])])
        raise Unprocessable(
            f"The series is incomplete: about {missing} slice(s) are missing ({steps[widest]:.1f} mm gap after "
            f"slice {widest + 1} of {len(along)}, where slices are {step:.1f} mm apart). "
            "Upload the complete series; if the scanner never wrote those slices, the scan must be repeated."
        )
