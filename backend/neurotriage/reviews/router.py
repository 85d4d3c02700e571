from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from neurotriage.auth.deps import DbSession, client_ip, require_roles
from neurotriage.cases.schemas import FlagVerdictOut
from neurotriage.cases.views import verdict_out
from neurotriage.core.openapi import errors
from neurotriage.reviews.schemas import FlagVerdictIn
from neurotriage.reviews.service import set_flag_verdict
from neurotriage.users.models import Role, User

router = APIRouter(tags=["reviews"])

Reviewer = Annotated[User, Depends(require_roles(Role.clinician))]


@router.put("/flags/{flag_id}/verdict", response_model=FlagVerdictOut, responses=errors(401, 403, 404, 409, 422))
def put_flag_verdict(
    flag_id: int, body: FlagVerdictIn, request: Request, session: DbSession, user: Reviewer
) -> FlagVerdictOut:
    verdict = set_flag_verdict(session, user, flag_id, body, client_ip(request))
    session.commit()
    return verdict_out(verdict)
