"""Documenting error responses: every status a route can answer, with the error envelope."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import flask_smorest

# Statuses any authenticated route can answer.
AUTHENTICATED = (401, 405, 429, 500, 503)
# Statuses any route taking a JSON body can answer in addition.
WITH_BODY = (400, 413, 415, 422)


def error_responses(blp: flask_smorest.Blueprint, *statuses: int) -> Callable[[Any], Any]:
    """Add ``alt_response`` entries pointing at the registered error responses."""

    def decorator(func: Any) -> Any:
        for status in sorted(set(statuses)):
            func = blp.alt_response(status, response=HTTPStatus(status).name)(func)
        return func

    return decorator
