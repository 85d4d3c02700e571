"""Writing audit events (callers pass their session so the event commits with the action itself) and reading them
back for the audit trail, which only ever selects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neurotriage.audit.models import AuditEvent
from neurotriage.cases.models import Case
from neurotriage.db import utcnow
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


# A case page asks for its case again every 2 s while a run moves, and after each verdict saved: one "case.viewed" row
# per reader, case and address in this window says who looked at it without burying the trail in repeats.
VIEW_WINDOW = timedelta(minutes=15)


def record_view(session: Session, *, actor_id: int, case_id: int, client_ip: str | None) -> bool:
    """Record ``case.viewed`` unless the same reader viewed the case from the same address within VIEW_WINDOW.
    Returns whether a row was written."""
    same_address = AuditEvent.client_ip.is_(None) if client_ip is None else AuditEvent.client_ip == client_ip
    seen = session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "case.viewed", AuditEvent.actor_id == actor_id,
            same_address, AuditEvent.at >= utcnow() - VIEW_WINDOW,
        ).limit(1)
    )
    if seen is not None:
        return False
    record(session, "case.viewed", actor_id=actor_id, case_id=case_id, client_ip=client_ip)
    return True


@dataclass(frozen=True)
class AuditQuery:
    username: str | None = None  # part of the actor's username, any case
    case_id: int | None = None
    action: str | None = None  # the start of the action: 'flag.' or 'flag' for every flag event, 'case.verdict'
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1
    page_size: int = 50


MAX_AUDIT_PAGE = 500


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: str | None
    case_label: str | None = None
    detail_usernames: dict[str, str] = field(default_factory=dict)


def is_user_key(key: str) -> bool:
    """Detail keys that hold a user id (``user_id`` today; ``…_user_id`` for any later one)."""
    return key == "user_id" or key.endswith("_user_id")


def _user_ids(detail: dict[str, Any]) -> dict[str, int]:
    # bool is an int in Python; a flag such as {"user_id": true} is no user id.
    return {
        key: value
        for key, value in (detail or {}).items()
        if is_user_key(key) and isinstance(value, int) and not isinstance(value, bool)
    }


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query_events(session: Session, query: AuditQuery, *, case_labels: bool = True) -> tuple[list[AuditRow], int]:
    """Audit events, newest first, with the actor's username, the usernames of the user ids in their details and
    (``case_labels``, for readers who may read cases) the labels of their cases. Only reads: rows are never changed.
    """
    statement = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    if query.username and query.username.strip():
        pattern = "%" + _like_escape(query.username.strip()) + "%"
        statement = statement.where(User.username.ilike(pattern, escape="\\"))
    if query.case_id is not None:
        statement = statement.where(AuditEvent.case_id == query.case_id)
    if query.action and query.action.strip():
        # Actions are lower case ("flag.verdict"); what was typed need not be.
        statement = statement.where(AuditEvent.action.startswith(query.action.strip().lower(), autoescape=True))
    if query.since:
        statement = statement.where(AuditEvent.at >= query.since)
    if query.until:
        statement = statement.where(AuditEvent.at < query.until)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    size = max(1, min(query.page_size, MAX_AUDIT_PAGE))
    rows = session.execute(
        statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((max(1, query.page) - 1) * size).limit(size)
    ).all()
    events = [(row[0], row[1]) for row in rows]

    user_ids = {user_id for event, _ in events for user_id in _user_ids(event.detail).values()}
    names: dict[int, str] = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) if user_ids else {}
    )
    case_ids = {event.case_id for event, _ in events if event.case_id is not None}
    labels: dict[int, str] = (
        dict(session.execute(select(Case.id, Case.label).where(Case.id.in_(case_ids))).all())
        if case_labels and case_ids
        else {}
    )
    return [
        AuditRow(
            event=event,
            actor=actor,
            case_label=labels.get(event.case_id) if event.case_id is not None else None,
            detail_usernames={
                key: names[user_id] for key, user_id in _user_ids(event.detail).items() if user_id in names
            },
        )
        for event, actor in events
    ], total


HIDDEN_VERDICT = "hidden until your own case verdict"


def details_as_seen_by(session: Session, viewer: User, rows: list[AuditRow]) -> dict[int, dict[str, Any]]:
    """Each row's detail (by event id) as ``viewer`` may read it: a reader who reads blind (a clinician who is also
    an admin) must not learn here another reader's verdict on a case before giving their own, as the case page
    does not show it either."""
    # Here, not at the top: reviews records its events through this module.
    from neurotriage.reviews.independence import VERDICT_ACTIONS, blind_case_ids

    others = [row for row in rows if row.event.action in VERDICT_ACTIONS and row.event.actor_id != viewer.id
              and row.event.case_id is not None]
    blind = blind_case_ids(session, viewer, {row.event.case_id for row in others})  # type: ignore[misc]
    hidden = {row.event.id for row in others if row.event.case_id in blind}
    return {row.event.id: _without_verdicts(row.event.detail) if row.event.id in hidden else row.event.detail
            for row in rows}


def _without_verdicts(detail: dict[str, Any]) -> dict[str, Any]:
    # A previous verdict of None (a first verdict) says nothing the version does not, and stays.
    return {
        key: HIDDEN_VERDICT if key in ("verdict", "previous") and value is not None else value
        for key, value in detail.items()
    }
