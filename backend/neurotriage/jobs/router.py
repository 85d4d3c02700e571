from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from neurotriage.auth.deps import AppSettings, CurrentUser, DbSession, client_ip, require_roles
from neurotriage.core.errors import ServiceUnavailable, no_case
from neurotriage.core.inputs import DbId
from neurotriage.core.openapi import errors
from neurotriage.jobs import service
from neurotriage.jobs.models import Failure, Job, JobStatus
from neurotriage.jobs.schemas import (
    InstalledModelOut,
    JobOut,
    ModelCatalogueOut,
    QueueStatusOut,
    RunRequest,
    WorkerOut,
)
from neurotriage.jobs.workers import queue_state
from neurotriage.users.models import Role, User

router = APIRouter(tags=["jobs"])

Operator = Annotated[User, Depends(require_roles(Role.clinician, Role.coordinator))]


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


@router.get("/models", response_model=ModelCatalogueOut, responses=errors(401))
def list_models(session: DbSession, settings: AppSettings, _user: CurrentUser) -> ModelCatalogueOut:
    """Which profile can analyse which sequence, and which sequences get the rescan checks alone: the upload form
    and the re-run menu offer only these."""
    rows = service.installed_models(session)
    return ModelCatalogueOut(
        default_profile=settings.model_profile,
        reported_at=max((row.reported_at for row in rows), default=None),
        models=[InstalledModelOut.model_validate(row, from_attributes=True) for row in rows],
        checks_only_sequences=service.checks_only_sequences(rows),
    )


@router.get("/queue", response_model=QueueStatusOut, responses=errors(401, 403))
def get_queue(session: DbSession, settings: AppSettings, user: CurrentUser) -> QueueStatusOut:
    """How many runs wait and run, and whether an analysis worker is running; the app warns every reader when
    runs are waiting with none. The workers themselves are listed for administrators."""
    state = queue_state(session, settings.worker_heartbeat_s)
    online = {worker.name for worker in state.online}
    workers = None
    if user.has_role(Role.admin):
        workers = [
            WorkerOut(name=w.name, queues=w.queues.split(","), started_at=w.started_at, last_seen_at=w.last_seen_at,
                      online=w.name in online, stopped_at=w.stopped_at)
            for w in state.workers
        ]
    return QueueStatusOut(
        queued=state.queued, running=state.running, oldest_queued_at=state.oldest_queued_at,
        inference_workers_online=state.inference_workers_online, delay_notice=state.delay_notice(), workers=workers,
    )


@router.get("/cases/{case_id}/runs", response_model=list[JobOut], responses=errors(401, 403, 404))
def list_runs(case_id: DbId, session: DbSession, user: Operator) -> list[JobOut]:
    """Every run of the case, newest first."""
    jobs = session.scalars(select(Job).where(Job.case_id == case_id).order_by(Job.id.desc())).all()
    if not jobs:
        raise no_case(case_id)
    return [job_out(job) for job in jobs]


@router.post("/cases/{case_id}/runs", response_model=JobOut, status_code=201, responses=errors(401, 403, 404, 409, 422, 503))
def request_run(
    case_id: DbId, body: RunRequest, request: Request, session: DbSession, settings: AppSettings, user: Operator
) -> JobOut:
    """Run the case again: a retry after a failure, with another model profile, or as another sequence."""
    job = service.rerun(
        session, case_id, body.model_profile or settings.model_profile, settings.available_profiles, user.id,
        sequence=body.sequence, client_ip=client_ip(request),
    )
    session.commit()
    try:
        service.enqueue(job.id)
    except Exception as exc:
        service.transition(session, job, JobStatus.failed, error="The job queue is unavailable; try again later.",
                           failure=Failure.queue_unavailable)
        session.commit()
        raise ServiceUnavailable("The job queue is unavailable.") from exc
    return job_out(job)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, responses=errors(401, 403, 404, 409))
def cancel_run(job_id: DbId, session: DbSession, user: Operator) -> JobOut:
    """Cancel a queued run (the worker skips it when its message arrives)."""
    job = service.cancel(session, job_id, user.id)
    session.commit()
    return job_out(job)
