"""Creating and administering users, checking passwords (argon2id via pwdlib)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neurotriage.auth.service import Revoked, revoke_credentials
from neurotriage.reviews.case_review import release_claims_of
from neurotriage.core.errors import Conflict, NotFound, Unprocessable
from neurotriage.users.models import USERNAME_CHARACTERS, USERNAME_RULE, Role, User

password_hasher = PasswordHash((Argon2Hasher(),))
# Verifying against this keeps a login for an unknown name as slow as one for a known name.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


# Long enough, yet the first a guesser tries (and what people type when told "at least 10 characters").
_COMMON_PASSWORDS = frozenset({
    "password12", "password123", "password1234", "password12345", "passwordpassword", "1234567890", "12345678910",
    "0123456789", "123456789a", "qwertyuiop", "qwerty1234", "qwerty12345", "1q2w3e4r5t", "1qaz2wsx3edc",
    "abcdefghij", "abcd123456", "iloveyou12", "letmein123", "welcome123", "welcome1234", "administrator",
    "changeme123", "trustno1234", "neurotriage", "neurotriage1", "neurotriage123",
})


def _check_password(password: str, username: str | None = None) -> None:
    """At least MIN_PASSWORD_LENGTH characters, and none of what a guesser tries first: a common password, one
    character repeated, or the account's own name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    folded = password.casefold()
    if folded in _COMMON_PASSWORDS or len(set(folded)) <= 2:
        raise Unprocessable("That password is among the first ones guessed; choose a less common one (a few unrelated "
                            "words work well).")
    if username and username.casefold() in folded:
        raise Unprocessable("The password must not contain the username.")


def create_user(
    session: Session, username: str, password: str, roles: Iterable[str], *, password_change_required: bool = False
) -> User:
    """A new account. ``password_change_required`` when someone other than the user chose the password (an admin
    in the app); the command line's accounts are the operator's own (the first admin), so it leaves it False."""
    username = username.strip()
    if not username or len(username) > 64:
        raise Unprocessable("Username must be 1 to 64 characters.")
    if not USERNAME_CHARACTERS.fullmatch(username):  # the API's schema says so first; the command line comes here
        raise Unprocessable(f"Username: {USERNAME_RULE}.")
    _check_password(password, username)
    role_values = sorted({Role(role).value for role in roles})
    if not role_values:
        raise Unprocessable("A user needs at least one role.")
    # "Admin" beside "admin" would be told apart by nobody reading the audit trail or a claim
    existing = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if existing == username:
        raise Conflict(f"User {username!r} already exists.")
    if existing is not None:
        raise Conflict(f"User {existing!r} already exists, and a name that differs from it only in capital letters "
                       "would be mistaken for it.")
    user = User(username=username, password_hash=password_hasher.hash(password), roles=role_values,
                password_change_required=password_change_required)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # The same name created at the same moment by another request: the check above could not see it yet.
        # Nothing else is written before this in the request, so its transaction is rolled back whole (a savepoint
        # would do on PostgreSQL, but pysqlite would commit the demo database's insert on its release).
        session.rollback()
        raise Conflict(f"User {username!r} already exists.") from None
    return user


def find_user(session: Session, username: str) -> User | None:
    """The account of a name typed at sign-in, whatever its capitals (a unique index keeps them apart)."""
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def verify_login(user: User | None, password: str) -> bool:
    """Whether the password is the user's (enabled or not: the caller tells a disabled account apart); as slow for
    an unknown name (``user`` None) as for a real one, so the time taken tells nothing."""
    if user is None:
        password_hasher.verify(password, _DUMMY_HASH)
        return False
    valid, rehashed = password_hasher.verify_and_update(password, user.password_hash)
    if valid and rehashed is not None and not user.disabled:
        # hashed with older argon2 parameters: the caller's commit stores it with today's
        user.password_hash = rehashed
    return valid


class WrongPassword(Unprocessable):
    """The current password given for a change is not the account's."""


def change_own_password(session: Session, user: User, current: str, new: str) -> Revoked:
    """Set a new password given the current one; every session and API token of the user ends.

    The new password is checked first: a refusal of it must not count as a wrong guess of the current one."""
    _check_password(new, user.username)
    if not password_hasher.verify(current, user.password_hash):
        raise WrongPassword("The current password is wrong.")
    if user.password_change_required and new == current:
        # Checked after the current one, so that this answer does not confirm a guess.
        raise Unprocessable("Choose a password of your own: the new one must differ from the one an administrator "
                            "set.")
    set_password(user, new)
    user.password_change_required = False
    return revoke_credentials(session, user.id, actor_id=user.id)


