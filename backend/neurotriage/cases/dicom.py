"""DICOM uploads (zips unpacked by ``zips``): read every file in full, check they form one MR series of one patient
whose pixels de-identification can clean, de-identify, convert to NIfTI.

Conversion uses dicom2nifti (orientation and spacing are checked against Debian's dcm2niix in a test).
Every failure raises a DomainError with a sentence a person can act on; the caller stores nothing.
Files are named to the user by number, never by file name: file names often carry patient names.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pydicom.config
from pydicom.dataelem import RawDataElement
from pydicom.filereader import read_file_meta_info
from pydicom.multival import MultiValue
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    EnhancedMRColorImageStorage,
    EnhancedMRImageStorage,
    LegacyConvertedEnhancedMRImageStorage,
    MRImageStorage,
)
from pydicom.values import converters

from neurotriage.cases.deid import (
    Deidentifier,
    keyed_digest,
    pseudonym_for,
    shifted_date,
)
from neurotriage.cases.multiframe import frame_count, image_size, prepare_multi_frame, shared_value
from neurotriage.cases.nifti import MAX_VOXELS
from neurotriage.cases.series import one_series
from neurotriage.cases.slices import check_slice_spacing, image_types, one_stack_in_order
from neurotriage.cases.zips import UNPACKED_NAME, InflateBudget, extract_zip  # noqa: F401  (the last two re-exported)
from neurotriage.core.errors import Unprocessable

# A secondary capture is a picture of a screen or a page: its pixels can show a name, and its
# ImageType is free to say so in words: SCREEN SAVE (Siemens, GE), SCREEN CAPTURE, SECONDARY CAPTURE,
# CSA REPORT (a Siemens report page). DERIVED\SECONDARY alone is not refused: reformats (MPR) and
# computed maps are marked so too, and they are volumes without drawn text.
SECONDARY_CAPTURE_CLASS = "1.2.840.10008.5.1.4.1.1.7"
CAPTURE_IMAGE_TYPE_WORDS = ("SCREEN", "CAPTURE", "REPORT")
# Image classes whose file without pixel data is a damaged image, not a DICOMDIR or a report to skip.
IMAGE_CLASSES = frozenset({
    MRImageStorage, EnhancedMRImageStorage, EnhancedMRColorImageStorage, LegacyConvertedEnhancedMRImageStorage,
})

# pydicom's default (warn) logs a malformed value verbatim, e.g. an original UID or patient name,
# before de-identification has replaced it. Values are checked by our own code instead.
pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE


@dataclass(frozen=True)
class ConvertedSeries:
    nifti: Path  # the converted volume
    deidentified_dir: Path  # the de-identified DICOM files
    series_key: str  # keyed hash of the original SeriesInstanceUID
    patient_pseudonym: str
    meta: dict[str, str]


def looks_like_dicom(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def _source_labels(paths: list[Path]) -> list[str]:
    """How the user can find each file: an unpacked zip entry by its entry in its zip (``extract_zip``
    put both numbers in its name), an uploaded DICOM file by its place among the uploaded files. The
    list keeps the upload's order with each zip's entries together, so a file's place is counted from
    the loose files and zips before it (a zip without files is refused, so each one counts)."""
    several_zips = any(
        (match := UNPACKED_NAME.fullmatch(path.name)) and int(match[1]) > 1 for path in paths
    )
    labels, upload_number, last_zip = [], 0, None
    for path in paths:
        match = UNPACKED_NAME.fullmatch(path.name)
        if match is None:
            upload_number, last_zip = upload_number + 1, None
            labels.append(f"File {upload_number}")
            continue
        zip_number, entry_number = int(match[1]), int(match[2])
        if zip_number != last_zip:
            upload_number, last_zip = upload_number + 1, zip_number
        labels.append(
            f"Entry {entry_number} of zip file {zip_number}" if several_zips else f"Zip entry {entry_number}"
        )
    return labels


class _CutShort(Exception):
    pass


class _UnknownVR(Exception):
    """A value left on disk under a value representation pydicom cannot convert (it would fail when read)."""


def _check_syntax(path: Path, label: str) -> None:
    """Read before the data set: pydicom inflates a deflated file whole, in memory and unbounded (a file of 1 MB
    can unpack to GiBs), and cannot write back a transfer syntax it does not know."""
    try:
        syntax = read_file_meta_info(path).get("TransferSyntaxUID")
    except Exception as exc:  # pydicom raises many types for a malformed header; the reason can quote a value
        raise _unreadable(label) from exc
    if syntax is None:
        return  # pydicom infers the encoding, as it does for files written without file meta
    if not isinstance(syntax, str) or not UID(syntax).is_transfer_syntax:
        raise Unprocessable(f"{label} declares a transfer syntax that is not a known one; it may be damaged.")
    if syntax == DeflatedExplicitVRLittleEndian:
        raise Unprocessable(
            f"{label} uses the deflated transfer syntax, which is not supported; export the series uncompressed "
            "(or JPEG-compressed) instead."
        )


def _unreadable(label: str) -> Unprocessable:
    return Unprocessable(f"{label} is not a readable DICOM file; it may be damaged or not DICOM.")


def _parse_fully(dataset: pydicom.Dataset, file_size: int) -> None:
    """Convert every element now, at every depth, so that a malformed one fails here, where the file can be named,
    rather than later in de-identification or conversion. Values left on disk (over the defer size: pixel data)
    are not read, but must lie within the file; a value shorter than its length means the file was cut short."""
    for tag in list(dataset.keys()):
        raw = dataset.get_item(tag, keep_deferred=True)
        if isinstance(raw, RawDataElement):
            deferred = raw.value is None and raw.length != 0
            if raw.length != 0xFFFFFFFF:
                if deferred and raw.value_tell + raw.length > file_size:
                    raise _CutShort
                if not deferred and len(raw.value or b"") < raw.length:
                    raise _CutShort
            if deferred:
                if raw.VR is not None and raw.VR not in converters:
                    raise _UnknownVR
                continue
        element = dataset[tag]
        if element.VR == "SQ":
            for item in element.value:
                _parse_fully(item, file_size)


def _read_one(path: Path, label: str) -> pydicom.Dataset:
    _check_syntax(path, label)
    try:
        # Large values (pixel data) are read when used: of a whole study, only the chosen series' are.
        dataset = pydicom.dcmread(path, defer_size="64 KB")
        _parse_fully(dataset.file_meta, path.stat().st_size)
        _parse_fully(dataset, path.stat().st_size)
    except _CutShort as exc:
        raise Unprocessable(f"{label} is cut short; it may be damaged or incompletely copied.") from exc
    except Exception as exc:  # _UnknownVR, and pydicom's many types (NotImplementedError, BytesLengthException, ...)
        raise _unreadable(label) from exc
    return dataset


def _check_image(dataset: pydicom.Dataset, label: str) -> None:
    """What every image needs before any of it is used: its identity and its size."""
    missing = [
        keyword for keyword in ("SOPInstanceUID", "SeriesInstanceUID")
        if not isinstance(dataset.get(keyword), str) or not dataset.get(keyword).strip()
    ]
    if missing:
        raise Unprocessable(
            f"{label} has no valid {' or '.join(missing)}, which every DICOM image carries; it may be damaged."
        )
    if image_size(dataset) is None:
        raise Unprocessable(f"{label} has no valid image size (Rows and Columns); it may be damaged.")


def _read_headers(paths: list[Path]) -> list[tuple[Path, pydicom.Dataset]]:
    headers, skipped = [], 0
    for label, path in zip(_source_labels(paths), paths, strict=True):
        dataset = _read_one(path, label)
        if "PixelData" not in dataset and ("FloatPixelData" in dataset or "DoubleFloatPixelData" in dataset):
            raise Unprocessable(
                f"{label} holds floating-point pixel data (a computed map), which cannot be converted; upload the "
                "MR images themselves."
            )
        if "PixelData" not in dataset:
            if "Rows" in dataset or "Columns" in dataset or str(dataset.get("SOPClassUID", "")) in IMAGE_CLASSES:
                # An image cut short before its pixels (an interrupted copy): leaving it out would drop a slice.
                raise Unprocessable(
                    f"{label} is an image without pixel data; it may be damaged or incompletely copied."
                )
            skipped += 1  # DICOMDIR, presentation states, reports: no image to convert
            continue
        _check_image(dataset, label)
        headers.append((path, dataset))
    if not headers:
        raise Unprocessable(f"The upload holds no readable DICOM image ({skipped} file(s) without image data).")
    return headers


def _check_voxels(datasets: list[pydicom.Dataset]) -> None:
    """Compressed pixel data is decoded whole by the conversion: its size is checked from the headers first."""
    voxels = sum(
        size[0] * size[1] * frame_count(dataset)
        for dataset in datasets
        if (size := image_size(dataset)) is not None
    )
    if voxels > MAX_VOXELS:
        raise Unprocessable(
            f"The series has {voxels / 1e6:.0f} million voxels, more than the {MAX_VOXELS / 1e6:.0f} million the "
            "analysis reads; export it at a coarser resolution."
        )


def _is_screen_capture(dataset: pydicom.Dataset) -> bool:
    """See CAPTURE_IMAGE_TYPE_WORDS for the rule."""
    sop_class = str(dataset.get("SOPClassUID", ""))
    if sop_class == SECONDARY_CAPTURE_CLASS or sop_class.startswith(SECONDARY_CAPTURE_CLASS + "."):
        return True
    return any(word in part for part in image_types(dataset) for word in CAPTURE_IMAGE_TYPE_WORDS)


def _refuse_identifying_pixels(datasets: list[pydicom.Dataset]) -> None:
    """De-identification cleans the header, never the pixels: a series whose pixels may show who the
    patient is (text drawn into the image, a recognisable face, a screen capture) is refused whole."""
    for attribute, meaning in (
        ("BurnedInAnnotation", "patient details drawn into the pixels"),
        ("RecognizableVisualFeatures", "the patient can be recognised from the images"),
    ):
        marked = sum(str(dataset.get(attribute, "")).strip().upper() == "YES" for dataset in datasets)
        if marked:
            raise Unprocessable(
                f"The series was refused and nothing was stored: {marked} of its {len(datasets)} images are "
                f"marked {attribute} YES ({meaning}), which de-identification cannot remove."
            )
    captures = sum(_is_screen_capture(dataset) for dataset in datasets)
    if captures:
        raise Unprocessable(
            f"The series was refused and nothing was stored: {captures} of its {len(datasets)} images are screen "
            "or secondary captures, whose pixels can show patient details that de-identification cannot remove; "
            "upload the original MR images."
        )


def _one_patient(datasets: list[pydicom.Dataset], key: bytes) -> str:
    """The series' pseudonym. Files that name different patients were mixed up or merged somewhere, and
    the case would be linked to one of them only."""
    pseudonyms = {pseudonym_for(key, dataset) for dataset in datasets}
    if len(pseudonyms) > 1:
        raise Unprocessable(
            f"The files of one series name different patients ({len(pseudonyms)} different patient IDs), so nothing "
            "was stored; check that no other patient's files were mixed in."
        )
    return pseudonyms.pop()


def _metadata(first: pydicom.Dataset, key: bytes, pseudonym: str, shift_dates: bool) -> dict[str, str]:
    raw_date = first.get("AcquisitionDate", "") or first.get("SeriesDate", "") or first.get("StudyDate", "")
    acquired = shifted_date(str(raw_date), key, pseudonym, shift_dates)
    fields = {
        "modality": first.get("Modality"),
        "sequence_name": first.get("SequenceName") or first.get("PulseSequenceName"),
        "scanning_sequence": first.get("ScanningSequence"),
        "acquisition_type": first.get("MRAcquisitionType"),
        "acquisition_date": acquired.isoformat() if acquired else None,
        "acquisition_date_shifted": "yes" if shift_dates else "no",
        "manufacturer": first.get("Manufacturer"),
        "scanner_model": first.get("ManufacturerModelName"),
        "field_strength_t": first.get("MagneticFieldStrength"),
        # Enhanced MR keeps these in its shared functional groups.
        "echo_time_ms": first.get("EchoTime") or shared_value(first, "MREchoSequence", "EffectiveEchoTime"),
        "repetition_time_ms": first.get("RepetitionTime")
        or shared_value(first, "MRTimingAndRelatedParametersSequence", "RepetitionTime"),
    }
    return {name: _as_text(value) for name, value in fields.items() if value not in (None, "")}


def _as_text(value: object) -> str:
    """A DICOM value as a reader would write it: a multi-valued one ("SE", "IR") as "SE/IR", not a Python list."""
    if isinstance(value, (list, tuple, MultiValue)):
        return "/".join(str(item) for item in value)
    return str(value)


# What dicom2nifti's error codes mean for the person who uploaded the series.
CONVERTER_REASONS = {
    "NON_CUBICAL_IMAGE/GANTRY_TILT": "its slices are not stacked straight along their normal (gantry tilt, or a "
    "sheared stack), and the conversion does not resample them",
    "IMAGE_ORIENTATION_INCONSISTENT": "its images lie in different orientations",
    "TOO_FEW_SLICES/LOCALIZER": "it has too few slices for a volume (a localizer?)",
    "NOT_A_VOLUME": "all its images lie at one position",
    "MOSAIC_TYPE_NOT_SUPPORTED": "it is a Siemens mosaic (functional or diffusion imaging), not a structural volume",
    "IMPLICIT_VR_ENHANCED_DICOM": "it is a multi-frame file in implicit VR, which the conversion cannot read; export "
    "it in explicit VR or as classic single-frame images",
    "NON_IMAGING_DICOM_FILES": "its files carry no image geometry (ImageOrientationPatient)",
    "MISSING_DICOM_FILES": "its slices do not form complete volumes",
}


def convert_series(
    paths: list[Path],
    work_dir: Path,
    key: bytes,
    shift_dates: bool,
    chosen_series: str | None = None,
    refuse_known_series: Callable[[str], None] | None = None,
) -> ConvertedSeries:
    """One MR series in (the upload's only one, or the one ``chosen_series`` names: see ``series.one_series``), a
    de-identified copy and its NIfTI conversion out. ``refuse_known_series`` gets the series key before the
    conversion, to refuse a series uploaded before without converting it again."""
    import dicom2nifti
    import dicom2nifti.settings

    series_uid, headers = one_series(_read_headers(paths), key, chosen_series)
    series_key = keyed_digest(key, "series", series_uid)
    if refuse_known_series is not None:
        refuse_known_series(series_key)
    datasets = [dataset for _, dataset in headers]
    _check_voxels(datasets)
    _refuse_identifying_pixels(datasets)
    pseudonym = _one_patient(datasets, key)
    if len(datasets) == 1 and frame_count(datasets[0]) > 1:
        prepare_multi_frame(datasets[0])
        check_slice_spacing(datasets)
    else:
        datasets = one_stack_in_order(datasets)
    clean_dir = work_dir / "deidentified"
    clean_dir.mkdir()
    deidentifier = Deidentifier(key, shift_dates=shift_dates)
    meta = _metadata(datasets[0], key, pseudonym, shift_dates)
    for index, dataset in enumerate(datasets):
        deidentifier.deidentify(dataset)
        dataset.save_as(clean_dir / f"{index:05d}.dcm")
    nifti = work_dir / "converted.nii.gz"
    dicom2nifti.settings.disable_validate_slice_increment()
    try:
        dicom2nifti.convert_dicom.dicom_series_to_nifti(str(clean_dir), str(nifti), reorient_nifti=True)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # the server's disk, not the series: the upload route answers 507
        # strerror alone: the full text names the server's spool path.
        raise Unprocessable(
            f"The DICOM series could not be converted to a volume ({exc.strerror or 'a file could not be read'})."
        ) from exc
    except Exception as exc:  # dicom2nifti raises bare exceptions for unsupported series
        reason = CONVERTER_REASONS.get(str(exc), str(exc))
        raise Unprocessable(f"The DICOM series could not be converted to a volume: {reason}.") from exc
    return ConvertedSeries(
        nifti=nifti,
        deidentified_dir=clean_dir,
        series_key=series_key,
        patient_pseudonym=pseudonym,
        meta=meta,
    )

