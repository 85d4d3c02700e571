"""Running one inference job: plain functions the Celery task calls. Worker-side only (imports the engine).

Each state change is its own short transaction, so the worklist sees progress while the job runs. Writing
the result is idempotent: a task re-delivered after a crash finds the job's result and stops.
"""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import lru_cache, partial
from pathlib import Path, PurePosixPath
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from neurotriage.config import Settings, get_settings
from neurotriage.core.storage import Storage, case_folder, get_storage
from neurotriage.db import session_scope
from neurotriage.jobs.models import TRIAGE_PRIORITY, Failure, Flag, Job, JobStatus, Result, Screening
from neurotriage.jobs.result_fields import (
    min_peak_ratio,
    model_validation,
    quality_issues,
    smallest_flag_mm3,
    weak_regions,
    world_point,
)
from neurotriage.jobs.service import MAX_ATTEMPTS, SCAN_REFUSED, never_finished, no_model_sentence, transition

log = logging.getLogger(__name__)

RESULT_FILES = ("anomaly_map", "anomaly_mask", "reconstruction")
# Write progress to the database at most this often (seconds).
_PROGRESS_INTERVAL = 1.0
# The database could not be reached (down, restarting, connection lost): the task is retried, not failed.
DATABASE_ERRORS = (OperationalError, InterfaceError)


class DatabaseUnavailable(Exception):
    """The job's state could not be read or written; the task retries later (jobs.tasks)."""


@lru_cache(maxsize=4)
def _analyzer(profile: str, sequence: str, device: str, model_path: str | None,  # type: ignore[no-untyped-def]
              require_trained: bool):
    """The engine's analyzer, loaded once per worker process and reused by every task."""
    from itermask3d.api import load_analyzer

    return load_analyzer(profile=profile, sequence=sequence, device=device, model_path=model_path,
                         require_trained=require_trained)


def _start(job_id: int, delivery: int | None = None, worker: str | None = None
           ) -> tuple[str, str, str, Screening] | None:
    """Mark the job running by ``worker`` (its node name); None if there is nothing to do (finished already,
    cancelled, unknown, or this message was superseded: housekeeping sent the run again, taking this one for
    lost)."""
    with session_scope() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            log.warning("job %s does not exist", job_id)
            return None
        if job.status in (JobStatus.succeeded, JobStatus.cancelled, JobStatus.failed):
            log.info("job %s is already %s; nothing to do", job_id, job.status)
            return None
        # A message sent before runs had numbers (migration 0014, which numbered those runs 1) is message 1.
        message = 1 if delivery is None else delivery
        if message != job.delivery or not take_run(session, job, message):
            log.info("job %s: message %s was superseded by message %s; nothing to do", job_id, message, job.delivery)
            return None
        from neurotriage.cases.models import Case

        case = session.get(Case, job.case_id)
        assert case is not None
        if job.status == JobStatus.running and job.attempts >= MAX_ATTEMPTS:
            transition(session, job, JobStatus.failed, failure=Failure.worker_stopped,
                       error=never_finished(job.attempts))
            return None
        transition(session, job, JobStatus.running)
        job.stage, job.progress, job.error, job.worker = "starting", 0, None, worker
        return case.scan_key, case.sequence, job.model_profile, Screening(job.screening)


def take_run(session: Session, job: Job, message: int) -> bool:
    """Whether the run is still as read, under this message's number: on PostgreSQL it is (the row is locked), on
    SQLite (the embedded mode, no row locks) housekeeping may have numbered a new message in between
    (``jobs.housekeeping.raise_delivery``), and the run is then that message's to start. The check's write also
    takes SQLite's write lock, so housekeeping cannot do so after it."""
    checked = session.execute(
        update(Job).where(Job.id == job.id, Job.status == job.status, Job.delivery == message)
        .values(delivery=message)
        .execution_options(synchronize_session=False)
    )
    return checked.rowcount == 1  # type: ignore[attr-defined]


def _still_this_run(job: Job | None, message: int | None) -> bool:
    """Whether ``job`` is still running under this task's message: housekeeping may have sent the run again (its
    worker taken for dead), and then the new message's worker owns it, not this one."""
    return job is not None and job.status == JobStatus.running and (message is None or job.delivery == message)


def _report_progress(job_id: int, message: int | None = None) -> Any:
    last = 0.0

    def report(fraction: float, stage: str) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < _PROGRESS_INTERVAL and fraction < 1.0:
            return
        last = now
        try:
            with session_scope() as session:
                job = session.get(Job, job_id)
                if _still_this_run(job, message):
                    assert job is not None
                    job.progress = max(0, min(99, int(round(fraction * 100))))
                    job.stage = stage[:64]
        except DATABASE_ERRORS:
            # Progress is for the worklist's bar only: a moment without the database must not stop the analysis.
            log.warning("job %s: progress not written (database unavailable)", job_id)

    return report


