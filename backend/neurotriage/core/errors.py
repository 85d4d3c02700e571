"""Domain errors that routers turn into HTTP responses with a readable ``detail``."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    # Fields the response carries beside ``detail``, for the app to act on (e.g. the series to choose from).
    extra: dict[str, object] = {}

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404


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


class InsufficientStorage(DomainError):
    """The server's disk is full: not the upload's fault, and retrying later may work."""

    status_code = 507
