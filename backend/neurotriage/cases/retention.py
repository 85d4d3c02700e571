"""The site's retention period (``NEUROTRIAGE_RETENTION_DAYS``): a case is deleted that many days after its upload.

A triage service is not the record of care (the scanner's archive is), and a de-identified scan kept for ever is
still personal data. So a site may set how long cases are kept; unset, they stay until a coordinator deletes one.
Housekeeping deletes what has expired as a coordinator's deletion does (``deletion.delete_case_rows``: rows, then
files; a ``case.deleted`` audit row with the reason, and no actor), a batch per pass. A case a reader holds open
(a live claim) or with a run queued or running waits for the next pass."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from neurotriage.cases.deletion import delete_case_rows, lock_case
from neurotriage.cases.models import Case
from neurotriage.core.errors import Conflict, NotFound
from neurotriage.core.storage import Storage, case_folder
from neurotriage.db import utcnow
from neurotriage.jobs.models import Job, JobStatus

# Cases deleted per housekeeping pass (every 10 minutes): the first pass after the setting is turned on must not
# hold the worker for hours.
RETENTION_BATCH = 200


def retention_reason(days: int) -> str:
    return f"Kept {days} days after upload: the site's retention period (NEUROTRIAGE_RETENTION_DAYS)."


def delete_after(uploaded_at: datetime, days: int | None) -> datetime | None:
    """When housekeeping deletes a case uploaded at ``uploaded_at``; None while the site keeps cases."""
    return None if days is None else uploaded_at + timedelta(days=days)


def _deletable(now: datetime):  # type: ignore[no-untyped-def]
    """Neither held open by a reader nor with a run that is queued or running."""
    busy = exists().where(Job.case_id == Case.id, Job.status.in_([JobStatus.queued, JobStatus.running]))
    return or_(Case.claimed_until.is_(None), Case.claimed_until <= now) & ~busy


def expired_case_ids(session: Session, days: int, now: datetime, limit: int = RETENTION_BATCH) -> list[int]:
    """The cases uploaded more than ``days`` before ``now`` that may go now, oldest first."""
    return list(session.scalars(
        select(Case.id)
        .where(Case.uploaded_at < now - timedelta(days=days), _deletable(now))
        .order_by(Case.uploaded_at, Case.id)
        .limit(limit)
    ))


def delete_expired_cases(
    sessions: Callable[[], AbstractContextManager[Session]], storage: Storage, days: int
) -> list[int]:
    """Delete the expired cases, each in its own transaction (``sessions`` commits on leaving), then its files; the
    ids deleted. A case claimed or given a run since it was listed is left for the next pass."""
    now = utcnow()
    with sessions() as session:
        candidates = expired_case_ids(session, days, now)
    deleted = []
    for case_id in candidates:
        try:
            with sessions() as session:
                # Locked, then checked again: a reader may have opened it, or asked for a run, since the list was made.
                case = lock_case(session, case_id)
                if case is None or not session.scalar(select(Case.id).where(Case.id == case_id, _deletable(now))):
                    continue
                delete_case_rows(session, case_id, reason=retention_reason(days), actor_id=None, client_ip=None)
        except (NotFound, Conflict):
            continue
        # After the commit; a folder that cannot be removed now is an orphan that housekeeping removes later.
        storage.delete_tree(case_folder(case_id))
        deleted.append(case_id)
    return deleted
