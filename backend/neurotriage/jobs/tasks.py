"""Celery tasks: ids in, a plain function called, nothing else. Imported only by the worker."""

from __future__ import annotations

from datetime import timedelta

from neurotriage.celery_app import HOUSEKEEPING_TASK, INFERENCE_TASK, celery_app
from neurotriage.config import get_settings
from neurotriage.db import session_scope
from neurotriage.core.storage import get_storage
from neurotriage.jobs.housekeeping import end_idle_sessions, fail_stale_jobs, remove_orphan_case_files
from neurotriage.jobs.runner import run_inference_job


@celery_app.task(name=INFERENCE_TASK)
def run_inference(job_id: int) -> str:
    return run_inference_job(int(job_id))


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
