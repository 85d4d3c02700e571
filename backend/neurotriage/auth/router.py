from __future__ import annotations

import math
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
    SignedInUser,
    client_ip,
    current_principal,
)
from neurotriage.auth.schemas import (
    ApiTokenCreate,
    ApiTokenOut,
    LoginRequest,
    Me,
    NewApiToken,
    PasswordChange,
    PasswordChanged,
    token_out,
)
from neurotriage.auth.known_device import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_LIFETIME,
    DEVICE_COOKIE_PATH,
    recognised_device,
    remember_device,
)
from neurotriage.auth.service import create_api_token, end_session, list_tokens, revoke_api_token, start_session
from neurotriage.auth.throttle import Refused, begin_password_check, forget_attempt
from neurotriage.core.errors import Unprocessable
from neurotriage.core.inputs import DbId
from neurotriage.core.openapi import errors
from neurotriage.users.service import WrongPassword, change_own_password, find_user, verify_login

router = APIRouter(tags=["auth"])

# What the audit trail names for a sign-in with a name that is no user's: the text typed may be a password.
UNKNOWN_USER = "unknown user"


def _too_many_failures(refused: Refused, what: str) -> HTTPException:
    seconds = max(1, math.ceil(refused.retry_after.total_seconds()))
    minutes = math.ceil(seconds / 60)
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"Too many failed {what}; try again in {minutes} minute{'' if minutes == 1 else 's'}.",
        headers={"Retry-After": str(seconds)},
    )


def _bucket(device_id: str | None) -> dict[str, bool]:
    """For a failed or refused password check: said only of a known browser (``known_device``), whose checks count
    on a limit of their own, so that an investigator can tell which limit it counted on."""
    return {"known_device": True} if device_id else {}


def _me(user) -> Me:  # type: ignore[no-untyped-def]
    return Me(id=user.id, username=user.username, roles=list(user.roles),
              password_change_required=user.password_change_required)


@router.post("/auth/login", response_model=Me, responses=errors(401, 403, 422, 429))
def login(body: LoginRequest, request: Request, response: Response, session: DbSession, settings: AppSettings) -> Me:
    ip = client_ip(request)
    user = find_user(session, body.username)
    named = user.username if user is not None else UNKNOWN_USER
    device_id = recognised_device(settings, request.cookies.get(DEVICE_COOKIE), user)
    attempt = begin_password_check(session, settings, username=body.username, client_ip=ip, device_id=device_id)
    if isinstance(attempt, Refused):
        record(session, "login.throttled", client_ip=ip, username_attempted=named, **_bucket(device_id))
        session.commit()
        raise _too_many_failures(attempt, "sign-ins")
    # An unknown name (user None) is checked against a dummy hash: the time taken must not tell it is unknown.
    if not verify_login(user, body.password) or user is None:
        record(session, "login.failed", client_ip=ip, username_attempted=named, **_bucket(device_id))
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Wrong username or password.")
    forget_attempt(session, attempt)  # only failures count towards the limit
    if user.disabled:
        # Said only to someone who knows the password: "wrong password" would have them retry into the lockout.
        record(session, "login.refused_disabled", actor_id=user.id, client_ip=ip)
        session.commit()
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="This account is disabled. Ask an administrator.")
    new = start_session(session, user)
    record(session, "login.succeeded", actor_id=user.id, client_ip=ip)
    session.commit()
    # No max_age: browser-session cookies, gone when the browser closes (shared workstations); the server
    # still ends the session after the idle limit or its lifetime.
    response.set_cookie(SESSION_COOKIE, new.token, httponly=True, samesite="lax", secure=settings.cookie_secure)
    # Readable by the page's script, which echoes it in the X-CSRF-Token header.
    response.set_cookie(CSRF_COOKIE, new.csrf_token, httponly=False, samesite="lax", secure=settings.cookie_secure)
    response.set_cookie(
        DEVICE_COOKIE, remember_device(settings, request.cookies.get(DEVICE_COOKIE), user),
        max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()), path=DEVICE_COOKIE_PATH, httponly=True,
        samesite="lax", secure=settings.cookie_secure,
    )
    return _me(user)


