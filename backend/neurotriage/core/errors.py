"""Domain errors that routers turn into HTTP responses with a readable ``detail``, and the body of a 422 for
request input that fails validation."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class DomainError(Exception):
    status_code = 400
    # Fields the response carries beside ``detail``, for the app to act on (e.g. the series to choose from).
    extra: dict[str, object] = {}

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404


def no_case(case_id: int) -> NotFound:
    """The one answer for a case id that names no case; a reader with the case open learns why it went."""
    return NotFound(f"No case {case_id}: it does not exist, or it was deleted.")


class Conflict(DomainError):
    status_code = 409


class Unprocessable(DomainError):
    status_code = 422


class UnsupportedMediaType(DomainError):
    status_code = 415


class PayloadTooLarge(DomainError):
    status_code = 413


class ServiceUnavailable(DomainError):
    status_code = 503


class MissingFromStorage(DomainError):
    """A file the database names is not in storage (a lost disk, a backup restored in part): the server's fault."""

    status_code = 500


class InsufficientStorage(DomainError):
    """The server's disk is full: not the upload's fault, and retrying later may work."""

    status_code = 507


def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 list (type, loc, msg) without the ``input`` and ``ctx`` it echoes by default: the input may
    be NaN (which JSON cannot carry, so the 422 became a 500), a password or megabytes of text, and the sender
    has it already; ``msg`` says what was wrong and ``loc`` names the field."""
    detail = [{"type": error["type"], "loc": list(error["loc"]), "msg": error["msg"]} for error in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)
