"""Browser sessions: created at login, looked up per request, ended at logout or after idle time."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.auth.models import BrowserSession
from neurotriage.db import utcnow
from neurotriage.users.models import User

# Refresh last_seen_at at most this often, so reads do not turn into writes on every request.
_TOUCH_INTERVAL = timedelta(seconds=30)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    record: BrowserSession


def start_session(session: Session, user: User) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    record = BrowserSession(token_sha256=_sha256(token), csrf_token=csrf_token, user_id=user.id)
    session.add(record)
    session.flush()
    return NewSession(token=token, csrf_token=csrf_token, record=record)


def resolve_session(session: Session, token: str, idle_minutes: int) -> BrowserSession | None:
    """The live session for a cookie token, or None if unknown, ended, idle too long or user disabled."""
    record = session.scalar(select(BrowserSession).where(BrowserSession.token_sha256 == _sha256(token)))
    if record is None or record.ended_at is not None or record.user.disabled:
        return None
    now = utcnow()
    if now - record.last_seen_at > timedelta(minutes=idle_minutes):
        record.ended_at = now
        return None
    if now - record.last_seen_at > _TOUCH_INTERVAL:
        record.last_seen_at = now
    return record


def end_session(record: BrowserSession) -> None:
    record.ended_at = utcnow()
