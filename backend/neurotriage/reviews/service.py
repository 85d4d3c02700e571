"""Recording reviewers' verdicts on flags, refusing stale writes."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.audit.service import record
from neurotriage.core.errors import Conflict, NotFound
from neurotriage.db import utcnow
from neurotriage.jobs.models import Flag, Result
from neurotriage.reviews.independence import reads_independently
from neurotriage.reviews.models import CaseVerdict, FlagVerdict
from neurotriage.reviews.schemas import FlagVerdictIn
from neurotriage.users.models import User

VerdictRow = TypeVar("VerdictRow", FlagVerdict, CaseVerdict)


def upsert_versioned(
    session: Session, model: type[VerdictRow], keys: dict[str, int], sent_version: int | None, what: str
) -> tuple[VerdictRow, str | None]:
    """The reviewer's row (locked), created at version 1 or bumped by one; (row, previous verdict).

    ``sent_version`` is the version the client last saw: a different current version means someone
    else changed it since (409), and None skips the check (first save from a fresh page).
    """
    columns = [getattr(model, name) == value for name, value in keys.items()]
    row = session.scalar(select(model).where(*columns).with_for_update(of=model))
    if row is None:
        if sent_version not in (None, 0):
            raise Conflict(f"This {what} was removed or never existed; reload the case.")
        row = model(**keys, version=1)
        session.add(row)
        return row, None
    if sent_version is not None and sent_version != row.version:
        raise Conflict(f"Someone else changed this {what}; reload the case to see the current one.")
    previous = row.verdict
    row.version += 1
    return row, previous


def set_flag_verdict(
    session: Session, reviewer: User, flag_id: int, body: FlagVerdictIn, client_ip: str | None = None
) -> FlagVerdict:
    # The flag row is locked first: two first saves of one reviewer's verdict (two tabs, a double click) then
    # run one after the other, and the second finds the first's row instead of inserting a duplicate (a 500).
    row = session.execute(
        select(Flag, Result.case_id).join(Result, Result.id == Flag.result_id).where(Flag.id == flag_id)
        .with_for_update(of=Flag)
    ).first()
    if row is None:
        raise NotFound(f"No flag {flag_id}.")
    flag, case_id = row
    independent = reads_independently(session, reviewer, case_id)
    verdict, previous = upsert_versioned(
        session, FlagVerdict, {"flag_id": flag.id, "reviewer_id": reviewer.id}, body.version, "verdict"
    )
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
        flag=flag.label,  # the number the case page shows ("Flag 2"); flag_id is the database row
        flag_id=flag.id,
        verdict=body.verdict,
        previous=previous,
        version=verdict.version,
        independent=independent,  # whether the statistics' agreement may count it (reviews.independence)
    )
    return verdict
