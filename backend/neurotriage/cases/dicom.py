"""DICOM uploads: unpack safely, check they form one MR series of one patient whose pixels de-identification
can clean, de-identify, convert to NIfTI.

Conversion uses dicom2nifti (orientation and spacing are checked against Debian's dcm2niix in a test).
Every failure raises a DomainError with a sentence a person can act on; the caller stores nothing.
Files are named to the user by number, never by file name: file names often carry patient names.
"""

from __future__ import annotations

import errno
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np
import pydicom
import pydicom.config
from pydicom.errors import InvalidDicomError

from neurotriage.cases.deid import (
    Deidentifier,
    keyed_digest,
    pseudonym_for,
    shifted_date,
)
from neurotriage.cases.multiframe import frame_count, prepare_multi_frame, shared_value
from neurotriage.cases.series import one_series
from neurotriage.cases.slices import check_slice_spacing, image_types, one_stack_in_order
from neurotriage.core.errors import PayloadTooLarge, Unprocessable

MAX_ZIP_MEMBERS = 5000

# What operating systems add to the zips they make, never DICOM: macOS Finder's __MACOSX/ folder of
# AppleDouble "._name" files and .DS_Store (any dot-file, as on Unix), Windows Explorer's thumbnail caches.
DESKTOP_CLUTTER_NAMES = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})

# How an unpacked zip entry is named on disk, so that a later message can still say which entry of
# which zip it was (see _source_labels).
UNPACKED_NAME = re.compile(r"zip(\d+)-entry(\d+)\.dcm")

# A secondary capture is a picture of a screen or a page: its pixels can show a name, and its
# ImageType is free to say so in words: SCREEN SAVE (Siemens, GE), SCREEN CAPTURE, SECONDARY CAPTURE,
# CSA REPORT (a Siemens report page). DERIVED\SECONDARY alone is not refused: reformats (MPR) and
# computed maps are marked so too, and they are volumes without drawn text.
SECONDARY_CAPTURE_CLASS = "1.2.840.10008.5.1.4.1.1.7"
CAPTURE_IMAGE_TYPE_WORDS = ("SCREEN", "CAPTURE", "REPORT")

# What reading a damaged entry raises: bad CRC or header (BadZipFile), bad deflate data (zlib.error),
# bad LZMA data (LZMAError), bad bzip2 data (OSError), a stream that stops short (EOFError).
CORRUPT_ENTRY_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError)

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


