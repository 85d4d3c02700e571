from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from neurotriage.auth.models import BrowserSession
from neurotriage.db import utcnow
from neurotriage.jobs.housekeeping import (
    STALE_MESSAGE,
    end_idle_sessions,
    fail_stale_jobs,
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
    assert clinician.get(f"/api/cases/{stuck}").json()["error"] == STALE_MESSAGE
    assert clinician.get(f"/api/cases/{fresh}").json()["status"] == "running"


def test_idle_sessions_are_ended(clinician: ApiClient, db) -> None:
    record = db.scalars(select(BrowserSession)).one()
    record.last_seen_at = utcnow() - timedelta(hours=2)
    db.commit()
    assert end_idle_sessions(db, timedelta(minutes=60)) == 1
    db.commit()
    assert clinician.get("/api/me").status_code == 401
