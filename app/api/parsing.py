"""Request parsing shared by every blueprint.

Published clients of the mimicked APIs send JSON with no Content-Type (or a wrong one), so a
body that parses as JSON is used whatever the header says. Strings PostgreSQL cannot store
(NUL, lone surrogates) are refused here, as 422s naming the field, before they reach SQL.
"""

from __future__ import annotations

import functools
import json
import math
import types
from collections.abc import Iterator
from typing import Any

from flask import Request

import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser

from app import body, errors

# Declared body types that are clearly not JSON: a body of such a type that fails to parse as
# JSON is a 415, not a 400.
NON_JSON_TYPES = ("application/x-www-form-urlencoded", "multipart/", "text/xml", "application/xml")


def _describe(exc: Exception) -> str:
    """A client-facing reason that names no Python internals."""
    if isinstance(exc, UnicodeDecodeError):
        return "The request body is not valid UTF-8."
    if isinstance(exc, RecursionError):
        return "The request body is nested too deeply."
    if isinstance(exc, json.JSONDecodeError):
        where = f"line {exc.lineno}, column {exc.colno}"
        return f"The request body is not valid JSON: {exc.msg} ({where})."
    return "The request body is not valid JSON."


def _finite(text: str) -> float:
    """``1e400`` would become infinity, which JSON cannot express and PostgreSQL refuses."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(body: bytes, mimetype: str) -> Any:
    """Parse ``body`` as strict JSON (UTF-8, no NaN/Infinity) or raise a 400/415/422."""
    try:
        text = body.decode("utf-8-sig")
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
        # NUL and lone surrogates can only come from \u escapes (json refuses raw control
        # characters in strings, UTF-8 decoding refuses encoded surrogates): without one, the
        # walk over every string (4x the parse on a 10-item batch) has nothing to find.
        problems = list(unstorable_strings(value)) if "\\u" in text else []
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if mimetype.startswith(NON_JSON_TYPES) or mimetype.endswith("+xml"):
            raise errors.UnsupportedMediaType() from exc
        raise errors.InvalidJson(_describe(exc)) from exc
    if problems:
        raise errors.ValidationFailed(
            details=[
                {"code": "invalid_field", "message": message, **({"field": path} if path else {})}
                for path, message in problems
            ]
        )
    return value


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "Must not contain NUL characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode (no lone surrogates)."
    return None


def unstorable_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(path, message)`` for every string (key or value) PostgreSQL cannot store."""
    if isinstance(value, str):
        message = _unstorable(value)
        if message:
            yield path, message
    elif isinstance(value, dict):
        for key, item in value.items():
            message = _unstorable(key)
            if message:
                yield path, f"Key: {message}"
            else:
                yield from unstorable_strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_strings(item, f"{path}[{index}]")


class Parser(FlaskParser):
    """webargs' Flask parser, with JSON detection that ignores Content-Type."""

    DEFAULT_VALIDATION_STATUS = 422
    # Unknown query parameters are refused by the schemas (BaseSchema raises), like unknown
    # body keys: `?emial=x` must not silently return the whole account.
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def _raw_load_json(self, req: Request) -> Any:
        raw = body.read(req)  # 413 above MAX_BODY_BYTES chunked or not, 408 on a stalled client
        if not raw.strip():
            return core.missing
        return decode_json(raw, req.mimetype or "")

    def load_querystring(self, req: Request, schema: Any) -> Any:
        problems = [
            (name, message)
            for name, value in req.args.items(multi=True)
            for _, message in unstorable_strings(value, name)
        ]
        if problems:
            raise errors.ValidationFailed(
                details=[{"code": "invalid_field", "message": m, "field": f} for f, m in problems]
            )
        return super().load_querystring(req, schema)


class Blueprint(flask_smorest.Blueprint):
    """Every blueprint of the service parses requests with ``Parser``."""

    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        """flask-smorest's decorator; a view taking query arguments is marked, so that
        ``api.http`` refuses query parameters on every other view."""
        decorator = super().arguments(schema, location=location, **kwargs)
        if location not in ("query", "querystring"):
            return decorator

        def mark(func: Any) -> Any:
            wrapped = decorator(func)
            wrapped.accepts_query = True
            return wrapped

        return mark

    def alt_response(self, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's decorator, documenting only: its wrapper does nothing at run time
        but call the view, and a write route carries a dozen of them (one per documented
        status). It returns a copy of the view (the same code, no extra call) carrying the
        documentation, so that, as with flask-smorest's wrapper, the function decorated is
        left as it was."""
        decorator = super().alt_response(*args, **kwargs)

        def document(func: Any) -> Any:
            copy = types.FunctionType(
                func.__code__, func.__globals__, func.__name__, func.__defaults__,
                func.__closure__,
            )  # fmt: skip
            copy.__kwdefaults__ = func.__kwdefaults__
            functools.update_wrapper(copy, func)
            copy._apidoc = decorator(copy)._apidoc
            return copy

        return document
