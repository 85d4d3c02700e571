"""Shared OpenAPI descriptions so every route documents the errors it can return."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: str


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not signed in, or the session has ended (then `reason` says why: ended, idle, lifetime or disabled)",
    403: "Signed in but not allowed (role or CSRF token)",
    404: "No such resource",
    409: "Conflicts with the current state (duplicate, stale version)",
    413: "Upload larger than the limit",
    415: "Unsupported file type",
    422: "Invalid input; the detail says what was wrong",
    429: "Too many attempts; wait and try again",
    500: "A file the case names is missing from the server's storage; the detail says which",
    503: "A service the request needs is unavailable",
    507: "The server's storage is full; nothing was stored",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
