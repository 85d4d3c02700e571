"""FastAPI dependencies that authenticate a request and check its roles.

Every route except login and health depends on ``current_user``; role-restricted routes use
``require_roles``. Cookie-authenticated mutating requests must echo the CSRF token in a header.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from neurotriage.auth.models import BrowserSession
from neurotriage.auth.service import SessionEnd, resolve_api_token, resolve_session
from neurotriage.config import Settings, get_settings
from neurotriage.core.errors import DomainError
from neurotriage.db import get_session
from neurotriage.users.models import Role, User

SESSION_COOKIE = "nt_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings)]


@dataclass
class Principal:
    user: User
    browser_session: BrowserSession | None
    api_token_id: int | None = None


class SessionEnded(DomainError):
    """401 for a browser session that is over, saying why (``reason``, for the app's sign-in page, and in words)."""

    status_code = 401

    def __init__(self, reason: SessionEnd, settings: Settings) -> None:
        super().__init__({
            "ended": "Your session was ended: you signed out, or your password or account was changed. Please sign "
                     "in again.",
            "idle": f"Your session ended after {settings.session_idle_minutes} minutes without activity. Please "
                    "sign in again.",
            "lifetime": f"Your session reached its limit of {settings.session_max_hours} hours. Please sign in "
                        "again.",
            "disabled": "Your account is disabled. Ask an administrator.",
        }[reason])
        self.extra = {"reason": reason}


def _unauthorized(message: str, *, bearer: bool = False) -> HTTPException:
    # RFC 6750: a refused bearer token is answered with the scheme, so HTTP clients know what failed
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if bearer else None
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers=headers)


def current_principal(request: Request, session: DbSession, settings: AppSettings) -> Principal:
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        # Machine clients: a personal API token, no cookie and so no CSRF exposure.
        lookup = resolve_api_token(session, authorization[7:].strip())
        api_token = lookup.token
        if api_token is None:
            session.commit()
            raise _unauthorized(lookup.refused or "Unknown API token.", bearer=True)
        session.commit()
        return Principal(user=api_token.user, browser_session=None, api_token_id=api_token.id)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise _unauthorized("Not signed in.")
    lookup = resolve_session(
        session, token, idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )
    record = lookup.record
    if record is None:
        # Persist the expiry mark even though the request fails.
        session.commit()
        raise SessionEnded(lookup.ended or "ended", settings)
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        # As bytes: compare_digest raises TypeError on a str with non-ASCII characters, which a header may carry.
        if not secrets.compare_digest(sent.encode(), record.csrf_token.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Missing or wrong CSRF token.")
    session.commit()
    return Principal(user=record.user, browser_session=record)


def signed_in_user(principal: Annotated[Principal, Depends(current_principal)]) -> User:
    """The signed-in user, whose password may still be one an admin set: only for reading one's own account,
    changing the password and signing out."""
    return principal.user


SignedInUser = Annotated[User, Depends(signed_in_user)]

PASSWORD_CHANGE_FIRST = ("An administrator set your password: choose your own on the Account page "
                         "(POST /api/me/password) before anything else.")


def current_user(user: SignedInUser) -> User:
    if user.password_change_required:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=PASSWORD_CHANGE_FIRST)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if not user.has_role(*roles):
            names = " or ".join(role.value for role in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"This needs the {names} role.")
        return user

    return check


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
