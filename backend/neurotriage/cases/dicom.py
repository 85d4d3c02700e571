"""DICOM uploads: unpack safely, check they form one MR series, de-identify, convert to NIfTI.

Conversion uses dicom2nifti (orientation and spacing are checked against Debian's dcm2niix in a test).
Every failure raises a DomainError with a sentence a person can act on; the caller stores nothing.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from collections import defaultdict
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
    patient_pseudonym,
    shifted_date,
)
from neurotriage.core.errors import PayloadTooLarge, Unprocessable

MAX_ZIP_MEMBERS = 5000

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


def extract_zip(archive: Path, target: Path, budget: InflateBudget) -> list[Path]:
    """Unpack a zip, refusing absolute or '..' paths, links, encrypted entries, and more files or
    bytes than the upload's ``budget`` has left (updated in place).

    Entries are named by number in every message: their file names often carry patient names, and so
    do the texts of the zip module's own errors (e.g. "Bad CRC-32 for file ...")."""
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise Unprocessable(f"The zip file is corrupt ({exc}).") from exc
    with bundle:
        members = [m for m in bundle.infolist() if not m.is_dir()]
        budget.members_used += len(members)
        if budget.members_used > budget.max_members:
            raise Unprocessable(
                f"The upload's zip files hold {budget.members_used} files; at most {budget.max_members} are accepted."
            )
        out = []
        for index, member in enumerate(members):
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or member.filename.startswith("/"):
                raise Unprocessable(f"Zip entry {index + 1} has an unsafe path (absolute or with '..').")
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise Unprocessable(f"Zip entry {index + 1} is a symbolic link; upload the files themselves.")
            if member.flag_bits & 0x1:
                raise Unprocessable(f"Zip entry {index + 1} is encrypted; upload the files without a password.")
            destination = target / f"{index:05d}.dcm"
            with _open_entry(bundle, member, index) as source, destination.open("wb") as sink:
                # Count real output bytes: the sizes in the zip directory can lie.
                while chunk := _read_entry(source, index):
                    budget.bytes_used += len(chunk)
                    if budget.bytes_used > budget.max_bytes:
                        raise PayloadTooLarge(
                            f"The upload's zip files inflate to more than {budget.max_bytes // (1 << 20)} MiB."
                        )
                    # Outside the corrupt-entry handling: a full disk is the server's fault, not the upload's.
                    sink.write(chunk)
            out.append(destination)
        return out


def _corrupt_entry(index: int) -> Unprocessable:
    return Unprocessable(f"Zip entry {index + 1} is corrupt; the zip file may be damaged or incompletely copied.")


def _open_entry(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, index: int) -> IO[bytes]:
    try:
        return bundle.open(member)
    except NotImplementedError as exc:
        raise Unprocessable(
            f"Zip entry {index + 1} uses a compression method that is not supported; use plain zip (deflate)."
        ) from exc
    except CORRUPT_ENTRY_ERRORS as exc:
        raise _corrupt_entry(index) from exc


def _read_entry(source: IO[bytes], index: int) -> bytes:
    """The entry's next MiB; b"" at its end."""
    try:
        return source.read(1 << 20)
    except CORRUPT_ENTRY_ERRORS as exc:
        raise _corrupt_entry(index) from exc


def _read_headers(paths: list[Path]) -> list[tuple[Path, pydicom.Dataset]]:
    headers, skipped = [], 0
    for index, path in enumerate(paths):
        try:
            dataset = pydicom.dcmread(path)
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            raise Unprocessable(f"File {index + 1} is not a readable DICOM file ({type(exc).__name__}).") from exc
        if "PixelData" not in dataset:
            skipped += 1  # DICOMDIR, presentation states, damaged files: no image to convert
            continue
        headers.append((path, dataset))
    if not headers:
        raise Unprocessable(f"The upload holds no readable DICOM image ({skipped} file(s) without image data).")
    return headers


