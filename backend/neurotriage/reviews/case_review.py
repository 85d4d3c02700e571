"""Case-level review: verdicts, claims, missed findings and time spent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.cases.models import Case
from neurotriage.core.errors import Conflict, NotFound, no_case
from neurotriage.db import utcnow
from neurotriage.jobs.models import Result
from neurotriage.reviews.independence import reads_independently
from neurotriage.reviews.models import CaseVerdict, MissedFinding, ReviewTime
from neurotriage.reviews.schemas import CaseVerdictIn, MissedFindingIn
from neurotriage.reviews.service import upsert_versioned
from neurotriage.users.models import User


def _case(session: Session, case_id: int, *, lock: bool = False) -> Case:
    """The case; ``lock`` holds its row to the commit, so that concurrent first writes of one reviewer's row for
    the case (a verdict, review time) run one after the other instead of both inserting (a 500)."""
    query = select(Case).where(Case.id == case_id)
    case = session.scalar(query.with_for_update() if lock else query)
    if case is None:
        raise no_case(case_id)
    return case


def set_case_verdict(
    session: Session, reviewer: User, case_id: int, body: CaseVerdictIn, client_ip: str | None = None
) -> CaseVerdict:
    case = _case(session, case_id, lock=True)
    independent = reads_independently(session, reviewer, case.id)  # before this verdict lifts the reader's blind
    latest_result = session.scalar(select(Result.id).where(Result.case_id == case.id).order_by(Result.id.desc()))
    verdict, previous = upsert_versioned(
        session, CaseVerdict, {"case_id": case.id, "reviewer_id": reviewer.id}, body.version, "case verdict"
    )
    verdict.verdict = body.verdict
    verdict.comment = body.comment
    verdict.result_id = latest_result
    verdict.updated_at = utcnow()
    session.flush()
    record(
        session, "case.verdict", actor_id=reviewer.id, case_id=case.id, client_ip=client_ip,
        verdict=body.verdict, previous=previous, version=verdict.version, independent=independent,
    )
    return verdict


def claim_case(session: Session, reviewer: User, case_id: int, minutes: int, client_ip: str | None = None) -> Case:
    """Claim (or renew one's claim on) a case; 409 while someone else's claim is live."""
    case = _case(session, case_id, lock=True)
    now = utcnow()
    if case.claimed_by_id not in (None, reviewer.id) and case.claimed_until and case.claimed_until > now:
        holder = session.get(User, case.claimed_by_id)
        # No time in the sentence: the case carries claimed_until, which the app shows in the reader's own time zone.
        raise Conflict(f"{holder.username if holder else 'Someone'} is reviewing this case.")
    renewing = case.claimed_by_id == reviewer.id and case.claimed_until is not None and case.claimed_until > now
    case.claimed_by_id = reviewer.id
    case.claimed_until = now + timedelta(minutes=minutes)
    if not renewing:
        record(session, "case.claimed", actor_id=reviewer.id, case_id=case.id, client_ip=client_ip)
    return case


def release_claim(session: Session, reviewer: User, case_id: int, client_ip: str | None = None) -> None:
    case = _case(session, case_id, lock=True)
    if case.claimed_by_id == reviewer.id:
        case.claimed_by_id = None
        case.claimed_until = None
        record(session, "case.released", actor_id=reviewer.id, case_id=case.id, client_ip=client_ip)


def release_claims_of(session: Session, holder_id: int, actor_id: int, reason: str = "sessions ended") -> list[int]:
    """Give up every claim ``holder_id`` holds, when all their sessions end (``actor_id`` changed their password,
    reset it or disabled the account) or they lose the reading role: nobody is reading those cases any more, and a
    colleague must not be told otherwise until the claims lapse. A claim still live is audited (with ``reason``); a
    lapsed one only had its holder left in the row. The ids of the cases whose live claim was released."""
    now = utcnow()
    cases = session.scalars(
        select(Case).where(Case.claimed_by_id == holder_id).order_by(Case.id).with_for_update()
    ).all()
    released = []
    for case in cases:
        if live_claim(case, now)[0] is not None:
            record(session, "case.released", actor_id=actor_id, case_id=case.id, reason=reason, user_id=holder_id)
            released.append(case.id)
        case.claimed_by_id = None
        case.claimed_until = None
    return released




def live_claim(case: Case, now: datetime | None = None) -> tuple[int | None, datetime | None]:
    now = now or utcnow()
    if case.claimed_by_id is not None and case.claimed_until is not None and case.claimed_until > now:
        return case.claimed_by_id, case.claimed_until
    return None, None


def add_missed_finding(
    session: Session, reviewer: User, case_id: int, body: MissedFindingIn, client_ip: str | None = None
) -> MissedFinding:
    # Locked: a deletion of the case under way makes this wait, then find no case (404), not fail its insert (500).
    case = _case(session, case_id, lock=True)
    finding = MissedFinding(
        case_id=case.id,
        reviewer_id=reviewer.id,
        point_mm=list(body.point_mm),
        point_voxel=list(body.point_voxel) if body.point_voxel else None,
        radius_mm=body.radius_mm,
        comment=body.comment,
    )
    session.add(finding)
    session.flush()
    record(session, "finding.added", actor_id=reviewer.id, case_id=case.id, client_ip=client_ip, finding_id=finding.id)
    return finding


def delete_missed_finding(session: Session, reviewer: User, finding_id: int, client_ip: str | None = None) -> None:
    # Locked, so that a case deletion (or a second click) removing it meanwhile makes this a 404, not a 500.
    finding = session.scalar(
        select(MissedFinding).where(MissedFinding.id == finding_id).with_for_update(of=MissedFinding)
    )
    if finding is None or finding.reviewer_id != reviewer.id:
        raise NotFound(f"No finding {finding_id} of yours.")
    record(session, "finding.removed", actor_id=reviewer.id, case_id=finding.case_id, client_ip=client_ip, finding_id=finding.id)
    session.delete(finding)


def add_review_time(session: Session, reviewer: User, case_id: int, seconds: float) -> ReviewTime:
    case = _case(session, case_id, lock=True)
    row = session.scalar(
        select(ReviewTime).where(ReviewTime.case_id == case.id, ReviewTime.reviewer_id == reviewer.id).with_for_update()
    )
    if row is None:
        row = ReviewTime(case_id=case.id, reviewer_id=reviewer.id, seconds=0.0)
        session.add(row)
    row.seconds += seconds
    row.updated_at = utcnow()
    session.flush()
    return row