def save_result(
    job_id: int, out_dir: Path, result: dict[str, Any], storage: Storage,
    scope: Callable[[], AbstractContextManager[Session]] | None = None, message: int | None = None,
) -> bool:
    """``store_result`` in one unit of work (``scope``, default ``session_scope``); if that fails, the files
    it stored are removed."""
    written: list[str] = []
    try:
        with (scope or session_scope)() as session:
            return store_result(session, job_id, out_dir, result, storage, written, message)
    except BaseException:
        # The rows were rolled back; files without rows would never be found or cleaned up.
        for key in written:
            storage.delete(key)
        raise


def store_result(
    session: Session, job_id: int, out_dir: Path, result: dict[str, Any], storage: Storage, written: list[str],
    message: int | None = None,
) -> bool:
    """Store the engine's files and rows for a running job and mark it succeeded (the caller commits).

    Appends every stored file's key to ``written``. Stores nothing and returns False when the job already
    has a result (a redelivered task), is no longer running (failed as stale, say): a late result must
    not revive a job that readers were told had failed, or runs under a newer message than ``message`` (sent
    again meanwhile, its worker taken for dead: that message's worker owns the run now)."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        # Its case was deleted after housekeeping had failed the run as stale (a running run blocks deletion).
        log.warning("job %s no longer exists; its result is discarded", job_id)
        return False
    if session.scalar(select(Result.id).where(Result.job_id == job_id)) is not None:
        return False
    if not _still_this_run(job, message):
        log.warning("job %s finished while %s (message %s of %s); its result is discarded", job_id, job.status,
                    message, job.delivery)
        return False
    network = job.screening == Screening.lesions  # a checks-only run has no maps and no network figures
    files = {}
    for kind in RESULT_FILES if network else ():
        key = f"{case_folder(job.case_id)}/jobs/{job_id}/{kind}.nii.gz"
        storage.put_file(key, out_dir / f"{kind}.nii.gz")
        written.append(key)
        files[kind] = key
    model = result["model"]
    row = Result(
        job_id=job_id,
        case_id=job.case_id,
        score=float(result["score"]) if network else None,
        mean_error=float(result["mean_error"]) if network else None,
        mask_volume_mm3=float(result["mask_volume_mm3"]) if network else None,
        screening=job.screening,
        triage=result["triage"],
        priority=TRIAGE_PRIORITY[result["triage"]],
        threshold=float(result["threshold"]) if network else None,
        passes=int(result["passes"]) if network else None,
        seconds=float(result["seconds"]),
        model_name=str(model["name"]),
        model_version=str(model["version"]),
        model_trained=bool(model.get("trained", False)),
        model_validation=model_validation(model),
        min_flag_mm3=smallest_flag_mm3(result.get("details")),
        min_peak_ratio=min_peak_ratio(result.get("details")),
        weak_regions=weak_regions(result.get("details")),
        files=files,
        quality_issues=quality_issues(result.get("quality")),
    )
    session.add(row)
    session.flush()
    for flag in result["flags"]:
        session.add(
            Flag(
                result_id=row.id,
                label=int(flag["label"]),
                voxel_count=int(flag["voxel_count"]),
                volume_mm3=float(flag["volume_mm3"]),
                centroid_mm=[float(v) for v in flag["centroid_mm"]],
                centroid_voxel=[int(v) for v in flag["centroid_voxel"]],
                anchor_mm=world_point(flag.get("anchor_mm")),
                bbox_voxel=[[int(v) for v in corner] for corner in flag["bbox_voxel"]],
                mean_anomaly=float(flag["mean_anomaly"]),
                max_anomaly=float(flag["max_anomaly"]),
            )
        )
    job.stage = "done"
    transition(session, job, JobStatus.succeeded)
    return True


def checks_result(checks: dict[str, Any]) -> dict[str, Any]:
    """The engine's ``checks.json`` (``itermask3d.rescan.check_scan``) in result.json's shape, for ``store_result``.

    Triage: ``rescan`` when a check failed; otherwise ``review``, never ``routine``: nothing looked for lesions,
    so the scan still needs a full read."""
    return {
        "triage": "rescan" if checks["quality"] else "review",
        "quality": checks["quality"],
        "flags": [],
        "seconds": checks["seconds"],
        "model": {"name": checks["checks"]["name"], "version": checks["checks"]["version"], "trained": False},
    }


def _fail(job_id: int, failure: Failure, message: str, looks_like: str | None = None, delivery: int | None = None
          ) -> None:
    try:
        with session_scope() as session:
            job = session.get(Job, job_id, with_for_update=True)
            if _still_this_run(job, delivery):
                assert job is not None
                transition(session, job, JobStatus.failed, error=message, failure=failure)
                job.looks_like = looks_like
    except DATABASE_ERRORS as exc:
        raise DatabaseUnavailable(f"job {job_id} could not be marked failed") from exc


# Failures that are the server's, not the scan's, in words for the case page (the worker log has the details).
MISSING_SCAN = ("The stored scan is missing from the server's storage, so it cannot be analysed; ask an "
                "administrator, or upload the scan again.")
INTERNAL_ERROR = "The analysis failed with an internal error; an administrator can find details in the worker log."
STORAGE_FULL = "The server's storage is full, so the result could not be saved; ask an administrator, then re-run."


def _about_the_scan(message: str, scan_key: str) -> str:
    """The engine names the file it read, which is storage's name for every scan ("scan.nii.gz contains too little
    brain"): the reader uploaded another, so the sentence speaks of "it" instead."""
    name = PurePosixPath(scan_key).name
    return "it " + message[len(name) + 1:] if message.startswith(name + " ") else message


