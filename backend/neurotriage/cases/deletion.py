"""Deleting a case: a scan uploaded by mistake (wrong patient, wrong sequence, a duplicate under another file), or
a participant who withdrew consent. Everything about the case goes (rows and stored files); the audit trail keeps
its events and adds one saying who deleted it, when and why."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.cases.models import Case
from neurotriage.core.errors import Conflict, no_case
from neurotriage.jobs.models import Flag, Job, JobStatus, Result
from neurotriage.reviews.models import CaseVerdict, FlagVerdict, MissedFinding, ReviewTime


def lock_case(session: Session, case_id: int) -> Case | None:
    """The case, its row held to the commit, as a re-run and a claim hold it: no run can be queued for it, nor a
    claim taken, while it is being deleted. On SQLite (no row locks; pysqlite begins a transaction only at the first
    write) a no-op write first takes the database's single writer lock, so what is read next is current and stays
    so until the commit."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Case).where(Case.id == case_id).values(id=Case.id), execution_options={"synchronize_session": False}
        )
    return session.get(Case, case_id, with_for_update=True, populate_existing=True)


def delete_case_rows(
    session: Session, case_id: int, *, reason: str, actor_id: int | None, client_ip: str | None
) -> None:
    """Delete the case's rows and record ``case.deleted`` (no actor: housekeeping, for the retention period). The
    caller commits, then removes the files
    (``case_folder``): files without a case are what housekeeping removes anyway (``remove_orphan_case_files``),
    whereas files removed before a commit that then failed would leave a case without its scan.

    Refused while a run is queued or running: the worker would otherwise analyse a scan that is gone, and a
    coordinator would not know whether its result had been kept."""
    case = lock_case(session, case_id)
    if case is None:
        raise no_case(case_id)
    pending = session.scalar(
        select(Job.id).where(Job.case_id == case_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
    )
    if pending is not None:
        raise Conflict(f"Run {pending} of case {case_id} is still queued or running: cancel it, or wait until it "
                       "has finished, then delete the case.")
    result_ids = select(Result.id).where(Result.case_id == case_id).scalar_subquery()
    flag_ids = select(Flag.id).where(Flag.result_id.in_(result_ids)).scalar_subquery()
    # A flag verdict locks its flag, not the case: wait for any being saved, so that the deletes below see it.
    session.execute(select(Flag.id).where(Flag.id.in_(flag_ids)).with_for_update())

    def count(model, *criteria) -> int:  # type: ignore[no-untyped-def]
        return int(session.scalar(select(func.count()).select_from(model).where(*criteria)) or 0)

    # What was lost, for whoever later reads the trail (the rows themselves are gone); no label: it may be
    # whatever the uploader typed, and the case id already names the case.
    removed = {
        "runs": count(Job, Job.case_id == case_id),
        "case_verdicts": count(CaseVerdict, CaseVerdict.case_id == case_id),
        "flag_verdicts": count(FlagVerdict, FlagVerdict.flag_id.in_(flag_ids)),
        "findings": count(MissedFinding, MissedFinding.case_id == case_id),
    }
    # Each row before the rows its foreign keys point to.
    for statement in (
        delete(FlagVerdict).where(FlagVerdict.flag_id.in_(flag_ids)),
        delete(CaseVerdict).where(CaseVerdict.case_id == case_id),
        delete(MissedFinding).where(MissedFinding.case_id == case_id),
        delete(ReviewTime).where(ReviewTime.case_id == case_id),
        delete(Flag).where(Flag.result_id.in_(result_ids)),
        delete(Result).where(Result.case_id == case_id),
        delete(Job).where(Job.case_id == case_id),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    session.delete(case)
    record(session, "case.deleted", actor_id=actor_id, case_id=case_id, client_ip=client_ip, reason=reason,
           sequence=case.sequence, source_format=case.source_format, **removed)
    session.flush()

