"""Periodic housekeeping, run as a task on the ``default`` queue: plain functions, testable alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from neurotriage.auth.models import BrowserSession
from neurotriage.db import utcnow
from neurotriage.jobs.models import Job, JobStatus
from neurotriage.jobs.service import transition

STALE_MESSAGE = "The worker stopped while analysing this scan; re-run the case."


def fail_stale_jobs(session: Session, older_than: timedelta) -> list[int]:
    """Fail runs still 'running' long after any worker could be on them (its hard time limit passed).

    A worker killed mid-task has its message re-delivered by the broker; this catches the rest (a broker
    that lost the message), so no case shows 'running' forever.
    """
    cutoff = utcnow() - older_than
    stale = session.scalars(
        select(Job).where(Job.status == JobStatus.running, Job.started_at < cutoff).with_for_update(skip_locked=True)
    ).all()
    for job in stale:
        transition(session, job, JobStatus.failed, error=STALE_MESSAGE)
    return [job.id for job in stale]


def end_idle_sessions(session: Session, idle: timedelta) -> int:
    """Mark browser sessions idle past the limit as ended (they are refused anyway; this tidies up)."""
    result = session.execute(
        update(BrowserSession)
        .where(BrowserSession.ended_at.is_(None), BrowserSession.last_seen_at < utcnow() - idle)
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)
