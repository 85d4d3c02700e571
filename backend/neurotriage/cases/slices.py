"""The slices of a DICOM series, put in shape before conversion: one stack of parallel slices, none missing,
numbered in the order they lie.

dicom2nifti quietly does three things that misplace slices, so each is checked or done here first, where a
person can be told what was wrong:
- it drops images in an orientation held by 4 files or fewer (localizers), then closes the gap a dropped slice
  leaves;
- it orders single-frame files by InstanceNumber and reads a change of direction as the start of another
  volume, so slices numbered in acquisition order (interleaved 2D) or all numbered alike fail or come out 4D;
- it stacks whatever positions it is given, gaps included.
"""

from __future__ import annotations

import numpy as np
import pydicom

from neurotriage.cases.multiframe import frame_geometry, image_size, is_multi_frame
from neurotriage.core.errors import Unprocessable

# How far an evenly spaced volume may put a slice from its recorded position: positions carry rounding (some
# scanners write them to 0.01 mm or coarser), a misplacement of a tenth of a slice does not.
SPACING_TOLERANCE_MM, SPACING_TOLERANCE = 0.1, 0.1
# dicom2nifti's rule: an orientation held by this many images or fewer is a localizer's.
LOCALIZER_MAX_IMAGES = 4
MIN_SLICES = 8
ORIENTATION_TOLERANCE = 1e-3  # direction cosines, as dicom2nifti compares them


def _numbers(dataset: pydicom.Dataset, keyword: str, count: int) -> np.ndarray | None:
    """The attribute's ``count`` numbers, e.g. ImageOrientationPatient's 6; None where it is missing or malformed."""
    try:
        value = np.asarray([float(v) for v in dataset.get(keyword)], dtype=float)
    except (TypeError, ValueError):
        return None
    return value if value.shape == (count,) else None


def image_types(dataset: pydicom.Dataset) -> list[str]:
    """The ImageType values upper-cased; one value or several (a lone value is a string, not a list)."""
    value = dataset.get("ImageType") or []
    return [str(value).upper()] if isinstance(value, str) else [str(part).upper() for part in value]


def _orientation(dataset: pydicom.Dataset) -> np.ndarray | None:
    return _numbers(dataset, "ImageOrientationPatient", 6)


def _position(dataset: pydicom.Dataset) -> np.ndarray | None:
    return _numbers(dataset, "ImagePositionPatient", 3)


