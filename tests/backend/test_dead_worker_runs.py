"""A run whose worker died is sent again at the next housekeeping pass, not left 'running' for hours.

Readers cannot cancel, re-run or delete a running case, so a worker killed mid-run (out of memory, a crash) used to
hold its case until twice the task's time limit had passed."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from neurotriage.audit.models import AuditEvent
from neurotriage.db import utcnow
from neurotriage.core.storage import get_storage
from neurotriage.jobs import runner
from neurotriage.jobs.housekeeping import runs_left_by_dead_workers, runs_to_send_again
from neurotriage.jobs.models import Failure, Job, JobStatus, Worker
from neurotriage.jobs.service import MAX_ATTEMPTS
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case

HEARTBEAT_S = 30
_SEEDS = itertools.count()


def _running(db, client: ApiClient, tmp_path: Path, label: str, *, worker: str | None, minutes_ago: float = 10,  # type: ignore[no-untyped-def]
             attempts: int = 1) -> Job:
    case_id = upload_case(client, tmp_path, label, seed=next(_SEEDS))  # a scan of its own: no duplicate upload
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    job.status, job.started_at, job.worker, job.attempts = JobStatus.running, utcnow() - timedelta(minutes=minutes_ago), worker, attempts
    job.stage, job.progress = "threshold search", 42
    return job


def _worker(db, name: str, *, started_minutes_ago: float, seen_seconds_ago: float, stopped: bool = False) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    db.add(Worker(name=name, queues="default,gpu", started_at=now - timedelta(minutes=started_minutes_ago),
                  last_seen_at=now - timedelta(seconds=seen_seconds_ago), stopped_at=now if stopped else None))


def test_runs_of_dead_stopped_or_restarted_workers_are_queued_again_and_live_ones_kept(
    clinician: ApiClient, db, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    _worker(db, "celery@alive", started_minutes_ago=60, seen_seconds_ago=5)
    _worker(db, "celery@silent", started_minutes_ago=60, seen_seconds_ago=600)
    _worker(db, "celery@restarted", started_minutes_ago=2, seen_seconds_ago=5)
    _worker(db, "celery@stopped", started_minutes_ago=60, seen_seconds_ago=5, stopped=True)
    kept = [
        _running(db, clinician, tmp_path, "analysing", worker="celery@alive"),
        _running(db, clinician, tmp_path, "just started", worker="celery@silent", minutes_ago=0.5),
        _running(db, clinician, tmp_path, "before migration 0021", worker=None),
    ]
    lost = [
        _running(db, clinician, tmp_path, "silent worker", worker="celery@silent"),
        _running(db, clinician, tmp_path, "restarted worker", worker="celery@restarted"),
        _running(db, clinician, tmp_path, "stopped worker", worker="celery@stopped"),
        _running(db, clinician, tmp_path, "forgotten worker", worker="celery@gone"),
    ]
    db.commit()
    resend, failed = runs_left_by_dead_workers(db, HEARTBEAT_S)
    db.commit()
    assert failed == [] and resend == [(job.id, 2) for job in lost]
    for job in lost:
        db.refresh(job)
        assert (job.status, job.delivery, job.worker, job.progress) == (JobStatus.queued, 2, None, 0)
        body = clinician.get(f"/api/cases/{job.case_id}").json()
        assert body["status"] == "queued"  # what the reader sees: waiting for a worker, no longer "running 42 %"
    for job in kept:
        db.refresh(job)
        assert job.status == JobStatus.running and job.delivery == 1
    resent = db.scalars(select(AuditEvent).where(AuditEvent.action == "job.resent")).all()
    assert sorted((e.detail["job_id"], e.detail["reason"], e.detail["worker"]) for e in resent) == sorted(
        (job.id, "worker_lost", name) for job, name in zip(
            lost, ("celery@silent", "celery@restarted", "celery@stopped", "celery@gone"), strict=True))
    # a second pass finds nothing more: the runs are queued now, under their new delivery number
    assert runs_left_by_dead_workers(db, HEARTBEAT_S) == ([], [])


def test_a_run_that_keeps_losing_its_worker_is_failed_after_the_last_attempt(
    clinician: ApiClient, db, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    job = _running(db, clinician, tmp_path, "kills its worker", worker="celery@gone", attempts=MAX_ATTEMPTS)
    db.commit()
    assert runs_left_by_dead_workers(db, HEARTBEAT_S) == ([], [job.id])
    db.commit()
    body = clinician.get(f"/api/cases/{job.case_id}").json()
    assert body["status"] == "failed" and "never finished" in body["error"]
    db.refresh(job)
    assert job.failure == Failure.worker_stopped


def test_a_run_sent_again_makes_no_other_waiting_run_look_lost(clinician: ApiClient, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same housekeeping pass then looks for lost messages: a run waiting behind the dead worker's must keep its
    message (a resend would put it behind the run sent again, and audit a loss that never happened)."""
    orphan = _running(db, clinician, tmp_path, "worker died", worker="celery@gone", minutes_ago=15)
    waiting = db.scalars(select(Job).where(Job.case_id == upload_case(clinician, tmp_path, "waiting", seed=next(_SEEDS)))).one()
    waiting.created_at = utcnow() - timedelta(minutes=12)
    db.commit()
    resend, _ = runs_left_by_dead_workers(db, HEARTBEAT_S)
    resend += runs_to_send_again(db, timedelta(minutes=10), HEARTBEAT_S, running_limit=timedelta(hours=1))
    assert resend == [(orphan.id, 2)]


def test_the_dead_workers_late_result_is_refused_once_the_run_was_sent_again(
    clinician: ApiClient, db, scope, storage_dir: Path, tmp_path: Path, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    """Taken for dead (a database outage longer than three heartbeats, say), the old worker may still finish: its
    result must not complete the run that a new message now owns."""
    job = _running(db, clinician, tmp_path, "slow worker", worker="celery@gone")
    db.commit()
    runs_left_by_dead_workers(db, HEARTBEAT_S)
    db.commit()
    monkeypatch.setattr(runner, "session_scope", scope)
    assert runner._start(job.id, 2, "celery@new") is not None  # the message sent again, taken by another worker
    assert not runner.save_result(job.id, tmp_path, {"flags": []}, get_storage(), scope=scope, message=1)
    runner._fail(job.id, Failure.internal, "late failure", delivery=1)
    db.refresh(job)
    assert (job.status, job.delivery, job.worker, job.error) == (JobStatus.running, 2, "celery@new", None)
