"""Recording reviewers' verdicts on flags, refusing stale writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.core.errors import Conflict, NotFound
from neurotriage.db import utcnow
from neurotriage.jobs.models import Flag, Result
from neurotriage.reviews.models import FlagVerdict
from neurotriage.reviews.schemas import FlagVerdictIn
from neurotriage.users.models import User


def set_flag_verdict(
    session: Session, reviewer: User, flag_id: int, body: FlagVerdictIn, client_ip: str | None = None
) -> FlagVerdict:
    row = session.execute(
        select(Flag, Result.case_id).join(Result, Result.id == Flag.result_id).where(Flag.id == flag_id)
    ).first()
    if row is None:
        raise NotFound(f"No flag {flag_id}.")
    flag, case_id = row
    verdict = session.scalar(
        select(FlagVerdict)
        .where(FlagVerdict.flag_id == flag.id, FlagVerdict.reviewer_id == reviewer.id)
        .with_for_update(of=FlagVerdict)
    )
    previous = verdict.verdict if verdict else None
    if verdict is None:
        if body.version not in (None, 0):
            raise Conflict("This verdict was removed or never existed; reload the case.")
        verdict = FlagVerdict(flag_id=flag.id, reviewer_id=reviewer.id, verdict=body.verdict, version=1)
        session.add(verdict)
    else:
        if body.version is not None and body.version != verdict.version:
            raise Conflict("Someone else changed this verdict; reload the case to see the current one.")
        verdict.version += 1
    verdict.verdict = body.verdict
    verdict.reason = body.reason
    verdict.comment = body.comment
    verdict.updated_at = utcnow()
    session.flush()
    record(
        session,
        "flag.verdict",
        actor_id=reviewer.id,
        case_id=case_id,
        client_ip=client_ip,
        flag_id=flag.id,
        verdict=body.verdict,
        previous=previous,
        version=verdict.version,
    )
    return verdict