def _without_localizers(datasets: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    """The images of the series' one stack orientation. Images marked LOCALIZER, and orientations of at most
    LOCALIZER_MAX_IMAGES images, are left out; a second orientation with more images is refused."""
    images = [ds for ds in datasets if "LOCALIZER" not in image_types(ds)]
    groups: list[tuple[np.ndarray, list[pydicom.Dataset]]] = []
    for dataset in images:
        orientation = _orientation(dataset)
        if orientation is None:
            return images  # refused next, by _refuse_unreadable_slices
        for reference, members in groups:
            if np.allclose(orientation, reference, atol=ORIENTATION_TOLERANCE):
                members.append(dataset)
                break
        else:
            groups.append((orientation, [dataset]))
    stacks = [members for _, members in groups if len(members) > LOCALIZER_MAX_IMAGES]
    if len(stacks) > 1:
        counts = ", ".join(str(len(members)) for members in sorted(stacks, key=len, reverse=True))
        raise Unprocessable(
            f"The series holds slices in {len(stacks)} orientations ({counts} images); upload one stack of parallel "
            "slices (reformats in other planes as their own series)."
        )
    kept = stacks[0] if stacks else images
    if len(kept) < MIN_SLICES:
        raise Unprocessable(
            f"The series has only {len(kept)} slices in one orientation"
            f"{' besides its localizer images' if len(kept) < len(datasets) else ''}; a 3D brain volume needs more."
        )
    return kept


def _one_of_each_instance(datasets: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    """A file uploaded twice (the same SOPInstanceUID) is the same image: kept once."""
    seen: set[str] = set()
    unique = []
    for dataset in datasets:
        uid = str(dataset.get("SOPInstanceUID", "") or "")
        if uid and uid in seen:
            continue
        seen.add(uid)
        unique.append(dataset)
    return unique


def slice_positions(datasets: list[pydicom.Dataset]) -> tuple[np.ndarray, np.ndarray] | None:
    """The slices' row and column direction cosines, shape (6,), and positions, shape (slices, 3) in mm: of
    the frames of a multi-frame file, else of the single-frame files; None without the geometry tags."""
    if len(datasets) == 1 and is_multi_frame(datasets[0]):
        return frame_geometry(datasets[0])
    orientation = _orientation(datasets[0])
    positions = [_position(ds) for ds in datasets]
    if orientation is None or any(position is None for position in positions):
        return None
    return orientation, np.asarray(positions, dtype=float)


def check_slice_spacing(datasets: list[pydicom.Dataset]) -> None:
    """Refuse a series whose slices' positions along the slice normal leave a gap (a step over 1.5 times the
    median step), or are so unevenly spaced that spacing them evenly would move one by more than a tenth of a
    slice (and at least 0.1 mm): the converter spaces them evenly without a word, stretching the volume and
    misplacing slices (and every overlay on them). Series without the geometry tags are left to the
    converter."""
    geometry = slice_positions(datasets)
    if geometry is None:
        return
    orientation, positions = geometry
    along = np.sort(positions @ np.cross(orientation[:3], orientation[3:]))
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
    # The converter spaces the slices evenly from the first to the last: how far that puts each from where it lies.
    even = along[0] + (along[-1] - along[0]) * np.arange(len(along)) / (len(along) - 1)
    misplaced = float(np.max(np.abs(along - even)))
    if misplaced > max(SPACING_TOLERANCE_MM, SPACING_TOLERANCE * step):
        raise Unprocessable(
            f"The slices are unevenly spaced ({steps.min():.2f} to {steps.max():.2f} mm apart): the volume, which "
            f"spaces them evenly, would place one {misplaced:.1f} mm from where it was acquired. Upload a series "
            "with evenly spaced slices."
        )


def _refuse_unreadable_slices(datasets: list[pydicom.Dataset]) -> None:
    """What the converter would fail on with an internal error, or read wrongly without a word: a Siemens mosaic
    (its layout is in private tags that de-identification removes), images without a position or orientation
    (it drops them and closes the gap), and images of different sizes or pixel spacings (it takes the first's)."""
    if any("MOSAIC" in image_types(ds) for ds in datasets):
        raise Unprocessable(
            "The series is a Siemens mosaic (functional or diffusion imaging, many slices tiled in each image), not "
            "a structural volume."
        )
    total = len(datasets)
    for keyword, count, meaning in (
        ("ImagePositionPatient", 3, "slice position"),
        ("ImageOrientationPatient", 6, "slice orientation"),
        ("PixelSpacing", 2, "pixel spacing"),
    ):
        lacking = sum(_numbers(ds, keyword, count) is None for ds in datasets)
        if lacking:
            raise Unprocessable(
                f"{lacking} of the series' {total} images carry no valid {meaning} ({keyword}), so the slices "
                "cannot be placed; export the series again from the scanner or PACS."
            )
    grids = {
        (image_size(ds), *np.round(_numbers(ds, "PixelSpacing", 2), 4))
        for ds in datasets
    }
    if len(grids) > 1:
        raise Unprocessable(
            f"The series' images come in {len(grids)} different sizes or pixel spacings; a volume needs one grid. "
            "Upload one stack of equal slices."
        )


def one_stack_in_order(datasets: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    """The single-frame images of one series as one stack, ordered along the slice normal (a new list; the
    datasets are changed in place only where their InstanceNumbers do not follow that order, see below).

    Left out: localizers and copies of one file. Refused: a second stack orientation, too few slices, images
    the converter cannot place or size alike (``_refuse_unreadable_slices``), several images at one position
    (several volumes in one series), and missing or unevenly spaced slices. Where the InstanceNumbers are
    missing, repeated or not in the order the slices lie, they are renumbered 1..N along the normal, since the
    converter orders by them."""
    kept = _without_localizers(_one_of_each_instance(datasets))
    _refuse_unreadable_slices(kept)
    orientation, positions = slice_positions(kept)  # type: ignore[misc]  # complete: checked just above
    along = positions @ np.cross(orientation[:3], orientation[3:])
    distinct = len(np.unique(np.round(along, 3)))
    if distinct < len(kept):
        raise Unprocessable(
            f"The series holds {len(kept)} images at only {distinct} slice position{'s' if distinct > 1 else ''}: "
            "several volumes (echoes, time points or repeated acquisitions) in one series. Upload a single 3D volume."
        )
    check_slice_spacing(kept)
    ordered = [kept[index] for index in np.argsort(along, kind="stable")]
    try:
        numbers = np.asarray([int(ds.InstanceNumber) for ds in ordered])
    except (AttributeError, TypeError, ValueError):
        numbers = np.zeros(len(ordered), dtype=int)
    steps = np.diff(numbers)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        for number, dataset in enumerate(ordered, start=1):
            dataset.InstanceNumber = number
    return ordered
