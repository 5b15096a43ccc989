"""HTTP rules every answer follows, whatever the route: ASCII-digit ids in paths, no query
parameter a route does not know, and headers that keep API answers out of caches and
content sniffing."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.routing import IntegerConverter

from app import errors

# Paths whose answers may be cached by browsers (the docs page and its static assets).
CACHEABLE_PREFIXES = ("/docs",)


class AsciiIntConverter(IntegerConverter):
    """``<int:...>`` with ASCII digits only: werkzeug's ``\\d+`` also matches ``８`` (and
    ``int()`` turns it into 8), so ``/v1/customers/%EF%BC%98`` acted on customer 8."""

    regex = r"[0-9]+"


def _accepts_query(view: object, method: str) -> bool:
    """Whether the view method declares query arguments (``Blueprint.arguments`` marks it)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        name = "get" if method == "head" else method
        view = getattr(view_class, name, None)
    return bool(getattr(view, "accepts_query", False))


def refuse_unknown_query(blueprints: Iterable[Blueprint]) -> object:
    names = frozenset(blueprint.name for blueprint in blueprints)

    def check() -> None:
        """A route without query arguments answers 422 to any; routes with a query schema
        refuse unknown keys through that schema (``?emial=x`` is a typo, not a filter)."""
        if not request.args or names.isdisjoint(request.blueprints):
            return
        view = current_app.view_functions.get(request.endpoint or "")
        if not _accepts_query(view, request.method.lower()):
            raise errors.ValidationFailed(
                details=[
                    {"code": "invalid_field", "message": "Unknown query parameter.", "field": k}
                    for k in dict.fromkeys(request.args)
                ]
            )

    return check


def security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if not request.path.startswith(CACHEABLE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Register the converter (before any route) and the hooks; ``blueprints`` are the
    authenticated APIs, checked after authentication and rate limiting."""
    app.url_map.converters["int"] = AsciiIntConverter
    app.before_request(refuse_unknown_query(blueprints))
    app.after_request(security_headers)
    app.after_request(errors.envelope_other_answers)
