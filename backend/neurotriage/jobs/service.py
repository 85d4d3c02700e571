"""The job state machine and queueing. Used by the API (create, enqueue) and the worker (transitions)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.celery_app import GPU_QUEUE, INFERENCE_TASK, celery_app
from neurotriage.core.errors import Conflict, NotFound, Unprocessable, no_case
from neurotriage.db import utcnow
from neurotriage.jobs.models import Failure, InstalledModel, Job, JobStatus, Screening

log = logging.getLogger(__name__)

# Which states a job may move to from each state.
# Deliveries of one run before it is failed: a scan that kills the worker (out of memory, say) would otherwise be
# sent again, and block the queue, for ever.
MAX_ATTEMPTS = 3

# running -> running: the message again after its worker died (the broker's redelivery); running -> queued: the
# run sent again by housekeeping after its worker died (jobs.housekeeping.runs_left_by_dead_workers).
_ALLOWED = {
    JobStatus.queued: {JobStatus.running, JobStatus.cancelled, JobStatus.failed},
    JobStatus.running: {JobStatus.succeeded, JobStatus.failed, JobStatus.running, JobStatus.queued},
    JobStatus.succeeded: set(),
    JobStatus.failed: set(),
    JobStatus.cancelled: set(),
}


class IllegalTransition(Exception):
    pass


def never_finished(attempts: int) -> str:
    """The case page's sentence for a run failed after MAX_ATTEMPTS starts that each ended with its worker gone."""
    return (f"The analysis was started {attempts} times and never finished: the worker stopped each time "
            "(out of memory, or a crash). An administrator can find details in the worker log.")


def create_job(session: Session, case_id: int, model_profile: str, screening: Screening = Screening.lesions) -> Job:
    job = Job(case_id=case_id, model_profile=model_profile, screening=screening, status=JobStatus.queued)
    session.add(job)
    session.flush()
    return job


def enqueue(job_id: int, delivery: int = 1) -> None:
    """Send the job to the GPU queue. Only the id and the message's delivery number (``Job.delivery``) travel:
    no paths, names or other patient data."""
    celery_app.send_task(INFERENCE_TASK, args=[job_id, delivery], queue=GPU_QUEUE)


def rerun(
    session: Session, case_id: int, model_profile: str, available: list[str], actor_id: int,
    sequence: str | None = None, client_ip: str | None = None,
) -> Job:
    """Queue a new run of a case (another model version, or a retry), unless one is still pending. ``sequence``
    corrects the sequence the case was uploaded as (the same scan cannot be uploaded again as another case); after
    a run refused the scan as another sequence, a re-run as the same one is refused, since it would fail the same way.
    """
    from neurotriage.cases.models import Case

    if model_profile not in available:
        raise Unprocessable(f"Unknown model profile {model_profile!r}; available: {', '.join(available)}.")
    # Locked to the commit: concurrent requests (a double click, two readers) then check for a pending run one
    # after the other, and only the first queues one.
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise no_case(case_id)
    new_sequence = sequence or case.sequence
    screening = screening_for(session, model_profile, new_sequence)
    pending = session.scalar(
        select(Job.id).where(Job.case_id == case_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
    )
    if pending is not None:
        raise Conflict(f"Run {pending} of this case is still queued or running.")
    latest = session.scalars(select(Job).where(Job.case_id == case_id).order_by(Job.id.desc()).limit(1)).first()
    if (latest is not None and latest.status == JobStatus.failed and latest.failure == Failure.sequence_mismatch
            and new_sequence == case.sequence):
        named = f"a {latest.looks_like.upper()} scan" if latest.looks_like else "another sequence"
        raise Unprocessable(
            f"The last run found that this scan looks like {named}, not {case.sequence.upper()}, so running it "
            f"again as {case.sequence.upper()} would fail the same way. Choose the sequence it is.")
    if new_sequence != case.sequence:
        record(session, "case.sequence_changed", actor_id=actor_id, case_id=case_id, client_ip=client_ip,
               before=case.sequence, after=new_sequence)
        case.sequence = new_sequence
    job = create_job(session, case_id, model_profile, screening)
    record(session, "job.requested", actor_id=actor_id, case_id=case_id, client_ip=client_ip, job_id=job.id,
           model_profile=model_profile, screening=screening.value)
    return job


# How a failed run's error starts when the engine refused the scan itself; readers see it, and migration 0016
# read it to mark the runs that failed so before ``Job.failure`` existed.
SCAN_REFUSED = "The scan could not be analysed:"


def retry_can_help(job: Job) -> bool:
    """Whether running a failed run again may succeed: not when the engine refused the scan itself."""
    return not (job.status == JobStatus.failed and job.failure == Failure.scan_refused)


_NOT_CANCELLABLE = {
    JobStatus.running: "it started meanwhile, and an analysis under way runs to its end",
    JobStatus.succeeded: "it has finished",
    JobStatus.failed: "it has failed",
    JobStatus.cancelled: "it was cancelled already",
}


def cancel(session: Session, job_id: int, actor_id: int) -> Job:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"No run {job_id}.")
    if job.status != JobStatus.queued:
        # No run id in the sentence: the app numbers a case's runs 1, 2, ... and the id would name none of them.
        raise Conflict(f"This run can no longer be cancelled: {_NOT_CANCELLABLE[JobStatus(job.status)]}. Only a "
                       "queued run can be.")
    transition(session, job, JobStatus.cancelled)
    record(session, "job.cancel_requested", actor_id=actor_id, case_id=job.case_id, job_id=job.id)
    return job


