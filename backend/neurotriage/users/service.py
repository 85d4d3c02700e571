"""Creating users and checking passwords (argon2id via pwdlib)."""

from __future__ import annotations

from collections.abc import Iterable

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from neurotriage.core.errors import Conflict, Unprocessable
from neurotriage.users.models import Role, User

password_hasher = PasswordHash((Argon2Hasher(),))
# Verifying against this keeps a login for an unknown name as slow as one for a known name.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def create_user(session: Session, username: str, password: str, roles: Iterable[str]) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise Unprocessable("Username must be 1 to 64 characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
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
