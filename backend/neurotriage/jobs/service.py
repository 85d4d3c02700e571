"""The job state machine and queueing. Used by the API (create, enqueue) and the worker (transitions)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.celery_app import GPU_QUEUE, INFERENCE_TASK, celery_app
from neurotriage.core.errors import Conflict, NotFound, Unprocessable
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


def rerun(session: Session, case_id: int, model_profile: str, available: list[str], actor_id: int) -> Job:
    """Queue a new run of a case (another model version, or a retry), unless one is still pending."""
    from sqlalchemy import select

    from neurotriage.cases.models import Case

    if model_profile not in available:
        raise Unprocessable(f"Unknown model profile {model_profile!r}; available: {', '.join(available)}.")
    if session.get(Case, case_id) is None:
        raise NotFound(f"No case {case_id}.")
    pending = session.scalar(
        select(Job.id).where(Job.case_id == case_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
    )
    if pending is not None:
        raise Conflict(f"Run {pending} of this case is still queued or running.")
    job = create_job(session, case_id, model_profile)
    record(session, "job.requested", actor_id=actor_id, case_id=case_id, job_id=job.id, model_profile=model_profile)
    return job


def cancel(session: Session, job_id: int, actor_id: int) -> Job:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"No run {job_id}.")
    if job.status != JobStatus.queued:
        raise Conflict(f"Only a queued run can be cancelled; run {job_id} is {job.status}.")
    transition(session, job, JobStatus.cancelled)
    record(session, "job.cancel_requested", actor_id=actor_id, case_id=job.case_id, job_id=job.id)
    return job


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