def transition(
    session: Session, job: Job, new: JobStatus, *, error: str | None = None, failure: Failure | None = None
) -> None:
    """Move the job to ``new``; a move to failed says why (``failure``) and in words for the case page (``error``)."""
    if new not in _ALLOWED[JobStatus(job.status)]:
        raise IllegalTransition(f"job {job.id}: {job.status} -> {new}")
    if (new is JobStatus.failed) != (failure is not None):
        raise ValueError("a failure kind goes with a move to failed, and only with it")
    previous = job.status
    job.status = new
    now = utcnow()
    if new is JobStatus.running:
        # Each delivery is an attempt, a re-delivery after a crash included: it starts the analysis again, and
        # housekeeping measures a run's time from its latest start.
        job.started_at = now
        job.attempts += 1
    if new in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled):
        job.finished_at = now
        job.progress = 100 if new is JobStatus.succeeded else job.progress
    if error is not None:
        job.error = error
    if failure is not None:
        job.failure = failure.value
    if previous != new:
        record(session, f"job.{new.value}", case_id=job.case_id, job_id=job.id)


@dataclass(frozen=True)
class ModelReport:
    """One (profile, sequence) as a worker found it: ``available`` to run, else ``reason`` says why not."""

    profile: str
    sequence: str
    available: bool
    trained: bool
    reason: str | None = None


def installed_models(session: Session) -> list[InstalledModel]:
    """What the workers last reported, by profile then sequence; [] until a worker has started."""
    return list(session.scalars(select(InstalledModel).order_by(InstalledModel.profile, InstalledModel.sequence)))


def replace_installed_models(session: Session, reports: Iterable[ModelReport]) -> None:
    """A starting worker's report replaces the previous one whole (weights may have been removed)."""
    session.execute(delete(InstalledModel))
    now = utcnow()
    session.add_all(
        InstalledModel(profile=r.profile, sequence=r.sequence, available=r.available, trained=r.trained,
                       reason=None if r.available else r.reason, reported_at=now)
        for r in reports
    )
    session.flush()


def no_model_sentence(profile: str, sequence: str) -> str:
    """The words a reader gets wherever a run is refused for want of weights (API up front, worker after)."""
    return f"No trained {sequence.upper()} model is installed for the '{profile}' profile"


def checks_only_sequences(rows: list[InstalledModel]) -> list[str]:
    """The reported sequences that no profile has a model for (``screening_for`` gives them ``checks``)."""
    reported = sorted({r.sequence for r in rows})
    return [s for s in reported if not any(r.sequence == s and r.available for r in rows)]


def screening_for(session: Session, profile: str, sequence: str) -> Screening:
    """What a run of ``profile`` on a ``sequence`` scan can look for, by the workers' last report; refuses (422)
    before anything is queued or stored when another profile could do more.

    - the profile has a model for the sequence, or no worker has reported yet (the worker's own check then
      decides): ``lesions``;
    - no profile has a model for the sequence (T2 today): ``checks``, the rescan checks alone, which need none;
    - another profile has one: refused, naming it, since a full analysis is one choice away.
    """
    rows = installed_models(session)
    if not rows or any(r.profile == profile and r.sequence == sequence and r.available for r in rows):
        return Screening.lesions
    others = [r.profile for r in rows if r.sequence == sequence and r.available]
    if not others:
        return Screening.checks
    raise Unprocessable(
        f"{no_model_sentence(profile, sequence)}. Profiles with a {sequence.upper()} model: {', '.join(others)}."
    )