def is_zip(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def looks_like_dicom(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


@dataclass
class InflateBudget:
    """What all the zip files of one upload may unpack to together, so that many small zip
    bombs in one request are refused like one large one."""

    max_bytes: int
    max_members: int = MAX_ZIP_MEMBERS
    bytes_used: int = 0
    members_used: int = 0
    zips_opened: int = 0  # numbers each zip of the upload in messages


def _is_desktop_clutter(name: PurePosixPath) -> bool:
    return any(part in DESKTOP_CLUTTER_NAMES or part.startswith(".") for part in name.parts)


def _entry_label(zip_number: int, entry_number: int) -> str:
    """How the user can find an entry: its place in the zip's listing (1-based, folders included), and
    which zip of the upload when there are several."""
    return f"Zip entry {entry_number}" if zip_number == 1 else f"Entry {entry_number} of zip file {zip_number}"


def extract_zip(archive: Path, target: Path, budget: InflateBudget) -> list[Path]:
    """Unpack a zip, refusing absolute or '..' paths, links, encrypted entries, and more files or
    bytes than the upload's ``budget`` has left (updated in place). Folders and desktop clutter
    (``_is_desktop_clutter``) are skipped.

    Entries are named by number in every message: their file names often carry patient names, and so
    do the texts of the zip module's own errors (e.g. "Bad CRC-32 for file ...")."""
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise Unprocessable(f"The zip file is corrupt ({exc}).") from exc
    budget.zips_opened += 1
    zip_number = budget.zips_opened
    with bundle:
        entries = []
        for entry_number, member in enumerate(bundle.infolist(), start=1):
            label = _entry_label(zip_number, entry_number)
            name = PurePosixPath(member.filename.replace("\\", "/"))
            # Before the clutter rule, which would otherwise skip a '..' part as a dot-file.
            if name.is_absolute() or ".." in name.parts or member.filename.startswith("/"):
                raise Unprocessable(f"{label} has an unsafe path (absolute or with '..').")
            if member.is_dir() or _is_desktop_clutter(name):
                continue
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise Unprocessable(f"{label} is a symbolic link; upload the files themselves.")
            if member.flag_bits & 0x1:
                raise Unprocessable(f"{label} is encrypted; upload the files without a password.")
            entries.append((entry_number, member))
        budget.members_used += len(entries)
        if budget.members_used > budget.max_members:
            raise Unprocessable(
                f"The upload's zip files hold {budget.members_used} files; at most {budget.max_members} are accepted."
            )
        out = []
        for entry_number, member in entries:
            label = _entry_label(zip_number, entry_number)
            destination = target / f"zip{zip_number}-entry{entry_number}.dcm"
            with _open_entry(bundle, member, label) as source, destination.open("wb") as sink:
                # Count real output bytes: the sizes in the zip directory can lie.
                while chunk := _read_entry(source, label):
                    budget.bytes_used += len(chunk)
                    if budget.bytes_used > budget.max_bytes:
                        raise PayloadTooLarge(
                            f"The upload's zip files inflate to more than {budget.max_bytes // (1 << 20)} MiB."
                        )
                    # Outside the corrupt-entry handling: a full disk is the server's fault, not the upload's.
                    sink.write(chunk)
            out.append(destination)
        return out


def _corrupt_entry(label: str) -> Unprocessable:
    return Unprocessable(f"{label} is corrupt; the zip file may be damaged or incompletely copied.")


def _open_entry(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, label: str) -> IO[bytes]:
    try:
        return bundle.open(member)
    except NotImplementedError as exc:
        raise Unprocessable(
            f"{label} uses a compression method that is not supported; use plain zip (deflate)."
        ) from exc
    except CORRUPT_ENTRY_ERRORS as exc:
        raise _corrupt_entry(label) from exc


def _read_entry(source: IO[bytes], label: str) -> bytes:
    """The entry's next MiB; b"" at its end."""
    try:
        return source.read(1 << 20)
    except CORRUPT_ENTRY_ERRORS as exc:
        raise _corrupt_entry(label) from exc


def _source_labels(paths: list[Path]) -> list[str]:
    """How the user can find each file: an unpacked zip entry by its entry in its zip (``extract_zip``
    put both numbers in its name), an uploaded DICOM file by its place among the uploaded files. The
    list keeps the upload's order with each zip's entries together, so a file's place is counted from
    the loose files and zips before it; a zip that held no files at all is missed in that count."""
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


def _read_headers(paths: list[Path]) -> list[tuple[Path, pydicom.Dataset]]:
    headers, skipped = [], 0
    for label, path in zip(_source_labels(paths), paths, strict=True):
        try:
            # Large values (pixel data) are read when used: of a whole study, only the chosen series' are.
            dataset = pydicom.dcmread(path, defer_size="64 KB")
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            raise Unprocessable(f"{label} is not a readable DICOM file ({type(exc).__name__}).") from exc
        if "PixelData" not in dataset and ("FloatPixelData" in dataset or "DoubleFloatPixelData" in dataset):
            raise Unprocessable(
                f"{label} holds floating-point pixel data (a computed map), which cannot be converted; upload the "
                "MR images themselves."
            )
        if "PixelData" not in dataset:
            skipped += 1  # DICOMDIR, presentation states, damaged files: no image to convert
            continue
        headers.append((path, dataset))
    if not headers:
        raise Unprocessable(f"The upload holds no readable DICOM image ({skipped} file(s) without image data).")
    return headers


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
    return {name: str(value) for name, value in fields.items() if value not in (None, "")}


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
    paths: list[Path], work_dir: Path, key: bytes, shift_dates: bool, chosen_series: str | None = None
) -> ConvertedSeries:
    """One MR series in (the upload's only one, or the one ``chosen_series`` names: see ``series.one_series``), a
    de-identified copy and its NIfTI conversion out."""
    import dicom2nifti
    import dicom2nifti.settings

    series_uid, headers = one_series(_read_headers(paths), key, chosen_series)
    datasets = [dataset for _, dataset in headers]
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
        raise Unprocessable(f"The DICOM series could not be converted to a volume ({exc}).") from exc
    except Exception as exc:  # dicom2nifti raises bare exceptions for unsupported series
        reason = CONVERTER_REASONS.get(str(exc), str(exc))
        raise Unprocessable(f"The DICOM series could not be converted to a volume: {reason}.") from exc
    return ConvertedSeries(
        nifti=nifti,
        deidentified_dir=clean_dir,
        series_key=keyed_digest(key, "series", series_uid),
        patient_pseudonym=pseudonym,
        meta=meta,
    )


def zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.iterdir()):
            bundle.write(path, arcname=path.name)
