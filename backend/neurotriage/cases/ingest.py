"""Ingest of an upload: a NIfTI file, a zip of a DICOM series, or the DICOM files of one series.

Everything is checked and converted in a temporary folder first; rows are added and files stored only
once the upload is known to be good, and stored files are removed again if a later step fails. Nothing
is committed here: the router commits, so a failure leaves no row and no file behind.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.cases.dicom import convert_series, looks_like_dicom
from neurotriage.cases.models import Case
from neurotriage.cases.nifti import is_nifti_name, load_checked, save_deidentified
from neurotriage.cases.zips import InflateBudget, extract_zip, is_zip, zip_folder
from neurotriage.core.errors import Conflict, Unprocessable, UnsupportedMediaType
from neurotriage.core.storage import Storage, case_folder
from neurotriage.jobs.models import Job
from neurotriage.jobs.service import create_job, screening_for
from neurotriage.users.models import User

SEQUENCES = ("t1", "t2", "flair")
# Temporary folders of an upload in progress: the raw upload (the route's) and its checks and conversion (here).
# They hold patient identifiers, so housekeeping removes any that a killed process left.
UPLOAD_SPOOL_PREFIX, INGEST_SPOOL_PREFIX = "nt-upload-", "nt-ingest-"
UNSUPPORTED = "Unsupported file type: upload a NIfTI file (.nii or .nii.gz), a zip of a DICOM series, or its DICOM files."


@dataclass(frozen=True)
class UploadedFile:
    """An upload already spooled to a local temporary file by the router."""

    filename: str
    path: Path


@dataclass(frozen=True)
class IngestOptions:
    label: str | None
    sequence: str
    model_profile: str
    max_inflated_bytes: int
    pseudonym_key: bytes
    shift_dicom_dates: bool = True
    client_ip: str | None = None
    series: str | None = None  # the series to convert from an upload of several (series.choice_token)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _content_hash(uploads: list[UploadedFile]) -> str:
    if len(uploads) == 1:
        return _sha256_of(uploads[0].path)
    # The same series uploaded as loose files in any order gives the same hash.
    return hashlib.sha256("".join(sorted(_sha256_of(u.path) for u in uploads)).encode()).hexdigest()


def _dicom_files(uploads: list[UploadedFile], work: Path, max_inflated_bytes: int) -> list[Path]:
    files: list[Path] = []
    budget = InflateBudget(max_bytes=max_inflated_bytes)
    for index, upload in enumerate(uploads):
        if is_nifti_name(upload.filename):
            raise Unprocessable("Upload one NIfTI file on its own, not together with other files.")
        # DICOM first: a DICOM file whose last 64 KiB happen to hold a zip's end-record bytes passes is_zip.
        if looks_like_dicom(upload.path):
            files.append(upload.path)
        elif is_zip(upload.path):
            target = work / f"zip{index}"
            target.mkdir()
            files += extract_zip(upload.path, target, budget)
        else:
            raise UnsupportedMediaType(f"File {index + 1} of {len(uploads)} is not NIfTI, DICOM or zip. {UNSUPPORTED}")
    return files


def ingest_upload(
    session: Session, storage: Storage, user: User, uploads: list[UploadedFile], options: IngestOptions
) -> tuple[Case, Job]:
    """Validate, de-identify, convert and store an upload; create its case and queued job."""
    if not uploads:
        raise Unprocessable("No file was uploaded.")
    if options.sequence not in SEQUENCES:
        raise Unprocessable(f"Unknown sequence {options.sequence!r}; expected one of {', '.join(SEQUENCES)}.")
    # A run that another profile could do in full is refused before anything is stored; the uploader keeps the file.
    # A sequence no profile can read gets the rescan checks alone.
    screening = screening_for(session, options.model_profile, options.sequence)
    nifti = len(uploads) == 1 and is_nifti_name(uploads[0].filename)
    content_hash = _content_hash(uploads)
    if nifti:
        _refuse_known(session, Case.content_sha256 == content_hash, "This scan", options.sequence)
    with tempfile.TemporaryDirectory(prefix=INGEST_SPOOL_PREFIX) as tmp:
        work = Path(tmp)
        case = Case(
            sequence=options.sequence,
            scan_key="pending",
            uploaded_by_id=user.id,
            source_format="nifti",
            dicom_meta={},
        )
        dicom_dir: Path | None = None
        if nifti:
            image = load_checked(uploads[0].path, uploads[0].filename, work, options.max_inflated_bytes)
        elif len(uploads) == 1 and not (looks_like_dicom(uploads[0].path) or is_zip(uploads[0].path)):
            raise UnsupportedMediaType(UNSUPPORTED)
        else:
            series = convert_series(
                _dicom_files(uploads, work, options.max_inflated_bytes), work, options.pseudonym_key,
                options.shift_dicom_dates, options.series,
                refuse_known_series=lambda key: _refuse_known(
                    session, Case.series_key == key, "This DICOM series", options.sequence),
            )
            # One study's files are uploaded once per series chosen from them: the same bytes with another series
            # are another scan. The series key's own uniqueness refuses the same series again.
            content_hash = hashlib.sha256(f"{content_hash}:{series.series_key}".encode()).hexdigest()
            image = load_checked(series.nifti, "converted.nii.gz", work, options.max_inflated_bytes)
            case.source_format = "dicom"
            case.series_key = series.series_key
            case.patient_pseudonym = series.patient_pseudonym
            case.dicom_meta = series.meta
            dicom_dir = series.deidentified_dir
        case.content_sha256 = content_hash
        # File names often carry patient names, so the default label is derived from the content.
        case.label = (options.label or "").strip()[:200] or f"case-{content_hash[:8]}"
        clean_path = work / "scan.nii.gz"
        save_deidentified(image, clean_path)
        _add_unless_uploaded_meanwhile(session, case)
        prefix = case_folder(case.id)
        # A new id's folder is empty, unless a restored database hands out an id again whose files (from an upload
        # made after the database copy) are still stored: they belong to no case, least of all this one.
        if not storage.delete_tree(prefix):
            raise RuntimeError(f"storage: {prefix} holds files of an unknown case that could not be removed")
        try:
            case.scan_key = f"{prefix}/scan.nii.gz"
            storage.put_file(case.scan_key, clean_path)
            if dicom_dir is not None:
                bundle = work / "dicom.zip"
                zip_folder(dicom_dir, bundle)
                storage.put_file(f"{prefix}/dicom-deidentified.zip", bundle)
            job = create_job(session, case.id, options.model_profile, screening)
            record(
                session, "case.uploaded", actor_id=user.id, case_id=case.id, client_ip=options.client_ip,
                job_id=job.id, source_format=case.source_format, files=len(uploads), screening=screening.value,
            )
            session.flush()
        except BaseException:
            storage.delete_tree(prefix)
            raise
    return case, job


def _already_uploaded(what: str, case_id: int, known_sequence: str, sent_sequence: str) -> str:
    """The same scan cannot be a second case; one sent as the wrong sequence is corrected where it is."""
    if known_sequence == sent_sequence:
        return f"{what} was already uploaded as case {case_id}; open that case."
    return (f"{what} was already uploaded as case {case_id}, as {known_sequence.upper()}. To analyse it as "
            f"{sent_sequence.upper()}, re-run it from that case's page as {sent_sequence.upper()}.")


def _refuse_known(session: Session, condition: ColumnElement[bool], what: str, sequence: str) -> None:
    known = session.execute(select(Case.id, Case.sequence).where(condition)).first()
    if known is not None:
        raise Conflict(_already_uploaded(what, known.id, known.sequence, sequence))


def _add_unless_uploaded_meanwhile(session: Session, case: Case) -> None:
    """Insert the case; 409 if the same scan or series was committed since the duplicate checks above (two
    uploads of one file at the same moment both pass them; the unique constraints decide), naming the case as the
    checks do instead of a bare 500. The refusal rolls the session back: nothing of this upload is kept. (Not a
    savepoint: on SQLite, whose driver opens a transaction only at the first write, releasing one commits.)"""
    session.add(case)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        duplicate = session.execute(
            select(Case.id, Case.sequence).where(
                (Case.content_sha256 == case.content_sha256)
                | ((Case.series_key == case.series_key) & Case.series_key.is_not(None))
            )
        ).first()
        raise Conflict(
            _already_uploaded("This scan", duplicate.id, duplicate.sequence, case.sequence) if duplicate is not None
            else "This scan was uploaded by someone else at the same moment; reload the worklist."
        ) from None
