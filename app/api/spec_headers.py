"""Declares in the spec what flask-smorest cannot say by itself: the headers every answer
carries (``X-Request-Id`` on every response, and as an optional request header; the rate-limit
headers on every answer of the rate-limited APIs), and the item bounds of array bodies the
schemas check (the batch's 1..10). A generated client then knows them like anything else."""

from __future__ import annotations

from typing import Any

import flask_smorest
from apispec import APISpec, BasePlugin

from app import request_id
from app.api.schemas.customers import MAX_BATCH

REQUEST_ID = request_id.HEADER
RATE_LIMIT = {
    "X-RateLimit-Limit": "Requests the account may send in the current window.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "When the current window ends (Unix time, seconds).",
}
# The shared error responses every operation may refer to (app/errors.py registers them).
ERROR_RESPONSES = ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


# Array request bodies and the item counts their schemas accept, by endpoint.
ARRAY_BOUNDS = {"customers.CustomersBatch": (1, MAX_BATCH)}


class SpecPlugin(BasePlugin):
    def __init__(self, limited_blueprints: frozenset[str]) -> None:
        self.limited = limited_blueprints

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.header(
            REQUEST_ID,
            {
                "description": "This request's id: the gateway's, when it sent a well-formed "
                "one, else a new one. It is on every log line of the request.",
                "schema": {"type": "string", "pattern": request_id.PATTERN},
            },
        )
        for name, description in RATE_LIMIT.items():
            spec.components.header(
                name, {"description": description, "schema": {"type": "integer", "minimum": 0}}
            )
        spec.components.parameter(
            "RequestIdHeader",
            "header",
            {
                "name": REQUEST_ID,
                "required": False,
                "description": "Your own id for this request (1..128 of `A-Za-z0-9._:-`); "
                "answered back and logged. Anything else is replaced by a new id.",
                "schema": {"type": "string", "pattern": request_id.PATTERN},
            },
        )

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        limited = rule is not None and rule.endpoint.partition(".")[0] in self.limited
        bounds = ARRAY_BOUNDS.get(rule.endpoint) if rule is not None else None
        for operation in (operations or {}).values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if bounds is not None and body is not None and body["schema"].get("type") == "array":
                body["schema"]["minItems"], body["schema"]["maxItems"] = bounds
            operation.setdefault("parameters", []).append("RequestIdHeader")
            for response in operation.get("responses", {}).values():
                if isinstance(response, dict):  # an inline response (refs get theirs below)
                    headers = response.setdefault("headers", {})
                    headers[REQUEST_ID] = _ref(REQUEST_ID)
                    if limited:
                        headers.update((name, _ref(name)) for name in RATE_LIMIT)


def init_app(api: flask_smorest.Api, limited_blueprints: frozenset[str]) -> None:
    """Before the blueprints register: the plugin must see every operation."""
    plugin = SpecPlugin(limited_blueprints)
    api.spec.plugins.append(plugin)
    plugin.init_spec(api.spec)
    # The shared responses (errors) carry X-Request-Id too, and the rate-limit headers: every
    # one of them can come from a rate-limited operation.
    for name, response in api.spec.components.responses_lazy.items():
        headers = response.setdefault("headers", {})
        headers[REQUEST_ID] = _ref(REQUEST_ID)
        if name not in ("UNAUTHORIZED",):  # a bad key is refused before any limit is counted
            headers.update((h, _ref(h)) for h in RATE_LIMIT)