def reset_user_password(session: Session, admin: User, user_id: int, new: str) -> tuple[User, Revoked]:
    """An admin sets another user's password; every session and API token of that user ends."""
    user = get_user(session, user_id)
    if user.id == admin.id:
        # Otherwise a stolen admin session could take over the account without knowing its password.
        raise Unprocessable(
            "You cannot reset your own password here; change it on your Account page (POST /api/me/password), "
            "which asks for your current password."
        )
    set_password(user, new)
    user.password_change_required = True
    return user, revoke_credentials(session, user.id, actor_id=admin.id)


def set_password(user: User, new: str) -> None:
    _check_password(new, user.username)
    user.password_hash = password_hasher.hash(new)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users(session: Session) -> list[User]:
    # as people read names: "Lock1" between "clin" and "mixed", not before every lower-case one
    return list(session.scalars(select(User).order_by(func.lower(User.username))))


def _role_values(roles: Iterable[str]) -> list[str]:
    values = sorted({Role(role).value for role in roles})
    if not values:
        raise Unprocessable("A user needs at least one role.")
    return values


def set_roles(user: User, roles: Iterable[str]) -> tuple[list[str], list[str]]:
    """Replace a user's roles; returns (before, after)."""
    after = _role_values(roles)
    before = list(user.roles)
    user.roles = after
    return before, after


@dataclass
class UserChanges:
    user: User
    roles: tuple[list[str], list[str]] | None = None  # (before, after), when they changed
    disabled: bool | None = None  # the new state, when it changed
    tokens_revoked: int = 0  # API tokens revoked by disabling the user


def update_user(
    session: Session, admin: User, user_id: int, *, roles: list[str] | None = None, disabled: bool | None = None
) -> UserChanges:
    """Change a user's roles and/or disabled state, never leaving the service without an enabled admin.
    Disabling a user ends their browser sessions and revokes their API tokens: an account is disabled when its
    owner leaves or it is compromised, and enabling it again must not bring back a token nobody still holds."""
    user = get_user(session, user_id)
    new_roles = _role_values(roles) if roles is not None else None
    removes_admin = disabled is True or (new_roles is not None and Role.admin.value not in new_roles)
    if user.id == admin.id and removes_admin:
        raise Unprocessable("You cannot disable yourself or remove your own admin role.")
    if removes_admin and _enabled_admin_ids(session, lock_from=user) == {user.id}:
        action = "Disabling" if disabled else "Removing the admin role of"
        raise Unprocessable(
            f"{action} {user.username} would leave no enabled admin; make another user an admin first."
        )
    changes = UserChanges(user=user)
    if new_roles is not None:
        before, after = set_roles(user, new_roles)
        if before != after:
            changes.roles = (before, after)
        if Role.clinician.value in before and Role.clinician.value not in after:
            # they can no longer read (their release would be refused), so their claims must not hold cases
            release_claims_of(session, user.id, admin.id, reason="reading role removed")
    if disabled is not None and disabled != user.disabled:
        user.disabled = disabled
        if disabled:
            changes.tokens_revoked = revoke_credentials(session, user.id, actor_id=admin.id).tokens
        changes.disabled = disabled
    return changes


def _enabled_admin_ids(session: Session, lock_from: User) -> set[int]:
    """The enabled admins' ids, their rows locked until the transaction ends, so that two admins demoting or
    disabling each other at the same moment are serialised: the second sees the first one's change.

    PostgreSQL: FOR NO KEY UPDATE, in id order (no deadlock), which waits for a concurrent change to these rows
    and then re-reads them; unlike FOR UPDATE it does not block the inserts that merely reference a user (audit
    rows, sessions). SQLite has no row locks and pysqlite starts a transaction only at the first write, so a
    no-op write to the target's row first takes SQLite's single writer lock, making the read below current.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(User).where(User.id == lock_from.id).values(disabled=User.disabled),
            execution_options={"synchronize_session": False},
        )
    # Roles are a JSON list; the LIKE only narrows which rows are locked, has_role decides.
    candidates = session.scalars(
        select(User)
        .where(User.disabled.is_(False), cast(User.roles, String).like(f'%"{Role.admin.value}"%'))
        .order_by(User.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    return {user.id for user in candidates if user.has_role(Role.admin) and not user.disabled}