@router.post("/auth/logout", status_code=204, responses=errors(401, 403))
def logout(request: Request, session: DbSession, principal: Annotated[Principal, Depends(current_principal)]) -> Response:
    if principal.browser_session is not None:
        end_session(principal.browser_session)
    record(session, "logout", actor_id=principal.user.id, client_ip=client_ip(request))
    session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me", response_model=Me, responses=errors(401))
def me(user: SignedInUser) -> Me:
    return _me(user)


@router.post("/me/password", response_model=PasswordChanged, responses=errors(401, 403, 422, 429))
def change_password(
    body: PasswordChange, request: Request, response: Response, session: DbSession, user: SignedInUser,
    settings: AppSettings,
) -> PasswordChanged:
    """Change one's own password; every session of the user ends, this one included, and every API token is revoked.

    A wrong current password counts as a failed sign-in of the account (the same limit), and is audited."""
    ip = client_ip(request)
    device_id = recognised_device(settings, request.cookies.get(DEVICE_COOKIE), user)
    attempt = begin_password_check(session, settings, username=user.username, client_ip=ip, device_id=device_id)
    if isinstance(attempt, Refused):
        record(session, "user.password_change_throttled", actor_id=user.id, client_ip=ip, user_id=user.id,
               **_bucket(device_id))
        session.commit()
        raise _too_many_failures(attempt, "password checks")
    try:
        revoked = change_own_password(session, user, body.current_password, body.new_password)
    except WrongPassword:  # nothing was changed; the counted attempt stays (committed above)
        record(session, "user.password_change_failed", actor_id=user.id, client_ip=ip, user_id=user.id,
               **_bucket(device_id))
        session.commit()
        raise
    except Unprocessable:  # the new password was refused before the current one was checked
        forget_attempt(session, attempt)
        session.commit()
        raise
    forget_attempt(session, attempt)
    record(
        session, "user.password_changed", actor_id=user.id, client_ip=client_ip(request), user_id=user.id,
        tokens_revoked=revoked.tokens,
    )
    session.commit()
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return PasswordChanged(tokens_revoked=revoked.tokens)


@router.get("/me/tokens", response_model=list[ApiTokenOut], responses=errors(401))
def list_my_tokens(session: DbSession, user: CurrentUser) -> list[ApiTokenOut]:
    return [token_out(token) for token in list_tokens(session, user.id)]


@router.post("/me/tokens", response_model=NewApiToken, status_code=201, responses=errors(401, 403, 422))
def create_my_token(
    body: ApiTokenCreate, request: Request, session: DbSession,
    principal: Annotated[Principal, Depends(current_principal)],
    user: CurrentUser,  # refuses an account whose password an admin set; the principal is resolved once
) -> NewApiToken:
    """A new personal API token, made from a signed-in browser session only: a token that could make more would
    outlive its own revocation through the ones it made."""
    if principal.browser_session is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="API tokens are made from a signed-in browser session (the Account page), not with another token.",
        )
    token, plain = create_api_token(session, user, body.name, body.valid_days)
    record(session, "token.created", actor_id=user.id, client_ip=client_ip(request), token_id=token.id,
           valid_days=body.valid_days)
    session.commit()
    return NewApiToken(**token_out(token).model_dump(), token=plain)


@router.delete("/me/tokens/{token_id}", status_code=204, responses=errors(401, 403, 404))
def revoke_my_token(token_id: DbId, request: Request, session: DbSession, user: CurrentUser) -> Response:
    revoke_api_token(session, token_id, owner_id=user.id)
    record(session, "token.revoked", actor_id=user.id, client_ip=client_ip(request), token_id=token_id)
    session.commit()
    return Response(status_code=204)
