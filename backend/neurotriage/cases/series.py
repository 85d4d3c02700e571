"""Which series of a DICOM upload to convert: the only one, or the one the uploader chose.

A study exported from a scanner or PACS (a CD, a folder) holds several series: localizers, T1, FLAIR,
diffusion. Uploaded whole, it is refused with the list of its series (``SeveralSeries``), each named by a
keyed choice token; the same files sent again with one token convert that series alone. Series are named
by number, sequence, plane and size, never by their UIDs or their free-text descriptions, which can hold
a name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pydicom

from neurotriage.cases.deid import keyed_digest
from neurotriage.cases.multiframe import frame_count, shared_value
from neurotriage.core.errors import Unprocessable

MIN_IMAGES = 8


@dataclass(frozen=True)
class SeriesChoice:
    """One series of an upload, as the uploader is shown it."""

    choice: str  # keyed token for the series: stable for its files, says nothing of its UID
    number: int | None  # SeriesNumber, as the scanner's and PACS viewers show it
    modality: str
    sequence: str  # the scanner's sequence name, e.g. "*tfl3d1_16ns"
    acquisition: str  # "2D" or "3D" (MRAcquisitionType), "" when not given
    plane: str  # axial, coronal, sagittal, or "oblique <nearest>"; "" without orientation
    images: int  # images, counting each frame of a multi-frame file
    slice_mm: float | None  # slice thickness

    def describe(self) -> str:
        parts = [self.sequence or self.modality or "unknown", self.acquisition, self.plane, f"{self.images} images"]
        return f"series {self.number if self.number is not None else '?'} ({', '.join(p for p in parts if p)})"


class SeveralSeries(Unprocessable):
    """The upload holds several series and none was chosen: the response lists them for a choice."""

    def __init__(self, choices: list[SeriesChoice]) -> None:
        super().__init__(
            f"The upload mixes {len(choices)} series; choose the one to analyse: "
            + "; ".join(choice.describe() for choice in choices)
            + "."
        )
        self.extra = {"series": [asdict(choice) for choice in choices]}


def choice_token(key: bytes, series_uid: str) -> str:
    return keyed_digest(key, "series-choice", series_uid)[:20]


def _plane(dataset: pydicom.Dataset) -> str:
    orientation = dataset.get("ImageOrientationPatient")
    if orientation is None:
        frames = dataset.get("PerFrameFunctionalGroupsSequence")
        frame = frames[0] if frames else None
        group = frame.get("PlaneOrientationSequence") if frame is not None else None
        orientation = group[0].get("ImageOrientationPatient") if group else shared_value(
            dataset, "PlaneOrientationSequence", "ImageOrientationPatient"
        )
    try:
        cosines = np.asarray([float(v) for v in orientation], dtype=float)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return ""
    if cosines.shape != (6,):
        return ""
    normal = np.abs(np.cross(cosines[:3], cosines[3:]))
    nearest = ("sagittal", "coronal", "axial")[int(np.argmax(normal))]
    return nearest if normal.max() >= 0.95 else f"oblique {nearest}"


def _number(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _choice(key: bytes, uid: str, datasets: list[pydicom.Dataset]) -> SeriesChoice:
    first = datasets[0]
    thickness = first.get("SliceThickness") or shared_value(first, "PixelMeasuresSequence", "SliceThickness")
    try:
        slice_mm = round(float(thickness), 2) if thickness not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        slice_mm = None
    return SeriesChoice(
        choice=choice_token(key, uid),
        number=_number(first.get("SeriesNumber")),
        modality=str(first.get("Modality", "") or ""),
        sequence=str(first.get("SequenceName", "") or first.get("PulseSequenceName", "") or ""),
        acquisition=str(first.get("MRAcquisitionType", "") or ""),
        plane=_plane(first),
        images=sum(frame_count(dataset) for dataset in datasets),
        slice_mm=slice_mm,
    )


def one_series(
    headers: list[tuple[Path, pydicom.Dataset]], key: bytes, chosen: str | None = None
) -> tuple[str, list[tuple[Path, pydicom.Dataset]]]:
    """The series to convert (its SeriesInstanceUID) and its files: the upload's only series, or the one whose
    ``choice_token`` is ``chosen``. Several series and no choice raise ``SeveralSeries``; the chosen series must
    be one MR series of enough images."""
    series: dict[str, list[tuple[Path, pydicom.Dataset]]] = defaultdict(list)
    for item in headers:
        uid = str(item[1].get("SeriesInstanceUID", "") or "")
        if not uid:
            raise Unprocessable("A DICOM file has no SeriesInstanceUID.")
        series[uid].append(item)
    if chosen:
        picked = [uid for uid in series if choice_token(key, uid) == chosen]
        if not picked:
            raise Unprocessable("The chosen series is not in this upload; upload the files again and choose anew.")
        uid = picked[0]
    elif len(series) > 1:
        choices = [_choice(key, uid, [dataset for _, dataset in items]) for uid, items in series.items()]
        raise SeveralSeries(sorted(choices, key=lambda c: (c.number is None, c.number or 0, c.sequence)))
    else:
        (uid,) = series
    items = series[uid]
    modality = str(items[0][1].get("Modality", ""))
    if modality != "MR":
        raise Unprocessable(f"Expected an MR series, got modality {modality or 'unknown'}.")
    multi_frame = [dataset for _, dataset in items if frame_count(dataset) > 1]
    if multi_frame and len(items) > 1:
        # The converter reads the frames of the first multi-frame file only: the rest would be dropped unseen.
        raise Unprocessable(
            f"The series comes as {len(items)} files, {len(multi_frame)} of them multi-frame (enhanced MR); only a "
            "series in one multi-frame file, or in single-frame files, can be converted. Export the series again "
            "as one file, or as classic single-frame MR images."
        )
    images = sum(frame_count(dataset) for _, dataset in items)
    if images < MIN_IMAGES:
        raise Unprocessable(f"The series has only {images} images; a 3D brain volume needs more.")
    return uid, items
