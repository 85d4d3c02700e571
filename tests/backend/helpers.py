"""Shortcuts for tests that need an uploaded (and optionally analysed) case, a committed one in a database of their
own, or check that an upload was refused whole."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from neurotriage.cases.models import Case
from neurotriage.jobs.models import Job
from neurotriage.users.service import create_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.factories import finish_job
from tests.backend.volumes import brain_like, write_nifti


def upload_case(client: ApiClient, tmp_path: Path, label: str = "case", seed: int = 0) -> int:
    path = write_nifti(tmp_path / f"{label.replace(' ', '_')}_{seed}.nii.gz", data=brain_like(seed=seed))
    with path.open("rb") as handle:
        response = client.post("/api/cases", files=[("files", (path.name, handle))], data={"label": label})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def analysed_case(
    client: ApiClient, db: Session, tmp_path: Path, label: str = "case", seed: int = 0, triage: str = "review"
) -> dict:
    case_id = upload_case(client, tmp_path, label, seed)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    finish_job(db, job.id, n_flags=2, triage=triage)
    return client.get(f"/api/cases/{case_id}").json()


def assert_nothing_stored(db: Session, storage_dir: Path) -> None:
    """No case, no job and no file: a refused upload keeps nothing half-written."""
    assert db.scalar(select(func.count()).select_from(Case)) == 0
    assert db.scalar(select(func.count()).select_from(Job)) == 0
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []


def assert_refused(response: httpx.Response, db: Session, storage_dir: Path, expected: str) -> None:
    """A 422 whose sentence holds ``expected``, and nothing stored."""
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]
    assert_nothing_stored(db, storage_dir)


def committed_case(sessions: sessionmaker[Session], label: str = "case") -> tuple[int, int]:
    """A case (no run, scan key ``cases/{id}/scan.nii.gz``, no file) and its uploader, committed as another process
    would find them: (case id, uploader id). For databases of their own, such as the embedded mode's SQLite."""
    with sessions() as session:
        owner = create_user(session, "uploader", PASSWORD, ["clinician"])
        session.flush()
        case = Case(label=label, sequence="t1", scan_key="", content_sha256=hashlib.sha256(label.encode()).hexdigest(),
                    uploaded_by_id=owner.id)
        session.add(case)
        session.flush()
        case.scan_key = f"cases/{case.id}/scan.nii.gz"
        session.commit()
        return case.id, owner.id
