"""The service's exceptions: plain Python, raised by services and storage, rendered by
``app.errors`` (the HTTP layer) into the one envelope. Nothing here imports web code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class AppError(Exception):
    """Internal server error."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)
        entry = {"code": self.code, "message": self.message}
        if field is not None:
            entry["field"] = field
        self.details = details or [entry]
        self.headers = headers or {}


class BadRequest(AppError):
    """Bad request."""

    status, code = 400, "bad_request"


class InvalidJson(AppError):
    """The request body is not valid JSON."""

    status, code = 400, "invalid_json"


class Unauthorized(AppError):
    """Unauthorized"""

    status, code = 401, "unauthorized"


class NotFound(AppError):
    """Not found"""

    status, code = 404, "not_found"


class MethodNotAllowed(AppError):
    """Method not allowed."""

    status, code = 405, "method_not_allowed"


class RequestTimeout(AppError):
    """The request body did not arrive in time."""

    status, code = 408, "request_timeout"


class Conflict(AppError):
    """The request conflicts with the current state of the data."""

    status, code = 409, "conflict"


class AlreadyExists(Conflict):
    """It already exists."""

    code = "already_exists"


class UnmergeBlocked(Conflict):
    """A later merge must be undone first."""

    code = "unmerge_blocked"


class DistinctProfiles(Conflict):
    """The write would make two customers known to be two people one."""

    code = "distinct_profiles"


class PayloadTooLarge(AppError):
    """The request body is too large."""

    status, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    """The request body must be JSON."""

    status, code = 415, "unsupported_media_type"


class ValidationFailed(AppError):
    """Invalid field."""

    status, code = 422, "invalid_field"

    @classmethod
    def from_messages(cls, messages: Any) -> ValidationFailed:
        """Build one entry per bad field from marshmallow's nested message dict."""
        details = [
            {"code": cls.code, "message": message, **({"field": field} if field else {})}
            for field, message in flatten_messages(messages)
        ]
        return cls(details=details or None)


class TooManyRequests(AppError):
    """Too many requests"""

    status, code = 429, "too_many_requests"


class ServiceUnavailable(AppError):
    """The service is temporarily unavailable; retry later."""

    status, code = 503, "service_unavailable"


class QueryAborted(AppError):
    """The database stopped this request's query at a server limit."""

    status, code = 500, "query_aborted"


# webargs keys validation messages by location first: {"json": {...}}; drop that level.
_LOCATIONS = {"json", "query", "querystring", "view_args", "headers", "form", "files"}


def flatten_messages(messages: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(field_path, message)``: ``email``, ``[3].email``, ``location.city``."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in _LOCATIONS:
                path = ""
            elif key == "_schema":
                path = prefix
            elif isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            yield from flatten_messages(value, path)
    elif isinstance(messages, list | tuple):
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            yield prefix, " ".join(texts)
        for item in messages:
            if not isinstance(item, str):
                yield from flatten_messages(item, prefix)
    else:
        yield prefix, str(messages)


class IdempotencyKeyInUse(Conflict):
    """A request with this Idempotency-Key is still being served; retry later."""

    code = "idempotency_key_in_use"


class IdempotencyKeyReused(AppError):
    """This Idempotency-Key was used with another request (method, path, query or body)."""

    status, code = 422, "idempotency_key_reused"
