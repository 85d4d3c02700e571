from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from neurotriage.audit.service import record
from neurotriage.auth.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AppSettings,
    CurrentUser,
    DbSession,
    Principal,
    client_ip,
    current_principal,
)
from neurotriage.auth.schemas import LoginRequest, Me
from neurotriage.auth.service import end_session, start_session
from neurotriage.core.openapi import errors
from neurotriage.users.service import authenticate

router = APIRouter(tags=["auth"])


def _me(user) -> Me:  # type: ignore[no-untyped-def]
    return Me(id=user.id, username=user.username, roles=list(user.roles))


@router.post("/auth/login", response_model=Me, responses=errors(401, 422))
def login(body: LoginRequest, request: Request, response: Response, session: DbSession, settings: AppSettings) -> Me:
    user = authenticate(session, body.username, body.password)
    if user is None:
        record(session, "login.failed", client_ip=client_ip(request), username_attempted=body.username[:64])
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Wrong username or password.")
    new = start_session(session, user)
    record(session, "login.succeeded", actor_id=user.id, client_ip=client_ip(request))
    session.commit()
    max_age = settings.session_idle_minutes * 60 * 24
    response.set_cookie(
        SESSION_COOKIE, new.token, httponly=True, samesite="lax", secure=settings.cookie_secure, max_age=max_age
    )
    # Readable by the page's script, which echoes it in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, new.csrf_token, httponly=False, samesite="lax", secure=settings.cookie_secure, max_age=max_age
    )
    return _me(user)


@router.post("/auth/logout", status_code=204, responses=errors(401, 403))
def logout(
    request: Request, response: Response, session: DbSession, principal: Annotated[Principal, Depends(current_principal)]
) -> Response:
    if principal.browser_session is not None:
        end_session(principal.browser_session)
    record(session, "logout", actor_id=principal.user.id, client_ip=client_ip(request))
    session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me", response_model=Me, responses=errors(401))
def me(user: CurrentUser) -> Me:
    return _me(user)
