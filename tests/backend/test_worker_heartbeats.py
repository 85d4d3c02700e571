"""Workers' heartbeats: readers are told when runs wait with no analysis worker running, administrators see the
workers, and housekeeping sends again a run whose queue message was lost, while the lost message, should it turn
up, is skipped. (The live worker's own heartbeat and a lost message recovered end to end: test_worker.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from neurotriage.audit.models import AuditEvent
from neurotriage.db import utcnow
from neurotriage.jobs import runner
from neurotriage.jobs.housekeeping import runs_to_send_again
from neurotriage.jobs.models import Job, JobStatus, Worker
from neurotriage.jobs.workers import HeartbeatLoop, forget_silent_workers, record_heartbeat
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case

HEARTBEAT_S = 30  # the default setting the API runs with in these tests
IDLE = timedelta(minutes=10)


def _worker(db, name: str, queues: str = "default,gpu", *, started_ago: timedelta = timedelta(hours=1),  # type: ignore[no-untyped-def]
            seen_ago: timedelta = timedelta(seconds=5)) -> Worker:
    now = utcnow()
    worker = Worker(name=name, queues=queues, started_at=now - started_ago, last_seen_at=now - seen_ago)
    db.add(worker)
    db.flush()
    return worker


def _queued_job(clinician: ApiClient, db, tmp_path, label: str, queued_ago: timedelta, seed: int = 0) -> Job:  # type: ignore[no-untyped-def]
    case_id = upload_case(clinician, tmp_path, label, seed=seed)
    job = db.scalars(select(Job).where(Job.case_id == case_id)).one()
    job.created_at = utcnow() - queued_ago
    db.flush()
    return job


def test_readers_are_told_when_runs_wait_and_no_analysis_worker_runs(
    clinician: ApiClient, coordinator: ApiClient, db, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    assert clinician.get("/api/queue").json()["delay_notice"] is None  # nothing waits: nothing to say
    _queued_job(clinician, db, tmp_path, "waiting", timedelta(minutes=2))
    _queued_job(clinician, db, tmp_path, "waiting too", timedelta(minutes=1), seed=1)
    # a worker that only does housekeeping, and an inference worker that stopped beating, do not count
    _worker(db, "celery@housekeeper", "default")
    _worker(db, "celery@gone", seen_ago=timedelta(seconds=HEARTBEAT_S * 3 + 5))
    for reader in (clinician, coordinator):
        status = reader.get("/api/queue").json()
        assert status["queued"] == 2 and status["running"] == 0 and status["inference_workers_online"] == 0
        assert status["delay_notice"].startswith("No analysis worker is running, so 2 runs are waiting")
        assert status["workers"] is None  # the workers themselves are for administrators
    _worker(db, "celery@gpu-1", seen_ago=timedelta(seconds=HEARTBEAT_S * 2))
    status = clinician.get("/api/queue").json()
    assert status["inference_workers_online"] == 1 and status["delay_notice"] is None


def test_administrators_see_each_worker_online_or_not(admin: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    _worker(db, "celery@gpu-1")
    _worker(db, "celery@gpu-2", seen_ago=timedelta(minutes=5))
    workers = {w["name"]: w for w in admin.get("/api/queue").json()["workers"]}
    assert set(workers) == {"celery@gpu-1", "celery@gpu-2"}
    assert workers["celery@gpu-1"]["online"] and not workers["celery@gpu-2"]["online"]
    assert workers["celery@gpu-1"]["queues"] == ["default", "gpu"]


def test_a_heartbeat_creates_then_refreshes_the_row_and_a_clean_stop_removes_it(db, monkeypatch, scope) -> None:  # type: ignore[no-untyped-def]
    started = utcnow() - timedelta(minutes=3)
    record_heartbeat(db, "celery@a", ["gpu", "default"], started)
    first = db.get(Worker, "celery@a").last_seen_at
    record_heartbeat(db, "celery@a", ["gpu", "default"], started)
    row = db.get(Worker, "celery@a")
    assert row.queues == "default,gpu" and row.started_at == started and row.last_seen_at >= first
    monkeypatch.setattr("neurotriage.jobs.workers.session_scope", scope)
    loop = HeartbeatLoop("celery@b", ["gpu"], interval_s=0.05)
    loop.start()
    loop.stop()
    assert db.get(Worker, "celery@b") is None and not loop.is_alive()


def test_workers_silent_for_a_day_are_forgotten(db) -> None:  # type: ignore[no-untyped-def]
    _worker(db, "celery@old", seen_ago=timedelta(days=2))
    _worker(db, "celery@new")
    assert forget_silent_workers(db, timedelta(days=1)) == 1
    assert [w.name for w in db.scalars(select(Worker))] == ["celery@new"]


def test_a_run_left_queued_while_the_worker_idles_is_sent_again_with_a_new_number(
    clinician: ApiClient, db, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    _worker(db, "celery@gpu-1")
    lost = _queued_job(clinician, db, tmp_path, "lost", IDLE + timedelta(minutes=1))
    recent = _queued_job(clinician, db, tmp_path, "recent", IDLE - timedelta(minutes=1), seed=1)
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S) == [(lost.id, 2)]
    assert (lost.delivery, recent.delivery) == (2, 1)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "job.resent")).one()
    assert event.case_id == lost.case_id and event.detail == {"job_id": lost.id, "delivery": 2}


def _now_minus(minutes: float) -> datetime:
    return utcnow() - timedelta(minutes=minutes)


@pytest.mark.parametrize("why", ["running", "finished lately", "worker new", "worker silent",
                                 "housekeeping worker only"])
def test_nothing_is_sent_again_unless_an_inference_worker_idled_all_along(
    clinician: ApiClient, db, tmp_path, why: str  # type: ignore[no-untyped-def]
) -> None:
    waiting = _queued_job(clinician, db, tmp_path, "waiting", IDLE * 3)
    other = _queued_job(clinician, db, tmp_path, "other", IDLE * 3, seed=1)
    if why == "running":  # for longer than the idle window: a long analysis is no sign of a lost message
        other.status, other.started_at = JobStatus.running, _now_minus(25)
    elif why == "finished lately":
        other.status, other.started_at, other.finished_at = JobStatus.succeeded, _now_minus(20), _now_minus(9)
    else:
        other.status, other.finished_at = JobStatus.succeeded, _now_minus(25)
    _worker(db, "celery@gpu-1",
            queues="default" if why == "housekeeping worker only" else "default,gpu",
            started_ago=timedelta(minutes=5) if why == "worker new" else timedelta(hours=1),
            seen_ago=timedelta(minutes=5) if why == "worker silent" else timedelta(seconds=5))
    db.flush()
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S) == []
    assert waiting.delivery == 1


def test_a_superseded_message_is_skipped_and_the_current_one_runs(
    clinician: ApiClient, db, tmp_path, scope, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(runner, "session_scope", scope)
    job = _queued_job(clinician, db, tmp_path, "resent", IDLE * 2)
    job.delivery = 2  # housekeeping sent it again
    db.commit()
    assert runner._start(job.id, delivery=1) is None
    db.refresh(job)
    assert job.status == JobStatus.queued and job.attempts == 0
    assert runner._start(job.id, delivery=2) is not None
    db.refresh(job)
    assert job.status == JobStatus.running and job.attempts == 1


def test_a_message_sent_before_runs_had_numbers_still_runs(
    clinician: ApiClient, db, tmp_path, scope, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(runner, "session_scope", scope)
    job = _queued_job(clinician, db, tmp_path, "old message", timedelta(minutes=1))
    db.commit()
    assert runner._start(job.id, delivery=None) is not None
    db.refresh(job)
    assert job.status == JobStatus.running
