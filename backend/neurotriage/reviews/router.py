from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from neurotriage.auth.deps import AppSettings, DbSession, client_ip, require_roles
from neurotriage.cases.schemas import (
    CaseVerdictOut,
    ClaimOut,
    FlagVerdictOut,
    MissedFindingOut,
)
from neurotriage.cases.views import case_verdict_out, finding_out, verdict_out
from neurotriage.core.inputs import DbId
from neurotriage.core.openapi import errors
from neurotriage.reviews import case_review
from neurotriage.reviews.schemas import (
    CaseVerdictIn,
    FlagVerdictIn,
    MissedFindingIn,
    ReviewTimeIn,
)
from neurotriage.reviews.service import set_flag_verdict
from neurotriage.users.models import Role, User

router = APIRouter(tags=["reviews"])

Reviewer = Annotated[User, Depends(require_roles(Role.clinician))]


@router.put("/flags/{flag_id}/verdict", response_model=FlagVerdictOut, responses=errors(401, 403, 404, 409, 422))
def put_flag_verdict(
    flag_id: DbId, body: FlagVerdictIn, request: Request, session: DbSession, user: Reviewer
) -> FlagVerdictOut:
    verdict = set_flag_verdict(session, user, flag_id, body, client_ip(request))
    session.commit()
    return verdict_out(verdict)


@router.put("/cases/{case_id}/verdict", response_model=CaseVerdictOut, responses=errors(401, 403, 404, 409, 422))
def put_case_verdict(
    case_id: DbId, body: CaseVerdictIn, request: Request, session: DbSession, user: Reviewer
) -> CaseVerdictOut:
    verdict = case_review.set_case_verdict(session, user, case_id, body, client_ip(request))
    session.commit()
    return case_verdict_out(verdict)


@router.post("/cases/{case_id}/claim", response_model=ClaimOut, responses=errors(401, 403, 404, 409))
def claim_case(case_id: DbId, request: Request, session: DbSession, settings: AppSettings, user: Reviewer) -> ClaimOut:
    """Claim the case for review, or renew one's own claim; 409 while another reviewer holds it."""
    case = case_review.claim_case(session, user, case_id, settings.claim_minutes, client_ip(request))
    session.commit()
    return ClaimOut(claimed_by=user.username, claimed_until=case.claimed_until)


@router.delete("/cases/{case_id}/claim", status_code=204, responses=errors(401, 403, 404))
def release_claim(case_id: DbId, request: Request, session: DbSession, user: Reviewer) -> Response:
    case_review.release_claim(session, user, case_id, client_ip(request))
    session.commit()
    return Response(status_code=204)


@router.post(
    "/cases/{case_id}/findings", response_model=MissedFindingOut, status_code=201, responses=errors(401, 403, 404, 422)
)
def add_finding(
    case_id: DbId, body: MissedFindingIn, request: Request, session: DbSession, user: Reviewer
) -> MissedFindingOut:
    """Mark something the model missed: a point (radius 0) or a small sphere, in world coordinates."""
    finding = case_review.add_missed_finding(session, user, case_id, body, client_ip(request))
    session.commit()
    return finding_out(finding)


@router.delete("/findings/{finding_id}", status_code=204, responses=errors(401, 403, 404))
def delete_finding(finding_id: DbId, request: Request, session: DbSession, user: Reviewer) -> Response:
    case_review.delete_missed_finding(session, user, finding_id, client_ip(request))
    session.commit()
    return Response(status_code=204)


@router.post("/cases/{case_id}/review-time", status_code=204, responses=errors(401, 403, 404, 422))
def add_review_time(case_id: DbId, body: ReviewTimeIn, session: DbSession, user: Reviewer) -> Response:
    """Add the seconds the reviewer had the case open (the app reports them periodically)."""
    case_review.add_review_time(session, user, case_id, body.seconds)
    session.commit()
    return Response(status_code=204)
