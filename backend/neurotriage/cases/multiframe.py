"""Enhanced (multi-frame) MR: one file per series, each frame's geometry and timing in functional groups.

Newer scanners (Philips, Siemens XA) export this form by default. dicom2nifti converts it, but places each
frame by its InStackPositionNumber while taking the volume's origin and slice direction from the first
and last frames as stored. A file whose frames are stored in another order (the standard allows any)
would come out with its slices reversed or shuffled against its affine, so every overlay would land on the
wrong slice. ``prepare_multi_frame`` makes the stored order the stack order before conversion, and fills in
what the converter reads from each frame alone.
"""

from __future__ import annotations

import copy

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.sequence import Sequence

from neurotriage.core.errors import Unprocessable


def frame_count(dataset: Dataset) -> int:
    try:
        return max(1, int(dataset.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def image_size(dataset: Dataset) -> tuple[int, int] | None:
    """(Rows, Columns), or None where either is missing, not one whole number, or not positive."""
    size = (dataset.get("Rows"), dataset.get("Columns"))
    if all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in size):
        return size  # type: ignore[return-value]
    return None


def is_multi_frame(dataset: Dataset) -> bool:
    return frame_count(dataset) > 1 and "PerFrameFunctionalGroupsSequence" in dataset


def _functional_group_value(dataset: Dataset, frame: Dataset | None, macro: str, keyword: str) -> object | None:
    """``keyword`` from the functional group ``macro`` of the frame, else of the shared groups, else None."""
    shared = dataset.get("SharedFunctionalGroupsSequence")
    for group in (frame, shared[0] if shared else None):
        if group is not None and macro in group and group[macro].value:
            value = group[macro].value[0].get(keyword)
            if value not in (None, ""):
                return value
    return None


def shared_value(dataset: Dataset, macro: str, keyword: str) -> object | None:
    """An acquisition attribute that enhanced MR keeps in the shared functional groups, e.g. the repetition
    time in MRTimingAndRelatedParametersSequence; None when absent."""
    return _functional_group_value(dataset, None, macro, keyword)


def frame_geometry(dataset: Dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """The row and column direction cosines, shape (6,), and every frame's ImagePositionPatient, shape
    (frames, 3) in mm, in the stored order; None where a frame lacks them."""
    frames = dataset.PerFrameFunctionalGroupsSequence
    if not frames:
        return None
    try:
        orientation = np.asarray(
            [float(v) for v in _functional_group_value(dataset, frames[0], "PlaneOrientationSequence",
                                                       "ImageOrientationPatient")],  # type: ignore[union-attr]
            dtype=float,
        )
        positions = np.asarray(
            [[float(v) for v in _functional_group_value(dataset, frame, "PlanePositionSequence",
                                                        "ImagePositionPatient")]  # type: ignore[union-attr]
             for frame in frames],
            dtype=float,
        )
    except (TypeError, ValueError):
        return None
    if orientation.shape != (6,) or positions.shape != (len(frames), 3):
        return None
    return orientation, positions


def _stack_numbers(dataset: Dataset) -> list[int] | None:
    numbers = []
    for frame in dataset.PerFrameFunctionalGroupsSequence:
        content = frame.get("FrameContentSequence")
        number = content[0].get("InStackPositionNumber") if content else None
        try:
            numbers.append(int(number))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    return numbers


def prepare_multi_frame(dataset: Dataset) -> None:
    """Make a multi-frame ``dataset`` (in place) one that dicom2nifti converts as it lies: frames stored in their
    stack order (by InStackPositionNumber where every frame has one, else by position along the slice normal),
    each frame numbered 1..N in that order (the converter places frames by those numbers and counts only the
    frames that have one), and the shared rescale written into every frame (the converter reads only the
    frames' own).

    Refused: a file without per-frame functional groups, or describing or holding fewer frames than it says,
    frames without a position or orientation, several stacks or time points (repeated positions), and
    positions that do not follow the stack numbers."""
    count = frame_count(dataset)
    if "PerFrameFunctionalGroupsSequence" not in dataset:
        raise Unprocessable(
            f"The file holds {count} frames without per-frame geometry (it is not an enhanced MR file), so its "
            "slices cannot be placed; export the series as single-frame MR images."
        )
    described = len(dataset.PerFrameFunctionalGroupsSequence)
    if described != count:
        raise Unprocessable(
            f"The multi-frame file says it holds {count} frames but describes {described}; it may be damaged or "
            "incompletely exported."
        )
    stored = _stored_frames(dataset, count)
    geometry = frame_geometry(dataset)
    if geometry is None:
        raise Unprocessable(
            "Some frames of the multi-frame file carry no slice position or orientation (PlanePositionSequence, "
            "PlaneOrientationSequence), so the slices cannot be placed; export the series again."
        )
    orientation, positions = geometry
    along = positions @ np.cross(orientation[:3], orientation[3:])
    if len(np.unique(np.round(along, 3))) < len(along):
        raise Unprocessable(
            f"The multi-frame file holds {len(along)} frames at only {len(np.unique(np.round(along, 3)))} slice "
            "positions: several volumes (echoes, time points or stacks) in one file. Upload a single 3D volume."
        )
    numbers = _stack_numbers(dataset)
    order = np.argsort(numbers, kind="stable") if numbers is not None else np.argsort(along, kind="stable")
    steps = np.diff(along[order])
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise Unprocessable(
            "The frames' positions do not follow their stack order (InStackPositionNumber), so the slices "
            "could not be placed; export the series again, or as classic single-frame MR images."
        )
    if not np.array_equal(order, np.arange(len(order))):
        # Frames move as stored bytes, never decoded: nothing about the pixels changes but their order.
        if dataset.file_meta.TransferSyntaxUID.is_encapsulated:
            dataset.PixelData = encapsulate([stored[index] for index in order])
            # The old offset tables point into the old order.
            for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
                if keyword in dataset:
                    del dataset[keyword]
        else:
            dataset.PixelData = b"".join(stored[index] for index in order)
        frames = list(dataset.PerFrameFunctionalGroupsSequence)
        dataset.PerFrameFunctionalGroupsSequence = Sequence([frames[index] for index in order])
    shared = dataset.get("SharedFunctionalGroupsSequence")
    shared_rescale = shared[0].get("PixelValueTransformationSequence") if shared else None
    for number, frame in enumerate(dataset.PerFrameFunctionalGroupsSequence, start=1):
        if "FrameContentSequence" not in frame or not frame.FrameContentSequence:
            frame.FrameContentSequence = Sequence([Dataset()])
        frame.FrameContentSequence[0].InStackPositionNumber = number
        if shared_rescale and "PixelValueTransformationSequence" not in frame:
            frame.PixelValueTransformationSequence = copy.deepcopy(shared_rescale)


def _stored_frames(dataset: Dataset, count: int) -> list[bytes]:
    """The ``count`` frames of the pixel data as stored: compressed frames from their encapsulation,
    uncompressed ones cut by their size."""
    damaged = Unprocessable("The multi-frame file's pixel data does not hold its frames; it may be damaged.")
    syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is None:
        raise damaged
    if syntax.is_encapsulated:
        try:
            frames = list(generate_frames(dataset.PixelData, number_of_frames=count))
        except (ValueError, IndexError, KeyError) as exc:
            raise damaged from exc
    else:
        grid = image_size(dataset)
        if grid is None:
            raise damaged
        try:
            bits = int(dataset.BitsAllocated)
            size = grid[0] * grid[1] * int(dataset.get("SamplesPerPixel", 1)) * (bits // 8)
            stored = bytes(dataset.PixelData)
        except (AttributeError, TypeError, ValueError) as exc:
            raise damaged from exc
        if bits % 8 or len(stored) < size * count:
            raise damaged
        frames = [stored[index * size:(index + 1) * size] for index in range(count)]
    if len(frames) != count:
        raise damaged
    return frames