def _one_series(headers: list[tuple[Path, pydicom.Dataset]]) -> str:
    series: dict[str, list[pydicom.Dataset]] = defaultdict(list)
    for _, dataset in headers:
        uid = str(dataset.get("SeriesInstanceUID", ""))
        if not uid:
            raise Unprocessable("A DICOM file has no SeriesInstanceUID.")
        series[uid].append(dataset)
    if len(series) > 1:
        # Name series by number and sequence, never by UID or free-text descriptions.
        listed = "; ".join(
            f"series {items[0].get('SeriesNumber', '?')} ({items[0].get('SequenceName', '') or items[0].get('Modality', '')}, "
            f"{len(items)} files)"
            for items in sorted(series.values(), key=lambda items: int(items[0].get("SeriesNumber", 0) or 0))
        )
        raise Unprocessable(f"The upload mixes {len(series)} series; upload one at a time: {listed}.")
    (uid,) = series
    modality = str(headers[0][1].get("Modality", ""))
    if modality != "MR":
        raise Unprocessable(f"Expected an MR series, got modality {modality or 'unknown'}.")
    if len(headers) < 8:
        raise Unprocessable(f"The series has only {len(headers)} images; a 3D brain volume needs more.")
    return uid


def _check_slice_spacing(datasets: list[pydicom.Dataset]) -> None:
    """Refuse a series of 2D slices with a gap: the converter would close it up without a word,
    stretching the volume and misplacing every slice after the gap (and every overlay on them).

    Positions are projected on the slice normal; a step over 1.5 times the median step is a gap.
    Series without the geometry tags, multi-frame files and repeated positions (4D series) are
    left to the converter."""
    try:
        orientation = np.asarray([float(v) for v in datasets[0].ImageOrientationPatient], dtype=float)
        positions = np.asarray([[float(v) for v in ds.ImagePositionPatient] for ds in datasets], dtype=float)
    except (AttributeError, TypeError, ValueError):
        return
    if orientation.shape != (6,) or positions.shape != (len(datasets), 3) or any(
        int(ds.get("NumberOfFrames", 1) or 1) > 1 for ds in datasets
    ):
        return
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
            f"slice {widest + 1} of {len(datasets)}, where slices are {step:.1f} mm apart). "
            "Upload the complete series; if the scanner never wrote those slices, the scan must be repeated."
        )


def _metadata(first: pydicom.Dataset, key: bytes, pseudonym: str, shift_dates: bool) -> dict[str, str]:
    raw_date = first.get("AcquisitionDate", "") or first.get("SeriesDate", "") or first.get("StudyDate", "")
    acquired = shifted_date(str(raw_date), key, pseudonym, shift_dates)
    fields = {
        "modality": first.get("Modality"),
        "sequence_name": first.get("SequenceName"),
        "scanning_sequence": first.get("ScanningSequence"),
        "acquisition_type": first.get("MRAcquisitionType"),
        "acquisition_date": acquired.isoformat() if acquired else None,
        "acquisition_date_shifted": "yes" if shift_dates else "no",
        "manufacturer": first.get("Manufacturer"),
        "scanner_model": first.get("ManufacturerModelName"),
        "field_strength_t": first.get("MagneticFieldStrength"),
        "echo_time_ms": first.get("EchoTime"),
        "repetition_time_ms": first.get("RepetitionTime"),
    }
    return {name: str(value) for name, value in fields.items() if value not in (None, "")}


def convert_series(paths: list[Path], work_dir: Path, key: bytes, shift_dates: bool) -> ConvertedSeries:
    """One MR series in, a de-identified copy and its NIfTI conversion out."""
    import dicom2nifti
    import dicom2nifti.settings

    headers = _read_headers(paths)
    series_uid = _one_series(headers)
    _check_slice_spacing([dataset for _, dataset in headers])
    clean_dir = work_dir / "deidentified"
    clean_dir.mkdir()
    deidentifier = Deidentifier(key, shift_dates=shift_dates)
    first = headers[0][1]
    pseudonym = patient_pseudonym(key, str(first.get("PatientID", "")), str(first.get("IssuerOfPatientID", "")))
    meta = _metadata(first, key, pseudonym, shift_dates)
    for index, (_path, dataset) in enumerate(headers):
        deidentifier.deidentify(dataset)
        dataset.save_as(clean_dir / f"{index:05d}.dcm")
    nifti = work_dir / "converted.nii.gz"
    dicom2nifti.settings.disable_validate_slice_increment()
    try:
        dicom2nifti.convert_dicom.dicom_series_to_nifti(str(clean_dir), str(nifti), reorient_nifti=True)
    except Exception as exc:  # dicom2nifti raises bare exceptions for unsupported series
        raise Unprocessable(f"The DICOM series could not be converted to a volume ({exc}).") from exc
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
