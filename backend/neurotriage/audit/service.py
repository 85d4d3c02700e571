"""Writing audit events. Callers pass their session so the event commits with the action itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neurotriage.audit.models import AuditEvent
from neurotriage.users.models import User


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    case_id: int | None = None,
    client_ip: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, case_id=case_id, client_ip=client_ip, detail=detail)
    session.add(event)
    return event


@dataclass(frozen=True)
class AuditQuery:
    username: str | None = None
    case_id: int | None = None
    action: str | None = None  # exact, or a prefix ending in '.' (e.g. 'login.')
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1
    page_size: int = 50


MAX_AUDIT_PAGE = 500


def query_events(session: Session, query: AuditQuery) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """Audit events, newest first, with the actor's username."""
    statement = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    if query.username:
        statement = statement.where(User.username == query.username)
    if query.case_id is not None:
        statement = statement.where(AuditEvent.case_id == query.case_id)
    if query.action:
        if query.action.endswith("."):
            statement = statement.where(AuditEvent.action.startswith(query.action))
        else:
            statement = statement.where(AuditEvent.action == query.action)
    if query.since:
        statement = statement.where(AuditEvent.at >= query.since)
    if query.until:
        statement = statement.where(AuditEvent.at < query.until)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    size = max(1, min(query.page_size, MAX_AUDIT_PAGE))
    rows = session.execute(
        statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((max(1, query.page) - 1) * size).limit(size)
    ).all()
    return [(row[0], row[1]) for row in rows], total
