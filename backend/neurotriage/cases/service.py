"""Ingest of uploaded scans and the queries behind the worklist and the case page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case as when, exists, func, or_, select
from sqlalchemy.orm import Session

from neurotriage.audit.models import AuditEvent
from neurotriage.cases.models import Case
from neurotriage.core.errors import NotFound, no_case
from neurotriage.db import utcnow
from neurotriage.jobs.models import Flag, Job, Result, Screening
from neurotriage.reviews.independence import disagreement_visible, disputed_cases
from neurotriage.reviews.models import CaseVerdict
from neurotriage.users.models import User

MAX_PAGE_SIZE = 100


def case_rows():  # type: ignore[no-untyped-def]
    """``select(Case, Job, Result)``: each case with its newest run (whose status the case shows) and its
    newest result (the latest successful run's).

    A case can be re-run (another model, or a retry). The two differ while a re-run is queued or running,
    or after it failed or was cancelled; the earlier result stays in view, so a re-run never hides a
    finding or drops an urgent case down the worklist."""
    latest_job = select(Job.case_id, func.max(Job.id).label("job_id")).group_by(Job.case_id).subquery()
    latest_result = (
        select(Result.case_id, func.max(Result.id).label("result_id")).group_by(Result.case_id).subquery()
    )
    return (
        select(Case, Job, Result)
        .join(latest_job, latest_job.c.case_id == Case.id)
        .join(Job, Job.id == latest_job.c.job_id)
        .outerjoin(latest_result, latest_result.c.case_id == Case.id)
        .outerjoin(Result, Result.id == latest_result.c.result_id)
    )


SORTS = ("priority", "score", "uploaded_at")
# Where a case whose analysis failed (and that has no earlier result) sorts by priority: after the scans to repeat,
# before those with flags to review. Someone must act on it (re-run it, upload it again, or read it unaided); at the
# bottom, below every routine case, nobody would.
FAILED_PRIORITY = 2.5


@dataclass(frozen=True)
class WorklistQuery:
    status: str | None = None
    # The filters below look at the result the row shows (the newest successful run's), so a case matches
    # exactly when its row shows the chip or count in question; a case without a result matches none of them.
    triage: str | None = None  # routine | review | rescan | urgent; rescan also matches any scan to repeat
    flagged: bool = False  # only results with at least one flag
    screening: str | None = None  # lesions | checks ("checks": rescan checks alone, not screened for lesions)
    mine: bool = False  # only cases I have claimed
    unreviewed: bool = False  # only cases without a case verdict
    unread_by_me: bool = False  # only cases without the viewer's own case verdict
    disputed: bool = False  # only cases whose readers' case verdicts differ (as far as the viewer may know)
    search: str | None = None  # substring of the label, case-insensitive
    sort: str = "priority"
    descending: bool = True
    page: int = 1
    page_size: int = 25


def list_cases(session: Session, viewer: User, query: WorklistQuery) -> tuple[list[tuple[Case, Job, Result | None]], int]:
    page_size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    statement = case_rows()
    if query.status:
        statement = statement.where(Job.status == query.status)
    if query.triage == "rescan":
        # As the row shows it: an urgent result whose scan must also be repeated carries the rescan chip too
        # (CaseSummary.rescan_recommended), and a coordinator looking for scans to repeat needs it.
        statement = statement.where(
            or_(Result.triage == "rescan", func.json_array_length(Result.quality_issues) > 0)
        )
    elif query.triage:
        statement = statement.where(Result.triage == query.triage)
    if query.flagged:
        statement = statement.where(exists().where(Flag.result_id == Result.id))
    if query.screening:
        statement = statement.where(Result.screening == query.screening)
    if query.mine:
        statement = statement.where(Case.claimed_by_id == viewer.id, Case.claimed_until > utcnow())
    if query.unreviewed:
        statement = statement.where(~exists().where(CaseVerdict.case_id == Case.id))
    if query.unread_by_me:
        statement = statement.where(
            ~exists().where(CaseVerdict.case_id == Case.id, CaseVerdict.reviewer_id == viewer.id)
        )
    if query.disputed:
        statement = statement.where(Case.id.in_(disputed_cases()), disagreement_visible(viewer, Case.id))
    if query.search:
        pattern = "%" + query.search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(Case.label.ilike(pattern, escape="\\"))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    key = {
        "priority": func.coalesce(Result.priority, when((Job.status == "failed", FAILED_PRIORITY), else_=0)),
        "score": func.coalesce(Result.score, -1.0),
        "uploaded_at": Case.uploaded_at,
    }[query.sort]
    ordered = [key.desc() if query.descending else key.asc()]
    if query.sort == "score":
        # Cases without a score (no result yet, failed, rescan checks alone) come last either way: they have no
        # place on that scale.
        ordered.insert(0, Result.score.is_(None))
    if query.sort == "priority":
        ordered.append(func.coalesce(Result.score, -1.0).desc())
    ordered += [Case.uploaded_at.desc(), Case.id.desc()]
    rows = session.execute(
        statement.order_by(*ordered).offset((max(1, query.page) - 1) * page_size).limit(page_size)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows], total


def get_case(session: Session, case_id: int) -> tuple[Case, Job, Result | None]:
    row = session.execute(case_rows().where(Case.id == case_id)).first()
    if row is None:
        raise deleted_case(session, case_id) or no_case(case_id)
    return row[0], row[1], row[2]


def deleted_case(session: Session, case_id: int) -> NotFound | None:
    """The 404 for a case that was deleted, saying when and why in general terms (by a coordinator, or at the end of
    the retention period), so a reader who had it open knows it went on purpose; None for an id never used. The
    coordinator's reason stays in the audit trail: it is free text, and any reader may ask for any case id."""
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "case.deleted", AuditEvent.case_id == case_id)
        .order_by(AuditEvent.id.desc()).limit(1)
    )
    if event is None:
        return None
    by = "by a study coordinator" if event.actor_id is not None else "at the end of the site's retention period"
    # No time in the sentence: the app gives deleted_at in the reader's own zone, like every other time it shows.
    error = NotFound(f"Case {case_id} was deleted {by}.")
    error.extra = {"deleted_at": event.at.isoformat()}
    return error


