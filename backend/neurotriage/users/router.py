"""Administration of users and their API tokens (admins only). Users are disabled, never deleted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from neurotriage.audit.service import record
from neurotriage.auth.deps import DbSession, client_ip, require_roles
from neurotriage.auth.schemas import ApiTokenOut, PasswordChanged, token_out
from neurotriage.auth.service import list_tokens, revoke_api_token
from neurotriage.core.inputs import DbId
from neurotriage.core.openapi import errors
from neurotriage.users.models import Role, User
from neurotriage.users.schemas import PasswordReset, UserCreate, UserOut, UserUpdate
from neurotriage.users.service import create_user, get_user, list_users, reset_user_password, update_user

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[User, Depends(require_roles(Role.admin))]


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, username=user.username, roles=user.roles, disabled=user.disabled, created_at=user.created_at,
        password_change_required=user.password_change_required,
    )


@router.get("", response_model=list[UserOut], responses=errors(401, 403))
def get_users(session: DbSession, admin: Admin) -> list[UserOut]:
    return [user_out(user) for user in list_users(session)]


@router.post("", response_model=UserOut, status_code=201, responses=errors(401, 403, 409, 422))
def post_user(body: UserCreate, request: Request, session: DbSession, admin: Admin) -> UserOut:
    user = create_user(session, body.username, body.password, body.roles, password_change_required=True)
    record(session, "user.created", actor_id=admin.id, client_ip=client_ip(request), user_id=user.id, roles=user.roles)
    session.commit()
    return user_out(user)


@router.patch("/{user_id}", response_model=UserOut, responses=errors(401, 403, 404, 422))
def patch_user(user_id: DbId, body: UserUpdate, request: Request, session: DbSession, admin: Admin) -> UserOut:
    changes = update_user(session, admin, user_id, roles=body.roles, disabled=body.disabled)
    user, ip = changes.user, client_ip(request)
    if changes.roles is not None:
        before, after = changes.roles
        record(session, "user.roles_changed", actor_id=admin.id, client_ip=ip, user_id=user.id, before=before, after=after)
    if changes.disabled is not None:
        if changes.disabled:
            record(session, "user.disabled", actor_id=admin.id, client_ip=ip, user_id=user.id,
                   tokens_revoked=changes.tokens_revoked)
        else:
            record(session, "user.enabled", actor_id=admin.id, client_ip=ip, user_id=user.id)
    session.commit()
    return user_out(user)


@router.post("/{user_id}/password", response_model=PasswordChanged, responses=errors(401, 403, 404, 422))
def reset_password(
    user_id: DbId, body: PasswordReset, request: Request, session: DbSession, admin: Admin
) -> PasswordChanged:
    user, revoked = reset_user_password(session, admin, user_id, body.new_password)
    record(
        session, "user.password_reset", actor_id=admin.id, client_ip=client_ip(request), user_id=user.id,
        tokens_revoked=revoked.tokens,
    )
    session.commit()
    return PasswordChanged(tokens_revoked=revoked.tokens)


@router.get("/{user_id}/tokens", response_model=list[ApiTokenOut], responses=errors(401, 403, 404))
def get_user_tokens(user_id: DbId, session: DbSession, admin: Admin) -> list[ApiTokenOut]:
    get_user(session, user_id)
    return [token_out(token) for token in list_tokens(session, user_id)]


@router.delete("/{user_id}/tokens/{token_id}", status_code=204, responses=errors(401, 403, 404))
def revoke_user_token(user_id: DbId, token_id: DbId, request: Request, session: DbSession, admin: Admin) -> Response:
    revoke_api_token(session, token_id, owner_id=user_id)
    record(session, "token.revoked", actor_id=admin.id, client_ip=client_ip(request), token_id=token_id, user_id=user_id)
    session.commit()
    return Response(status_code=204)
