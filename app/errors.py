"""The one error envelope: every error response of the service is rendered here.

``{"errors": [{"code": "invalid_request", "message": "Invalid request"}, {...specific...}]}``
-- the first entry is always the generic one, as the mimicked API does.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

import flask_smorest
import marshmallow as ma

from app.exceptions import (  # noqa: F401 (re-exported: the HTTP layer's names)
    AlreadyExists,
    AppError,
    BadRequest,
    Conflict,
    InvalidJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    QueryAborted,
    RequestTimeout,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    flatten_messages,
)

log = logging.getLogger(__name__)

GENERIC = {"code": "invalid_request", "message": "Invalid request"}


_BY_STATUS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        NotFound,
        MethodNotAllowed,
        RequestTimeout,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        TooManyRequests,
        AppError,
        ServiceUnavailable,
    )
}


def render(error: AppError) -> Response:
    """The only place an error body is written."""
    response = jsonify({"errors": [GENERIC, *error.details]})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _generic(status: int, name: str) -> AppError:
    """An error of a status our hierarchy has no class for, coded after its name."""
    error = AppError(name)
    error.status = status
    error.details = [{"code": name.lower().replace(" ", "_"), "message": name}]
    return error


def envelope_other_answers(response: Response) -> Response:
    """Answers of 300 and more that bypassed the handlers (werkzeug's routing redirects are
    returned, not raised) get the envelope too; the HTML docs are left as they are."""
    if response.status_code < 300 or response.is_json or request.path.startswith("/docs"):
        return response
    try:
        name = HTTPStatus(response.status_code).phrase
    except ValueError:
        name = "Error"
    error = _generic(response.status_code, name)
    location = response.headers.get("Location")
    if location:
        error.details[0]["message"] = f"{name}: {location}"
        error.headers = {"Location": location}
    return render(error)


def from_http_exception(error: HTTPException) -> AppError:
    """Map werkzeug and webargs exceptions onto our hierarchy."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        app_error: AppError = ValidationFailed.from_messages(data["messages"])
    elif status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            # Flask has logged the traceback already; this line ties it to the request id.
            log.error("unhandled %s (request %s)", type(original).__name__, g.get("request_id"))
        app_error = _BY_STATUS.get(status, AppError)()
    elif status in _BY_STATUS:
        app_error = _BY_STATUS[status]()
    else:
        app_error = _generic(status, error.name)
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    app_error.headers = {**headers, **(data.get("headers") or {}), **app_error.headers}
    return app_error


class ErrorEntrySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "Stable machine code."})
    message = ma.fields.String(required=True, metadata={"description": "Human-readable text."})
    field = ma.fields.String(
        metadata={"description": "The field at fault, e.g. `email` or `[3].email`."}
    )


class ErrorEnvelopeSchema(ma.Schema):
    """Every error response: the generic entry first, then the specific ones."""

    errors = ma.fields.List(
        ma.fields.Nested(ErrorEntrySchema),
        required=True,
        metadata={
            "example": [
                GENERIC,
                {
                    "code": "invalid_field",
                    "message": "Not a valid email address.",
                    "field": "email",
                },
            ]
        },
    )


class Api(flask_smorest.Api):
    """flask-smorest's Api with our envelope for both the handlers and the spec."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        return render(from_http_exception(error))

    def _register_responses(self) -> None:
        """flask-smorest's error responses, plus the headers our 429 and 503 always carry."""
        super()._register_responses()
        for name in ("TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"):
            self.spec.components.responses_lazy[name]["headers"] = {  # a fresh dict each: no
                "Retry-After": {  # YAML aliases in the written spec
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 0},
                }
            }

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        self._app.register_error_handler(AppError, render)
