from __future__ import annotations

from datetime import timedelta
import os
import time
from pathlib import Path

from neurotriage.auth.models import BrowserSession
from neurotriage.db import utcnow
from neurotriage.core.storage import LocalStorage
from neurotriage.jobs.housekeeping import (
    STALE_MESSAGE,
    end_idle_sessions,
    fail_stale_jobs,
    remove_orphan_case_files,
    remove_stale_upload_spools,
)
from neurotriage.jobs.models import Job, JobStatus
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case


def test_runs_stuck_in_running_past_the_limit_are_failed_and_others_kept(
    clinician: ApiClient, db, tmp_path: Path
) -> None:
    stuck, fresh = (upload_case(clinician, tmp_path, f"c{i}", seed=i) for i in range(2))
    jobs = {job.case_id: job for job in db.scalars(select(Job))}
    for case_id, started in ((stuck, utcnow() - timedelta(hours=3)), (fresh, utcnow())):
        jobs[case_id].status, jobs[case_id].started_at = JobStatus.running, started
    db.commit()
    assert fail_stale_jobs(db, timedelta(hours=2)) == [jobs[stuck].id]
    db.commit()
    stuck_case = clinician.get(f"/api/cases/{stuck}").json()
    assert stuck_case["error"] == STALE_MESSAGE and stuck_case["retry_can_help"] is True
    assert clinician.get(f"/api/cases/{fresh}").json()["status"] == "running"


def test_idle_sessions_are_ended(clinician: ApiClient, db) -> None:
    record = db.scalars(select(BrowserSession)).one()
    record.last_seen_at = utcnow() - timedelta(hours=2)
    db.commit()
    assert end_idle_sessions(db, timedelta(minutes=60)) == 1
    db.commit()
    assert clinician.get("/api/me").status_code == 401


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    for item in [path, *path.rglob("*")]:
        os.utime(item, (then, then))


def test_case_folders_no_case_owns_are_removed_once_old(clinician: ApiClient, db, storage_dir: Path,
                                                        tmp_path: Path) -> None:
    """An API process killed between storing an upload and committing its case leaves files nobody can reach."""
    kept = upload_case(clinician, tmp_path, "kept")
    for orphan in ("990001", "990002"):
        (storage_dir / "cases" / orphan).mkdir(parents=True)
        (storage_dir / "cases" / orphan / "scan.nii.gz").write_bytes(b"de-identified scan")
    _age(storage_dir / "cases" / str(kept), 3)
    _age(storage_dir / "cases" / "990001", 3)  # 990002 stays recent: an upload on its way to its commit
    storage = LocalStorage(storage_dir)
    assert remove_orphan_case_files(db, storage, timedelta(hours=1)) == ["cases/990001"]
    assert sorted(p.name for p in (storage_dir / "cases").iterdir()) == sorted([str(kept), "990002"])
    assert clinician.get(f"/api/cases/{kept}/files/scan").status_code == 200


def test_stale_upload_spools_are_removed_and_others_kept(tmp_path: Path) -> None:
    stale_upload, stale_ingest, fresh, other = (tmp_path / name for name in
                                                ("nt-upload-a1", "nt-ingest-b2", "nt-upload-c3", "unrelated"))
    for folder in (stale_upload, stale_ingest, fresh, other):
        folder.mkdir()
        (folder / "upload0").write_bytes(b"raw upload with a patient name")
    for folder in (stale_upload, stale_ingest, other):
        _age(folder, 30)
    removed = remove_stale_upload_spools(tmp_path, timedelta(days=1))
    assert sorted(p.name for p in removed) == ["nt-ingest-b2", "nt-upload-a1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nt-upload-c3", "unrelated"]


def test_the_periodic_task_runs_every_step_and_reports_what_it_did(storage_dir: Path) -> None:
    from neurotriage.jobs.tasks import housekeeping

    (storage_dir / "cases" / "990003").mkdir(parents=True)
    (storage_dir / "cases" / "990003" / "scan.nii.gz").write_bytes(b"de-identified scan")
    _age(storage_dir / "cases" / "990003", 3)
    report = housekeeping()
    assert report["orphan_case_folders_removed"] == 1 and not (storage_dir / "cases" / "990003").exists()
    assert set(report) == {"stale_jobs_failed", "sessions_ended", "orphan_case_folders_removed", "workers_forgotten",
                           "runs_sent_again", "expired_cases_deleted"}
