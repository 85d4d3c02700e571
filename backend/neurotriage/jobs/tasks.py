"""Celery tasks: ids in, a plain function called, nothing else. Imported only by the worker."""

from __future__ import annotations

from datetime import timedelta

from celery import Task
from celery.signals import worker_process_init

from neurotriage.celery_app import HOUSEKEEPING_TASK, INFERENCE_TASK, celery_app
from neurotriage.config import get_settings
from neurotriage.db import get_engine, session_scope
from neurotriage.core.storage import get_storage
from neurotriage.jobs.housekeeping import end_idle_sessions, fail_stale_jobs, remove_orphan_case_files
from neurotriage.jobs.runner import DatabaseUnavailable, run_inference_job


# A database outage is retried for about an hour before the task gives up (the job then stays running until
# housekeeping fails it): 15 s, 30 s, 1 min, ... capped at 10 min.
DATABASE_RETRIES = 10


@celery_app.task(name=INFERENCE_TASK, bind=True, max_retries=DATABASE_RETRIES)
def run_inference(self: Task, job_id: int) -> str:
    try:
        return run_inference_job(int(job_id))
    except DatabaseUnavailable as exc:
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc


@worker_process_init.connect
def _own_database_connections(**_kwargs: object) -> None:
    """A pool process is forked from the worker, which has already used the database (it reported its models):
    without this, parent and child would share one connection's socket, and a child killed mid-transaction
    would leave it unusable for the next."""
    get_engine().dispose(close=False)


@celery_app.task(name=HOUSEKEEPING_TASK)
def housekeeping() -> dict[str, int]:
    settings = get_settings()
    with session_scope() as session:
        failed = fail_stale_jobs(session, timedelta(seconds=settings.task_time_limit_s * 2))
        ended = end_idle_sessions(session, timedelta(minutes=settings.session_idle_minutes))
    # apart: a storage error must not undo the jobs failed and the sessions ended above
    with session_scope() as session:
        orphans = remove_orphan_case_files(session, get_storage(), timedelta(hours=1))
    return {"stale_jobs_failed": len(failed), "sessions_ended": ended, "orphan_case_folders_removed": len(orphans)}
