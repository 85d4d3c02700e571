"""Known devices: a browser where an account has signed in before keeps its own sign-in limit.

Without them, anyone who types a user's name with wrong passwords five times locks that user out for the
window, from every workstation: a cheap way to keep a clinician out of the worklist. After a successful sign-in
the browser gets a long-lived cookie with a proof per account, a keyed hash of the account's lower-case name, its
password hash and a random device id. A sign-in that brings a proof for the name typed is counted on a bucket of
its own (the same limit, per device), and not against the address either. Everyone else shares the account's and
the address's buckets as before. A stolen cookie grants no access, only a second, equally small, number of
guesses at that account; and a password change or reset (a new hash) voids every proof made before it, as it
ends every session.

The cookie names no one: the proofs cannot be read back without the server's key. It holds at most
``MAX_ACCOUNTS`` proofs (a shared workstation), the most recent first.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from neurotriage.config import Settings, pseudonym_key
from neurotriage.users.models import User

DEVICE_COOKIE = "nt_device"
# The browser sends it with every API request; only sign-in and the password change read it.
DEVICE_COOKIE_PATH = "/api"
DEVICE_COOKIE_LIFETIME = timedelta(days=180)
MAX_ACCOUNTS = 8

_ID_CHARS = 16  # a device id: 12 random bytes, URL-safe base64
_PROOF_CHARS = 32  # hex of a truncated HMAC-SHA256: 128 bits
_ENTRY = re.compile(rf"[A-Za-z0-9_-]{{{_ID_CHARS}}}[0-9a-f]{{{_PROOF_CHARS}}}")


def _secret(settings: Settings) -> bytes:
    # Derived from the pseudonym key like the throttle's, with its own label, so no value tells anything of another.
    return hmac.new(pseudonym_key(settings), b"neurotriage known device", hashlib.sha256).digest()


def _proof(settings: Settings, user: User, device_id: str) -> str:
    message = f"{user.username.lower()}\n{user.password_hash}\n{device_id}".encode()
    return hmac.new(_secret(settings), message, hashlib.sha256).hexdigest()[:_PROOF_CHARS]


def _entries(cookie: str | None) -> list[str]:
    """The well-formed entries of a cookie, in order; anything else in it is ignored (a cookie is client input)."""
    return [entry for entry in (cookie or "").split(".") if _ENTRY.fullmatch(entry)][:MAX_ACCOUNTS]


def recognised_device(settings: Settings, cookie: str | None, user: User | None) -> str | None:
    """The device id whose proof in ``cookie`` is for ``user`` under their current password, or None (also for a
    name that is no user's: it has no proof to bring)."""
    if user is None:
        return None
    for entry in _entries(cookie):
        device_id, proof = entry[:_ID_CHARS], entry[_ID_CHARS:]
        if hmac.compare_digest(proof, _proof(settings, user, device_id)):
            return device_id
    return None


def remember_device(settings: Settings, cookie: str | None, user: User) -> str:
    """The cookie's new value after ``user`` signed in: their proof first (kept, or made with a new device id),
    then the other accounts' proofs, the oldest dropped beyond ``MAX_ACCOUNTS``."""
    known = recognised_device(settings, cookie, user)
    device_id = known or secrets.token_urlsafe(12)
    own = device_id + _proof(settings, user, device_id)
    others = [entry for entry in _entries(cookie) if entry != own]
    return ".".join([own, *others][:MAX_ACCOUNTS])


def device_bucket_key(settings: Settings, username: str, device_id: str) -> str:
    """The throttle's key for this account on this device: a keyed hash like the account's own key."""
    return hmac.new(_secret(settings), f"bucket\n{username.lower()}\n{device_id}".encode(), hashlib.sha256).hexdigest()
