from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from neurotriage.core.inputs import RequestBody, Text
from neurotriage.users.models import USERNAME_CHARACTERS, USERNAME_RULE

RoleName = Literal["clinician", "coordinator", "admin"]


def _username_characters(name: str) -> str:
    # pydantic's own pattern message shows the regular expression, which tells an admin nothing
    if not USERNAME_CHARACTERS.fullmatch(name):
        raise PydanticCustomError("username", USERNAME_RULE)
    return name


Username = Annotated[Text, Field(min_length=1, max_length=64), AfterValidator(_username_characters)]


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
    username: Username
    password: str = Field(min_length=1, max_length=1024)
    roles: list[RoleName] = Field(min_length=1)


class UserUpdate(RequestBody):
    roles: list[RoleName] | None = Field(default=None, min_length=1)
    disabled: bool | None = None


class PasswordReset(RequestBody):
    new_password: str = Field(min_length=1, max_length=1024)
