"""What the worker does when something other than the scan goes wrong: the database away for a moment, the stored
scan missing, the disk full, the time limit reached, a run that keeps killing its worker, a forked pool process.

The job must end in a state a reader understands (failed with a sentence, or retried), never stuck and never
with a half-written result. The runner's units of work run inside the test's transaction (``scope``)."""

from __future__ import annotations

import errno
import gc
import multiprocessing
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from neurotriage.db import get_engine
from neurotriage.jobs import runner, tasks
from neurotriage.jobs.models import Failure, Job, JobStatus
from neurotriage.jobs.service import MAX_ATTEMPTS, transition
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case

LOST = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


class StandInAnalyzer:
    """Does what ``analyse`` is given to do; the engine's own behaviour is tested elsewhere."""

    def __init__(self, analyse: Callable[[Path, Path], dict[str, Any]]) -> None:
        self._analyse = analyse

    def analyse(self, scan: Path, out_dir: Path, **_options: Any) -> dict[str, Any]:
        return self._analyse(scan, out_dir)


@pytest.fixture
def queued_job(clinician: ApiClient, db, scope, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Job:  # type: ignore[no-untyped-def]
    """A freshly uploaded case's job, with the runner's units of work inside the test's transaction."""
    monkeypatch.setattr(runner, "session_scope", scope)
    case_id = upload_case(clinician, tmp_path, "worker fault")
    return db.scalars(select(Job).where(Job.case_id == case_id)).one()


def _engine_does(monkeypatch: pytest.MonkeyPatch, analyse: Callable[[Path, Path], dict[str, Any]]) -> None:
    monkeypatch.setattr(runner, "_analyzer", lambda *_args: StandInAnalyzer(analyse))


def test_a_database_outage_when_the_run_starts_retries_the_task(
    queued_job: Job, db, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    def lost(_job_id: int, _delivery: int | None, _worker: str | None) -> None:
        raise LOST

    monkeypatch.setattr(runner, "_start", lost)
    with pytest.raises(runner.DatabaseUnavailable):
        runner.run_inference_job(queued_job.id)
    db.refresh(queued_job)
    assert queued_job.status == JobStatus.queued  # untouched, so the retry can start it


def test_a_database_outage_while_storing_retries_instead_of_failing(
    queued_job: Job, db, monkeypatch: pytest.MonkeyPatch, storage_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    _engine_does(monkeypatch, lambda _scan, _out: {"stand-in": "result"})

    def lost(*_args: Any, **_kwargs: Any) -> bool:
        raise LOST

    monkeypatch.setattr(runner, "save_result", lost)
    with pytest.raises(runner.DatabaseUnavailable):
        runner.run_inference_job(queued_job.id)
    db.refresh(queued_job)
    assert queued_job.status == JobStatus.running and queued_job.error is None


def test_progress_that_cannot_be_written_does_not_stop_the_analysis(
    queued_job: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_database() -> Any:
        raise LOST

    monkeypatch.setattr(runner, "session_scope", no_database)
    runner._report_progress(queued_job.id)(0.5, "searching")  # logged, not raised


def test_the_task_retries_a_database_outage_and_then_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int | None, str | None]] = []

    def flaky(job_id: int, delivery: int | None, worker: str | None) -> str:
        calls.append((job_id, delivery, worker))
        if len(calls) < 3:
            raise runner.DatabaseUnavailable("database restarting")
        return "succeeded"

    monkeypatch.setattr(tasks, "run_inference_job", flaky)
    # Run here (eagerly): retries run at once instead of after their countdown, each with the message's number.
    assert tasks.run_inference.apply(args=[7, 2]).get() == "succeeded"
    # each start names the worker, so that housekeeping can tell when that worker is gone (eagerly: this host)
    assert len(calls) == 3 and all(call[:2] == (7, 2) and call[2] for call in calls)


def test_a_missing_stored_scan_fails_in_words_without_a_server_path(
    queued_job: Job, db, storage_dir: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    _engine_does(monkeypatch, lambda _scan, _out: pytest.fail("the engine must not run without its scan"))
    for scan in storage_dir.rglob("scan.nii.gz"):
        scan.unlink()
    assert runner.run_inference_job(queued_job.id) == "failed"
    db.refresh(queued_job)
    assert queued_job.error == runner.MISSING_SCAN and str(storage_dir) not in queued_job.error
    assert queued_job.failure == Failure.missing_scan


def test_a_full_disk_fails_in_words_and_leaves_no_partial_file(
    queued_job: Job, db, storage_dir: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    def writes_volumes(_scan: Path, out_dir: Path) -> dict[str, Any]:
        for kind in runner.RESULT_FILES:
            (out_dir / f"{kind}.nii.gz").write_bytes(b"\0" * 4096)
        return {"score": 0.01, "mean_error": 0.004, "mask_volume_mm3": 0.0, "triage": "routine", "threshold": 0.05,
                "passes": 30, "seconds": 2.0, "flags": [], "model": {"name": "stand-in", "version": "1"}}

    def disk_fills(source: Path, target: Path) -> None:
        Path(target).write_bytes(Path(source).read_bytes()[:1000])  # part of the file, then no space
        raise OSError(errno.ENOSPC, "No space left on device")

    _engine_does(monkeypatch, writes_volumes)
    monkeypatch.setattr(shutil, "copyfile", disk_fills)
    assert runner.run_inference_job(queued_job.id) == "failed"
    db.refresh(queued_job)
    assert queued_job.error == runner.STORAGE_FULL and queued_job.failure == Failure.storage_full
    assert not [path for path in storage_dir.rglob("jobs/**/*") if path.is_file()]  # no result file, no .partial


def test_the_time_limit_fails_the_run_in_words(queued_job: Job, db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def too_slow(_scan: Path, _out: Path) -> dict[str, Any]:
        raise SoftTimeLimitExceeded()

    _engine_does(monkeypatch, too_slow)
    assert runner.run_inference_job(queued_job.id) == "failed"
    db.refresh(queued_job)
    assert "time limit" in queued_job.error and queued_job.failure == Failure.time_limit


def test_a_redelivered_run_counts_as_an_attempt_and_restarts_the_clock(queued_job: Job, db) -> None:  # type: ignore[no-untyped-def]
    transition(db, queued_job, JobStatus.running)
    first = queued_job.started_at
    transition(db, queued_job, JobStatus.running)  # the message again, after the worker died
    assert queued_job.attempts == 2 and queued_job.started_at > first


def test_a_run_that_keeps_stopping_its_worker_is_failed_after_the_last_attempt(
    queued_job: Job, db, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    _engine_does(monkeypatch, lambda _scan, _out: pytest.fail("a run past its attempts must not start again"))
    for _ in range(MAX_ATTEMPTS):
        transition(db, queued_job, JobStatus.running)  # each start ended with the worker killed
    db.commit()
    assert runner.run_inference_job(queued_job.id) == "skipped"
    db.refresh(queued_job)
    assert queued_job.status == JobStatus.failed and "never finished" in queued_job.error
    assert queued_job.failure == Failure.worker_stopped


def _backend_pid_in_child(answer: Any) -> None:
    tasks._own_database_connections()  # what Celery's worker_process_init runs in each pool process
    gc.collect()  # a long-lived pool process collects the inherited pool too: that must not close them
    with get_engine().connect() as connection:
        answer.send(connection.execute(text("SELECT pg_backend_pid()")).scalar())


def test_a_forked_pool_process_opens_its_own_database_connection(engine: Engine) -> None:
    sessions = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    with engine.connect() as connection:  # the worker's parent used the database before forking its pool
        before = set(connection.execute(sessions).scalars())
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_backend_pid_in_child, args=(send,))
    child.start()
    child.join(30)
    assert child.exitcode == 0 and receive.poll(1)
    # A connection of its own: none of the parent's (without the hook it takes one from the inherited pool).
    assert receive.recv() not in before
    with engine.connect() as connection:  # and the parent's connections were left open for the parent
        assert before <= set(connection.execute(sessions).scalars())


def test_an_engine_refusal_speaks_of_the_scan_not_of_storages_file_name() -> None:
    from neurotriage.jobs.runner import _about_the_scan

    key = "cases/12/scan.nii.gz"
    assert _about_the_scan("scan.nii.gz is a 4D series (3 volumes); upload a single 3D volume.", key) == (
        "it is a 4D series (3 volumes); upload a single 3D volume.")
    assert _about_the_scan("Voxel sizes differ.", key) == "Voxel sizes differ."
