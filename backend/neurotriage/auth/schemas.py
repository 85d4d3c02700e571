from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from neurotriage.auth.models import ApiToken
from neurotriage.auth.service import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX
from neurotriage.core.inputs import RequestBody, Text


class LoginRequest(RequestBody):
    username: Text = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    id: int
    username: str
    roles: list[str]
    password_change_required: bool = Field(
        default=False, description="An admin set the password (new account or reset): every route but this one, "
        "the password change and sign-out answers 403 until the user has chosen their own.")


class PasswordChange(RequestBody):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChanged(BaseModel):
    """What a password change or reset did besides setting the password (every session of the user ended)."""

    tokens_revoked: int = Field(description="The user's API tokens that were still valid and are revoked now")


class ApiTokenCreate(RequestBody):
    name: Text = Field(min_length=1, max_length=100)
    valid_days: int = Field(default=TOKEN_DAYS_DEFAULT, ge=1, le=TOKEN_DAYS_MAX,
                            description="How many days the token works; after that it is refused.")


class ApiTokenOut(BaseModel):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


class NewApiToken(ApiTokenOut):
    token: str = Field(description="The token itself; shown only in this response.")


def token_out(token: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        user_id=token.user_id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        expires_at=token.expires_at,
    )