def run_inference_job(
    job_id: int, settings: Settings | None = None, delivery: int | None = None, worker: str | None = None
) -> str:
    """Run the engine on the job's scan and store the result; ``worker``: the node name of the worker running it.

    Returns the job's final status ("succeeded" or "failed"), or "discarded" when the result was dropped
    because it came too late (the job already had one, or was failed meanwhile, e.g. as stale: the job keeps
    that status), or "skipped" when there was nothing to run."""
    from itermask3d.api import InputError, MissingModelError, SequenceMismatch

    settings = settings or get_settings()
    storage = get_storage()
    try:
        started = _start(job_id, delivery, worker)
    except DATABASE_ERRORS as exc:
        raise DatabaseUnavailable(f"job {job_id} could not be started") from exc
    if started is None:
        return "skipped"
    scan_key, sequence, profile, screening = started
    # every later write is this message's only while the run is still under it (jobs.housekeeping may send it again)
    message = 1 if delivery is None else delivery
    fail = partial(_fail, job_id, delivery=message)
    if not storage.exists(scan_key):
        # The engine's own message would name the server's path, and blame the scan for the storage's fault.
        log.error("job %s: the stored scan %s is missing", job_id, scan_key)
        fail(Failure.missing_scan, MISSING_SCAN)
        return JobStatus.failed.value
    work_dir = Path(tempfile.mkdtemp(prefix=f"nt-job-{job_id}-"))
    try:
        if screening == Screening.checks:
            from itermask3d.rescan import check_scan

            _report_progress(job_id, message)(0.1, "rescan checks")
            result = checks_result(check_scan(storage.local_path(scan_key), work_dir, sequence))
        else:
            analyzer = _analyzer(
                profile,
                sequence,
                settings.model_device,
                str(settings.model_path) if settings.model_path else None,
                not settings.allow_untrained_model,
            )
            result = analyzer.analyse(
                storage.local_path(scan_key),
                work_dir,
                seed=settings.inference_seed,
                progress=_report_progress(job_id, message),
            )
        stored = save_result(job_id, work_dir, result, storage, message=message)
        return JobStatus.succeeded.value if stored else "discarded"
    except SequenceMismatch as exc:
        # the scan may be fine: a re-run as the sequence it looks like can succeed (the case page offers one)
        fail(Failure.sequence_mismatch, f"{SCAN_REFUSED} {exc}", looks_like=exc.looks_like)
        return JobStatus.failed.value
    except InputError as exc:
        fail(Failure.scan_refused, f"{SCAN_REFUSED} {_about_the_scan(str(exc), scan_key)}")
        return JobStatus.failed.value
    except MissingModelError as exc:
        log.warning("job %s: %s", job_id, exc)  # names weight files only, nothing of the patient
        fail(
            Failure.no_model,
            f"{no_model_sentence(profile, sequence)} on this worker. "
            "Re-run with another profile, or ask an administrator to install one; the scan is kept.",
        )
        return JobStatus.failed.value
    except DATABASE_ERRORS as exc:
        # The run may have finished; the task is retried and runs it again rather than losing it (the job stays
        # running, which is what readers see meanwhile).
        log.warning("job %s: the database became unavailable; the task will be retried", job_id)
        raise DatabaseUnavailable(f"job {job_id} lost the database") from exc
    except SoftTimeLimitExceeded:
        minutes = settings.task_time_limit_s // 60
        fail(Failure.time_limit,
              f"The analysis took longer than the worker's time limit (about {minutes} minutes) and was stopped; "
              "re-run it when the workers are less busy, or ask an administrator.")
        return JobStatus.failed.value
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            log.error("job %s: no space left on the storage or work disk", job_id)
            fail(Failure.storage_full, STORAGE_FULL)
        else:
            log.exception("job %s failed", job_id)
            fail(Failure.internal, INTERNAL_ERROR)
        return JobStatus.failed.value
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
