"""Ingest of uploaded scans and the queries behind the worklist and the case page."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.cases.models import Case
from neurotriage.cases.nifti import is_nifti_name, load_checked, save_deidentified
from neurotriage.core.errors import Conflict, NotFound, UnsupportedMediaType, Unprocessable
from neurotriage.core.storage import Storage
from neurotriage.jobs.models import Flag, Job, Result
from neurotriage.jobs.service import create_job
from neurotriage.reviews.models import FlagVerdict
from neurotriage.users.models import User

SEQUENCES = ("t1", "t2", "flair")
MAX_PAGE_SIZE = 100


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class UploadedFile:
    """An upload already spooled to a local temporary file by the router."""

    filename: str
    path: Path


def ingest_nifti(
    session: Session,
    storage: Storage,
    user: User,
    upload: UploadedFile,
    *,
    label: str | None,
    sequence: str,
    model_profile: str,
    max_inflated_bytes: int,
    client_ip: str | None = None,
) -> tuple[Case, Job]:
    """Validate, de-identify and store one NIfTI upload, and create its case and queued job.

    Nothing is committed here; if this raises, the caller rolls back and no file is left behind.
    """
    if not is_nifti_name(upload.filename):
        raise UnsupportedMediaType("Unsupported file type: upload a NIfTI file (.nii or .nii.gz).")
    if sequence not in SEQUENCES:
        raise Unprocessable(f"Unknown sequence {sequence!r}; expected one of {', '.join(SEQUENCES)}.")
    content_hash = _sha256_of(upload.path)
    duplicate = session.scalar(select(Case.id).where(Case.content_sha256 == content_hash))
    if duplicate is not None:
        raise Conflict(f"This scan was already uploaded as case {duplicate}.")
    with tempfile.TemporaryDirectory(prefix="nt-ingest-") as tmp:
        image = load_checked(upload.path, upload.filename, Path(tmp), max_inflated_bytes)
        clean_path = Path(tmp) / "scan.nii.gz"
        save_deidentified(image, clean_path)
        case = Case(
            # Filenames often carry patient names, so the default label is derived from the content.
            label=(label or "").strip()[:200] or f"case-{content_hash[:8]}",
            sequence=sequence,
            scan_key="pending",
            content_sha256=content_hash,
            uploaded_by_id=user.id,
        )
        session.add(case)
        session.flush()
        case.scan_key = f"cases/{case.id}/scan.nii.gz"
        storage.put_file(case.scan_key, clean_path)
    try:
        job = create_job(session, case.id, model_profile)
        record(session, "case.uploaded", actor_id=user.id, case_id=case.id, client_ip=client_ip, job_id=job.id)
        session.flush()
    except BaseException:
        storage.delete(case.scan_key)
        raise
    return case, job


def latest_job_ids():  # type: ignore[no-untyped-def]
    """Subquery: the newest job of every case (a case can be re-run with another model)."""
    return select(Job.case_id, func.max(Job.id).label("job_id")).group_by(Job.case_id).subquery()


def list_cases(
    session: Session, *, status: str | None, page: int, page_size: int
) -> tuple[list[tuple[Case, Job, Result | None]], int]:
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    latest = latest_job_ids()
    query = (
        select(Case, Job, Result)
        .join(latest, latest.c.case_id == Case.id)
        .join(Job, Job.id == latest.c.job_id)
        .outerjoin(Result, Result.job_id == Job.id)
    )
    if status:
        query = query.where(Job.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(func.coalesce(Result.priority, 0).desc(), Case.uploaded_at.desc(), Case.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows], total


def get_case(session: Session, case_id: int) -> tuple[Case, Job, Result | None]:
    latest = latest_job_ids()
    row = session.execute(
        select(Case, Job, Result)
        .join(latest, latest.c.case_id == Case.id)
        .join(Job, Job.id == latest.c.job_id)
        .outerjoin(Result, Result.job_id == Job.id)
        .where(Case.id == case_id)
    ).first()
    if row is None:
        raise NotFound(f"No case {case_id}.")
    return row[0], row[1], row[2]


def is_reviewed(session: Session, case_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists()
                .where(FlagVerdict.flag_id == Flag.id)
                .where(Flag.result_id == Result.id)
                .where(Result.case_id == case_id)
            )
        )
    )


def file_key(case: Case, result: Result | None, kind: str) -> str:
    if kind == "scan":
        return case.scan_key
    if result is None or kind not in result.files:
        raise NotFound(f"The {kind.replace('_', ' ')} of case {case.id} is not available yet.")
    return result.files[kind]
