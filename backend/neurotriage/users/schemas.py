from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from neurotriage.core.inputs import RequestBody, Text

RoleName = Literal["clinician", "coordinator", "admin"]


class UserOut(BaseModel):
    id: int
    username: str
    roles: list[RoleName]
    disabled: bool
    created_at: datetime
    password_change_required: bool = Field(
        description="The password is still the one an admin set (new account or reset): the user must change it "
        "before anything else.")


class UserCreate(RequestBody):
    username: Text = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=1, max_length=1024)
    roles: list[RoleName] = Field(min_length=1)


class UserUpdate(RequestBody):
    roles: list[RoleName] | None = Field(default=None, min_length=1)
    disabled: bool | None = None


class PasswordReset(RequestBody):
    new_password: str = Field(min_length=1, max_length=1024)
