"""Celery tasks: ids in, a plain function called, nothing else. Imported only by the worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task
from celery.signals import worker_process_init, worker_ready, worker_shutdown

from neurotriage.cases.retention import delete_expired_cases
from neurotriage.celery_app import HOUSEKEEPING_TASK, INFERENCE_TASK, celery_app
from neurotriage.config import get_settings
from neurotriage.db import get_engine, session_scope
from neurotriage.core.storage import get_storage
from neurotriage.jobs.housekeeping import (
    end_idle_sessions,
    fail_stale_jobs,
    remove_orphan_case_files,
    runs_left_by_dead_workers,
    runs_to_send_again,
)
from neurotriage.jobs.runner import DatabaseUnavailable, run_inference_job
from neurotriage.jobs.service import enqueue
from neurotriage.jobs.workers import HeartbeatLoop, forget_silent_workers

log = logging.getLogger(__name__)

# A database outage is retried for about an hour before the task gives up (the job then stays running until
# housekeeping fails it): 15 s, 30 s, 1 min, ... capped at 10 min.
DATABASE_RETRIES = 10


@celery_app.task(name=INFERENCE_TASK, bind=True, max_retries=DATABASE_RETRIES)
def run_inference(self: Task, job_id: int, delivery: int | None = None) -> str:
    # delivery: None in messages sent before jobs had delivery numbers (migration 0014).
    try:
        return run_inference_job(int(job_id), delivery=None if delivery is None else int(delivery),
                                 worker=self.request.hostname)
    except DatabaseUnavailable as exc:
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc


@worker_process_init.connect
def _own_database_connections(**_kwargs: object) -> None:
    """A pool process is forked from the worker, which has already used the database (it reported its models):
    without this, parent and child would share one connection's socket, and a child killed mid-transaction
    would leave it unusable for the next."""
    get_engine().dispose(close=False)


_heartbeat: HeartbeatLoop | None = None


@worker_ready.connect
def _start_heartbeat(sender: object, **_kwargs: object) -> None:
    """The worker's main process beats for the whole worker (its pool processes do not)."""
    global _heartbeat
    consumer = sender
    queues = [queue.name for queue in consumer.task_consumer.queues]  # type: ignore[attr-defined]
    _heartbeat = HeartbeatLoop(consumer.hostname, queues, get_settings().worker_heartbeat_s)  # type: ignore[attr-defined]
    _heartbeat.start()


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs: object) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


@celery_app.task(name=HOUSEKEEPING_TASK)
def housekeeping() -> dict[str, int]:
    settings = get_settings()
    with session_scope() as session:
        failed = fail_stale_jobs(session, timedelta(seconds=settings.task_time_limit_s * 2))
        ended = end_idle_sessions(session, timedelta(minutes=settings.session_idle_minutes))
        forgotten = forget_silent_workers(session, timedelta(days=1))
    with session_scope() as session:
        resend, orphans_failed = runs_left_by_dead_workers(session, settings.worker_heartbeat_s)
        resend += runs_to_send_again(
            session, timedelta(seconds=settings.lost_message_after_s), settings.worker_heartbeat_s,
            running_limit=timedelta(seconds=settings.task_time_limit_s),
        )
    # After the commit: a worker must find the new delivery number when the message arrives.
    for job_id, delivery in resend:
        try:
            enqueue(job_id, delivery)
        except Exception:
            # It stays queued without a message: a later pass finds it lost again (its resent_at counts from this try)
            # and sends it then.
            log.exception("run %s could not be sent again", job_id)
    # apart: a storage error must not undo the jobs failed and the sessions ended above
    with session_scope() as session:
        orphans = remove_orphan_case_files(session, get_storage(), timedelta(hours=1))
    expired: list[int] = [] if settings.retention_days is None else delete_expired_cases(
        session_scope, get_storage(), settings.retention_days)
    return {"stale_jobs_failed": len(failed) + len(orphans_failed), "sessions_ended": ended, "orphan_case_folders_removed": len(orphans),
            "workers_forgotten": forgotten, "runs_sent_again": len(resend), "expired_cases_deleted": len(expired)}
