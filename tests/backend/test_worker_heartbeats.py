"""Workers' heartbeats: readers are told when runs wait with no analysis worker running, administrators see the
workers, and housekeeping sends again a run whose queue message was lost, while the lost message, should it turn
up, is skipped. (The live worker's own heartbeat and a lost message recovered end to end: test_worker.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from neurotriage.audit.models import AuditEvent
from neurotriage.db import utcnow
from neurotriage.jobs import runner
from neurotriage.jobs.housekeeping import raise_delivery, runs_to_send_again
from neurotriage.jobs.models import Job, JobStatus, Worker
from neurotriage.jobs.workers import HeartbeatLoop, forget_silent_workers, record_heartbeat
from sqlalchemy import select

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case

HEARTBEAT_S = 30  # the default setting the API runs with in these tests
IDLE = timedelta(minutes=10)
RUNNING_LIMIT = timedelta(hours=1)  # the task's hard limit


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


def test_a_heartbeat_creates_then_refreshes_the_row_and_a_clean_stop_marks_it_stopped(  # type: ignore[no-untyped-def]
    db, monkeypatch, scope
) -> None:
    started = utcnow() - timedelta(minutes=3)
    record_heartbeat(db, "celery@a", ["gpu", "default"], started)
    row = db.get(Worker, "celery@a")
    row.last_seen_at = started  # as if its last beat were long ago
    record_heartbeat(db, "celery@a", ["gpu", "default"], started)
    assert row.queues == "default,gpu" and row.started_at == started
    assert row.last_seen_at > started + timedelta(minutes=2)
    monkeypatch.setattr("neurotriage.jobs.workers.session_scope", scope)
    loop = HeartbeatLoop("celery@b", ["gpu"], interval_s=0.05)
    loop.start()
    loop.stop()
    stopped = db.get(Worker, "celery@b")
    db.refresh(stopped)
    assert stopped.stopped_at is not None and not loop.is_alive()
    # started again under the same name: running again
    record_heartbeat(db, "celery@b", ["gpu"], utcnow())
    assert stopped.stopped_at is None


def test_administrators_see_a_stopped_worker_apart_from_one_that_went_silent(  # type: ignore[no-untyped-def]
    admin: ApiClient, clinician: ApiClient, db, tmp_path
) -> None:
    _queued_job(clinician, db, tmp_path, "waiting", timedelta(minutes=1))
    stopped = _worker(db, "celery@stopped")  # its last beat is recent: only the stop says it is gone
    stopped.stopped_at = utcnow()
    _worker(db, "celery@crashed", seen_ago=timedelta(minutes=5))
    status = admin.get("/api/queue").json()
    workers = {w["name"]: w for w in status["workers"]}
    assert not workers["celery@stopped"]["online"] and workers["celery@stopped"]["stopped_at"] is not None
    assert not workers["celery@crashed"]["online"] and workers["celery@crashed"]["stopped_at"] is None
    assert status["inference_workers_online"] == 0
    assert status["delay_notice"].startswith("No analysis worker is running, so 1 run is waiting")


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
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S, RUNNING_LIMIT) == [(lost.id, 2)]
    assert (lost.delivery, recent.delivery) == (2, 1)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "job.resent")).one()
    assert event.case_id == lost.case_id and event.detail == {"job_id": lost.id, "delivery": 2}


def _now_minus(minutes: float) -> datetime:
    return utcnow() - timedelta(minutes=minutes)


@pytest.mark.parametrize("why", ["running", "finished lately", "worker new", "worker silent", "worker stopped",
                                 "housekeeping worker only"])
def test_nothing_is_sent_again_unless_an_inference_worker_idled_all_along(
    clinician: ApiClient, db, tmp_path, why: str  # type: ignore[no-untyped-def]
) -> None:
    waiting = _queued_job(clinician, db, tmp_path, "waiting", IDLE * 3)
    # queued before the waiting run, so it may well have started first
    other = _queued_job(clinician, db, tmp_path, "other", IDLE * 3 + timedelta(minutes=1), seed=1)
    if why == "running":  # for longer than the idle window: a long analysis is no sign of a lost message
        other.status, other.started_at = JobStatus.running, _now_minus(25)
    elif why == "finished lately":
        other.status, other.started_at, other.finished_at = JobStatus.succeeded, _now_minus(20), _now_minus(9)
    else:
        other.status, other.finished_at = JobStatus.succeeded, _now_minus(25)
    worker = _worker(db, "celery@gpu-1",
                     queues="default" if why == "housekeeping worker only" else "default,gpu",
                     started_ago=timedelta(minutes=5) if why == "worker new" else timedelta(hours=1),
                     seen_ago=timedelta(minutes=5) if why == "worker silent" else timedelta(seconds=5))
    if why == "worker stopped":
        worker.stopped_at = utcnow() - timedelta(seconds=10)
    db.flush()
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S, RUNNING_LIMIT) == []
    assert waiting.delivery == 1


def test_a_run_overtaken_by_one_queued_after_it_is_sent_again_on_a_busy_site(
    clinician: ApiClient, db, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    waiting = _queued_job(clinician, db, tmp_path, "waiting", IDLE * 3)
    later = _queued_job(clinician, db, tmp_path, "queued after it", IDLE * 2, seed=1)
    later.status, later.started_at, later.finished_at = JobStatus.succeeded, _now_minus(15), _now_minus(12)
    busy = _queued_job(clinician, db, tmp_path, "analysed now", IDLE, seed=2)
    busy.status, busy.started_at = JobStatus.running, _now_minus(1)
    db.flush()
    # No idle window on this site, but the queue hands messages out in order: the waiting run's would have gone first.
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S, RUNNING_LIMIT) == [(waiting.id, 2)]
    # A run queued after it that started only just now may still be ahead of its message in a worker: not yet.
    fresh = _queued_job(clinician, db, tmp_path, "waiting too", IDLE * 1.5, seed=3)
    busy.created_at = fresh.created_at + timedelta(seconds=30)
    db.flush()
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S, RUNNING_LIMIT) == []


def test_a_row_left_running_by_a_dead_worker_does_not_block_sending_again(
    clinician: ApiClient, db, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    _worker(db, "celery@gpu-1")
    zombie = _queued_job(clinician, db, tmp_path, "its worker died", timedelta(hours=3))
    zombie.status, zombie.started_at = JobStatus.running, utcnow() - RUNNING_LIMIT - timedelta(minutes=5)
    waiting = _queued_job(clinician, db, tmp_path, "waiting", IDLE * 2, seed=1)
    db.flush()
    assert runs_to_send_again(db, IDLE, HEARTBEAT_S, RUNNING_LIMIT) == [(waiting.id, 2)]


def test_a_worker_does_not_start_a_run_numbered_again_since_it_read_it(sqlite_sessions) -> None:  # type: ignore[no-untyped-def]
    """The other side of the race on SQLite: housekeeping numbers a new message between the worker's read and its
    write; the worker leaves the run to that message, which then starts it once."""
    with sqlite_sessions() as setup:
        job_id = _sqlite_jobs(setup, JobStatus.queued)[0].id
    with sqlite_sessions() as worker, sqlite_sessions() as housekeeping:
        read = worker.get(Job, job_id)
        assert read.status == JobStatus.queued and read.delivery == 1
        assert raise_delivery(housekeeping, job_id, 1)
        housekeeping.commit()
        assert not runner.take_run(worker, read, 1)  # message 1 was superseded meanwhile
        worker.rollback()
        assert runner.take_run(worker, worker.get(Job, job_id), 2)  # message 2 starts it


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


def test_a_message_sent_before_runs_had_numbers_is_message_1(
    clinician: ApiClient, db, tmp_path, scope, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(runner, "session_scope", scope)
    resent = _queued_job(clinician, db, tmp_path, "resent since", timedelta(minutes=30))
    resent.delivery = 2
    waiting = _queued_job(clinician, db, tmp_path, "old message", timedelta(minutes=1), seed=1)
    db.commit()
    assert runner._start(resent.id, delivery=None) is None  # superseded like any message 1
    assert runner._start(waiting.id, delivery=None) is not None
    db.refresh(resent)
    db.refresh(waiting)
    assert (resent.status, waiting.status) == (JobStatus.queued, JobStatus.running)


def _sqlite_jobs(session, *statuses: JobStatus) -> list[Job]:  # type: ignore[no-untyped-def]
    from neurotriage.cases.models import Case
    from neurotriage.users.models import User

    user = User(username="u", password_hash="x", roles=["clinician"])
    session.add(user)
    session.flush()
    case = Case(label="c", sequence="t1", scan_key="k", content_sha256="0" * 64, uploaded_by_id=user.id)
    session.add(case)
    session.flush()
    jobs = [Job(case_id=case.id, model_profile="fast", status=status) for status in statuses]
    session.add_all(jobs)
    session.commit()
    return jobs


def test_a_run_is_numbered_again_only_while_queued_under_the_number_read(sqlite_sessions) -> None:  # type: ignore[no-untyped-def]
    """SQLite takes no row locks: a worker may start the run between housekeeping's read and its write."""
    with sqlite_sessions() as session:
        queued, started = _sqlite_jobs(session, JobStatus.queued, JobStatus.running)
        assert not raise_delivery(session, started.id, 1)  # a worker took it after it was read as queued
        assert raise_delivery(session, queued.id, 1)
        assert not raise_delivery(session, queued.id, 1)  # another pass raised it first
        session.commit()
        session.refresh(queued)
        session.refresh(started)
        assert (queued.delivery, started.delivery) == (2, 1)


