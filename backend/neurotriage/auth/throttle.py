"""The login throttle: a limited number of password checks per account and per client address in a window.

Counting the failures after the fact let concurrent guesses through: each request read the count before the
slow password check, so thirty guesses sent together all saw fewer than five failures. Instead every attempt
first writes a ``LoginAttempt`` row; the caller commits it and only then counts. Under PostgreSQL's read
committed isolation (and SQLite's single writer) the k-th attempt to commit sees at least k rows, so no more
than the limit of attempts go on to a password check, however many arrive together.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from neurotriage.auth.known_device import device_bucket_key
from neurotriage.auth.models import LoginAttempt
from neurotriage.config import Settings, pseudonym_key
from neurotriage.db import utcnow


def account_key(settings: Settings, username: str) -> str:
    """A keyed hash of the name typed, which may be a password typed into the wrong field.

    Unknown names are throttled like real ones (otherwise the throttle would tell which names exist), so
    something must stand for them; a keyed hash cannot be read back or guessed from a list of passwords. The
    key is derived from the pseudonym key, the one secret every deployment already has, with its own label so
    that neither value says anything about the other."""
    secret = hmac.new(pseudonym_key(settings), b"neurotriage login throttle", hashlib.sha256).digest()
    # lower-case: sign-in ignores capitals, so "Clin" and "clin" are guesses at the same account
    return hmac.new(secret, username.lower().encode(), hashlib.sha256).hexdigest()


def record_attempt(session: Session, *, key: str, client_ip: str | None, window: timedelta) -> LoginAttempt:
    """Add this attempt (the caller commits it before counting) and prune attempts older than the window."""
    stale = select(LoginAttempt.id).where(LoginAttempt.at < utcnow() - window)
    # SKIP LOCKED: concurrent logins would otherwise wait on, or deadlock over, the same old rows. (SQLite has
    # no row locks and renders nothing here; it runs one writer at a time.)
    session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(stale.with_for_update(skip_locked=True))))
    attempt = LoginAttempt(account_key=key, client_ip=client_ip)
    session.add(attempt)
    session.flush()
    return attempt


@dataclass(frozen=True)
class AttemptCounts:
    by_account: int
    by_address: int


def count_attempts(session: Session, attempt: LoginAttempt, window: timedelta) -> AttemptCounts:
    """The attempts in the window for this account and from this address, this one included."""
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= utcnow() - window)
    by_account = session.scalar(recent.where(LoginAttempt.account_key == attempt.account_key)) or 0
    by_address = session.scalar(recent.where(LoginAttempt.client_ip == attempt.client_ip)) if attempt.client_ip else 0
    return AttemptCounts(by_account=int(by_account), by_address=int(by_address or 0))


def is_throttled(counts: AttemptCounts, settings: Settings) -> bool:
    # Strictly more: the count includes this attempt, so the limit itself is still allowed a check.
    return (
        counts.by_account > settings.login_failures_per_account
        or counts.by_address > settings.login_failures_per_address
    )


@dataclass(frozen=True)
class Refused:
    """Over the limit: no password is checked. ``retry_after``: until the oldest failures that hold the limit
    leave the window (the window slides, so this is often less than the whole window)."""

    retry_after: timedelta


def begin_password_check(
    session: Session, settings: Settings, *, username: str, client_ip: str | None, device_id: str | None = None
) -> LoginAttempt | Refused:
    """Count a password check against ``username``'s account and the address before it is made.

    The attempt is committed before counting and before the slow check, so concurrent guesses see each other.
    Refused: over the limit, the check must not be made (the attempt is dropped again; the caller commits). Sign-in
    and a password change both check a password, so both count here: otherwise a stolen session or API token
    could guess the account's password on the change route without limit. ``device_id``: the browser proved an
    earlier sign-in of this account (``known_device``); its checks count on a bucket of their own, with the same
    limit, and not against the address, so that nobody else's failures can lock it out."""
    window = timedelta(minutes=settings.login_failure_window_minutes)
    if device_id is not None:
        key, client_ip = device_bucket_key(settings, username, device_id), None
    else:
        key = account_key(settings, username)
    attempt = record_attempt(session, key=key, client_ip=client_ip, window=window)
    session.commit()
    counts = count_attempts(session, attempt, window)
    if is_throttled(counts, settings):
        forget_attempt(session, attempt)
        waits = [timedelta(0)]
        if counts.by_account > settings.login_failures_per_account:
            waits.append(_until_below_limit(session, LoginAttempt.account_key == attempt.account_key,
                                            settings.login_failures_per_account, window))
        if attempt.client_ip and counts.by_address > settings.login_failures_per_address:
            waits.append(_until_below_limit(session, LoginAttempt.client_ip == attempt.client_ip,
                                            settings.login_failures_per_address, window))
        return Refused(retry_after=max(waits))
    return attempt


def _until_below_limit(session: Session, whose: ColumnElement[bool], limit: int, window: timedelta) -> timedelta:
    """How long until fewer than ``limit`` of these failures are in the window, so that one more check is allowed."""
    now = utcnow()
    failures = select(LoginAttempt.at).where(whose, LoginAttempt.at >= now - window).order_by(LoginAttempt.at)
    held = session.scalar(select(func.count()).select_from(failures.subquery())) or 0
    if held < limit:
        return timedelta(0)
    # the (held - limit + 1) oldest must leave the window; the last of them leaves at its time + window
    last_to_leave = session.scalar(failures.offset(held - limit).limit(1))
    return max(timedelta(0), last_to_leave + window - now) if last_to_leave else timedelta(0)


def forget_attempt(session: Session, attempt: LoginAttempt) -> None:
    """Drop an attempt that is not a failed password check: it succeeded, or it was refused unchecked (else
    an attacker who keeps trying would keep the account locked for ever)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
