"""Creating users and checking passwords (argon2id via pwdlib)."""

from __future__ import annotations

from collections.abc import Iterable

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.core.errors import Conflict, NotFound, Unprocessable
from neurotriage.users.models import Role, User

password_hasher = PasswordHash((Argon2Hasher(),))
# Verifying against this keeps a login for an unknown name as slow as one for a known name.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(session: Session, username: str, password: str, roles: Iterable[str]) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise Unprocessable("Username must be 1 to 64 characters.")
    _check_password(password)
    role_values = sorted({Role(role).value for role in roles})
    if not role_values:
        raise Unprocessable("A user needs at least one role.")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"User {username!r} already exists.")
    user = User(username=username, password_hash=password_hasher.hash(password), roles=role_values)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the name and password match an enabled account, else None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        password_hasher.verify(password, _DUMMY_HASH)
        return None
    if not password_hasher.verify(password, user.password_hash) or user.disabled:
        return None
    return user


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    if not password_hasher.verify(current, user.password_hash):
        raise Unprocessable("The current password is wrong.")
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    _check_password(new)
    user.password_hash = password_hasher.hash(new)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_roles(user: User, roles: Iterable[str]) -> tuple[list[str], list[str]]:
    """Replace a user's roles; returns (before, after)."""
    after = sorted({Role(role).value for role in roles})
    if not after:
        raise Unprocessable("A user needs at least one role.")
    before = list(user.roles)
    user.roles = after
    return before, after