def test_two_workers_on_one_host_can_be_named_apart() -> None:
    """Each worker's heartbeat row is its Celery node name, celery@host unless named."""
    from neurotriage.cli import build_parser, worker_argv

    assert not any(a.startswith("--hostname") for a in worker_argv(build_parser().parse_args(["worker"])))
    named = worker_argv(build_parser().parse_args(["worker", "--queues", "gpu", "--name", "gpu-2"]))
    assert "--hostname=gpu-2@%h" in named and "--queues=gpu" in named
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "--name", "gpu 2@elsewhere"])


def _housekeeping_with(monkeypatch, scope, send) -> list:  # type: ignore[no-untyped-def]
    """Runs the periodic task in the test's transaction; returns its units of work ("commit") and sends in order."""
    from contextlib import contextmanager

    from neurotriage.jobs import tasks

    events: list = []

    @contextmanager
    def unit():  # type: ignore[no-untyped-def]
        with scope() as session:
            yield session
        events.append("commit")

    def enqueue(job_id: int, delivery: int) -> None:
        events.append(("send", job_id, delivery))
        send(job_id)

    monkeypatch.setattr(tasks, "session_scope", unit)
    monkeypatch.setattr(tasks, "enqueue", enqueue)
    tasks.housekeeping()
    return events


def test_housekeeping_commits_the_new_numbers_before_it_sends(
    clinician: ApiClient, db, tmp_path, scope, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    _worker(db, "celery@gpu-1")
    job = _queued_job(clinician, db, tmp_path, "lost", IDLE * 2)
    events = _housekeeping_with(monkeypatch, scope, lambda _job_id: None)
    # the first unit (stale runs, sessions, workers), the one that raised the number, then the send
    assert events[:3] == ["commit", "commit", ("send", job.id, 2)]


def test_a_send_that_fails_leaves_the_other_runs_and_steps_to_go_ahead(
    clinician: ApiClient, db, tmp_path, scope, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    _worker(db, "celery@gpu-1")
    first = _queued_job(clinician, db, tmp_path, "lost", IDLE * 3)
    second = _queued_job(clinician, db, tmp_path, "lost too", IDLE * 2, seed=1)

    def broker_hiccup(job_id: int) -> None:
        if job_id == first.id:
            raise ConnectionError("broker unavailable")

    events = _housekeeping_with(monkeypatch, scope, broker_hiccup)
    assert ("send", second.id, 2) in events and events[-1] == "commit"  # and the orphan-folder step still ran
