"""Browser sessions and API tokens: created, looked up per request, ended or revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neurotriage.auth.models import ApiToken, BrowserSession
from neurotriage.core.errors import NotFound, Unprocessable
from neurotriage.db import utcnow
from neurotriage.reviews.case_review import release_claims_of
from neurotriage.users.models import User

TOKEN_PREFIX = "ntk_"
# How long a new API token works: chosen when it is made, 90 days unless its owner asks otherwise, a year at most.
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365

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


# Why a cookie signs nobody in (any more): the 401 says so, and the app tells the reader on the sign-in page.
SessionEnd = Literal["ended", "idle", "lifetime", "disabled"]


@dataclass(frozen=True)
class SessionLookup:
    record: BrowserSession | None  # the live session, or None
    ended: SessionEnd | None = None  # why there is none


def resolve_session(session: Session, token: str, idle: timedelta, lifetime: timedelta) -> SessionLookup:
    """The live session for a cookie token, or why there is none: unknown or ended (signed out, password changed,
    account changed by an admin), idle too long, older than its lifetime (however busy), or its user disabled."""
    record = session.scalar(select(BrowserSession).where(BrowserSession.token_sha256 == _sha256(token)))
    if record is not None and record.user.disabled:  # first: disabling also ends the sessions, and this says more
        return SessionLookup(None, "disabled")
    if record is None or record.ended_at is not None:
        return SessionLookup(None, "ended")
    now = utcnow()
    if now - record.created_at > lifetime:
        record.ended_at = now
        return SessionLookup(None, "lifetime")
    if now - record.last_seen_at > idle:
        record.ended_at = now
        return SessionLookup(None, "idle")
    if now - record.last_seen_at > _TOUCH_INTERVAL:
        record.last_seen_at = now
    return SessionLookup(record)


def end_session(record: BrowserSession) -> None:
    record.ended_at = utcnow()


def end_all_sessions(session: Session, user_id: int) -> int:
    """End every live browser session of a user (password change, reset, disable). Returns how many."""
    now = utcnow()
    records = session.scalars(
        select(BrowserSession).where(BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None))
    ).all()
    for record in records:
        record.ended_at = now
    return len(records)


def revoke_all_tokens(session: Session, user_id: int) -> int:
    """Revoke every live API token of a user. Returns how many."""
    now = utcnow()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


@dataclass(frozen=True)
class Revoked:
    sessions: int
    tokens: int


def revoke_credentials(session: Session, user_id: int, actor_id: int) -> Revoked:
    """End every session and revoke every API token of a user whose password changed: a reset is the answer to
    a compromised account, and a token minted by whoever held it must not outlive it. The cases the user had
    claimed are released with the sessions that read them (``actor_id``: who did it, for the audit trail)."""
    release_claims_of(session, user_id, actor_id)
    return Revoked(sessions=end_all_sessions(session, user_id), tokens=revoke_all_tokens(session, user_id))


def create_api_token(
    session: Session, user: User, name: str, valid_days: int = TOKEN_DAYS_DEFAULT
) -> tuple[ApiToken, str]:
    """A new token that works for ``valid_days`` (1..TOKEN_DAYS_MAX); the plain value is returned once, never stored."""
    if not 1 <= valid_days <= TOKEN_DAYS_MAX:
        raise ValueError(f"valid_days must be 1..{TOKEN_DAYS_MAX}")
    name = name.strip()[:100] or "token"
    now = utcnow()
    # A token is told apart by its name, in the list and in a refusal's words: two working ones must not share it.
    twin = session.scalar(select(ApiToken.id).where(
        ApiToken.user_id == user.id, func.lower(ApiToken.name) == name.lower(), ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > now,
    ))
    if twin is not None:
        raise Unprocessable(f"You already have a working API token named {name!r}; choose another name, or revoke "
                            "that one first.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_sha256=_sha256(plain),
                     prefix=plain[:12], created_at=now, expires_at=now + timedelta(days=valid_days))
    session.add(token)
    session.flush()
    return token, plain


def list_tokens(session: Session, user_id: int | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class TokenLookup:
    token: ApiToken | None  # the live token, or None
    refused: str | None = None  # why not, in words for the script's log


def resolve_api_token(session: Session, plain: str) -> TokenLookup:
    token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(plain)))
    if token is None:
        return TokenLookup(None, "Unknown API token.")
    # Before the revocation: disabling revokes the tokens too, and "make a new one" would be no use to the holder.
    if token.user.disabled:
        return TokenLookup(None, "The API token's account is disabled; ask an administrator.")
    # Only the token's holder can ask about it, so naming it and its revocation tells nobody else anything.
    if token.revoked_at is not None:
        return TokenLookup(None, f"The API token {token.name!r} was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC; "
                                 "make a new one on the Account page.")
    now = utcnow()
    if now >= token.expires_at:
        return TokenLookup(None, f"The API token {token.name!r} expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; make "
                                 "a new one on the Account page.")
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_INTERVAL:
        token.last_used_at = now
    return TokenLookup(token)


def revoke_api_token(session: Session, token_id: int, owner_id: int | None) -> ApiToken:
    """Revoke a token; ``owner_id`` limits it to that user's tokens (None: any, for admins)."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise NotFound(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
