"""The job state machine and queueing. Used by the API (create, enqueue) and the worker (transitions)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.celery_app import GPU_QUEUE, INFERENCE_TASK, celery_app
from neurotriage.db import utcnow
from neurotriage.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

# Which states a job may move to from each state.
_ALLOWED = {
    JobStatus.queued: {JobStatus.running, JobStatus.cancelled, JobStatus.failed},
    JobStatus.running: {JobStatus.succeeded, JobStatus.failed, JobStatus.running},
    JobStatus.succeeded: set(),
    JobStatus.failed: set(),
    JobStatus.cancelled: set(),
}


class IllegalTransition(Exception):
    pass


def create_job(session: Session, case_id: int, model_profile: str) -> Job:
    job = Job(case_id=case_id, model_profile=model_profile, status=JobStatus.queued)
    session.add(job)
    session.flush()
    return job


def enqueue(job_id: int) -> None:
    """Send the job to the GPU queue. Only the id travels: no paths, names or other patient data."""
    celery_app.send_task(INFERENCE_TASK, args=[job_id], queue=GPU_QUEUE)


def transition(session: Session, job: Job, new: JobStatus, *, error: str | None = None) -> None:
    if new not in _ALLOWED[JobStatus(job.status)]:
        raise IllegalTransition(f"job {job.id}: {job.status} -> {new}")
    previous = job.status
    job.status = new
    now = utcnow()
    if new is JobStatus.running and previous != JobStatus.running:
        job.started_at = now
        job.attempts += 1
    if new in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled):
        job.finished_at = now
        job.progress = 100 if new is JobStatus.succeeded else job.progress
    if error is not None:
        job.error = error
    if previous != new:
        record(session, f"job.{new.value}", case_id=job.case_id, job_id=job.id)