# The most other scans of one patient a case page lists.
MAX_SAME_PATIENT = 50


def _acquired_then_uploaded(case: Case) -> tuple[str, datetime]:
    # ISO dates sort as text; a scan without a date comes after those with one
    return (case.dicom_meta or {}).get("acquisition_date") or "", case.uploaded_at


def same_patient_rows(session: Session, case: Case) -> tuple[list[tuple[Case, Job, Result | None]], int]:
    """The patient's other cases, newest acquisition first (then newest upload), each with its newest run and newest
    result (as ``case_rows``), at most ``MAX_SAME_PATIENT``; and how many more there are. ([], 0) without a
    pseudonym (NIfTI uploads). Looked up by the indexed pseudonym, then the runs of the cases listed only:
    ``case_rows`` would group every run of the site for each case page."""
    if case.patient_pseudonym is None:
        return [], 0
    everyone = session.scalars(
        select(Case).where(Case.patient_pseudonym == case.patient_pseudonym, Case.id != case.id)
    ).all()
    others = sorted(everyone, key=_acquired_then_uploaded, reverse=True)[:MAX_SAME_PATIENT]
    ids = [other.id for other in others]
    jobs: dict[int, Job] = {}
    for job in session.scalars(select(Job).where(Job.case_id.in_(ids)).order_by(Job.id)):
        jobs[job.case_id] = job  # the last one wins: the newest
    results: dict[int, Result] = {}
    for result in session.scalars(select(Result).where(Result.case_id.in_(ids)).order_by(Result.id)):
        results[result.case_id] = result
    return [(other, jobs[other.id], results.get(other.id)) for other in others if other.id in jobs], (
        len(everyone) - len(others)
    )


def file_key(case: Case, result: Result | None, kind: str) -> str:
    if kind == "scan":
        return case.scan_key
    if result is not None and result.screening == Screening.checks:
        raise NotFound(f"Case {case.id} got the rescan checks alone (no model reads its sequence): it has no "
                       f"{kind.replace('_', ' ')}.")
    if result is None or kind not in result.files:
        raise NotFound(f"The {kind.replace('_', ' ')} of case {case.id} is not available yet.")
    return result.files[kind]
