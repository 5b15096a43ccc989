"""``Idempotency-Key`` on every write of the authenticated APIs: the HTTP side.

A ``before_request`` hook (after authentication, rate limiting and the query check) reads the
body, fingerprints the request and claims the key in a short transaction of its own; it then
lets the view run, replays the stored answer, or refuses (409/422). An ``after_request`` hook
stores the answer, or releases the key when the answer is not one to replay. No connection is
held while the body is read, the view runs or the response is written. The rules themselves
live in ``app.services.idempotency``; an apispec plugin declares the header on every write.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

import flask_smorest
from apispec import APISpec, BasePlugin

from app import body
from app.api import context as api_context
from app.services import context, idempotency

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Headers of the first answer that a replay repeats; the others (X-Request-Id, rate limits,
# Cache-Control) belong to the retry and are set on it by their own hooks.
REPLAYED_HEADERS = ("Content-Type", "Location")
# 409 codes that ask the client to send the same request again: never stored.
RETRY_CODES = frozenset({"conflict", "idempotency_key_in_use"})
# Spec component names.
PARAMETER = "IdempotencyKey"


def init_app(app: Flask, api: flask_smorest.Api, blueprints: Iterable[Blueprint]) -> None:
    """Register the hooks for ``blueprints`` (the authenticated APIs) and the spec plugin.

    Call it after ``auth``, ``limits`` and ``http``: their ``before_request`` hooks run first
    (a bad key is a 401, a 429 spends no claim), and this ``after_request`` runs before theirs,
    on the answer as the view or the error handler made it. Before blueprints register, so
    that the plugin sees every write operation.
    """
    names = frozenset(blueprint.name for blueprint in blueprints)
    app.extensions["idempotency"] = idempotency.Policy.from_config(app.config)
    plugin = SpecPlugin(names)
    api.spec.plugins.append(plugin)
    plugin.init_spec(api.spec)

    def claim_key() -> Response | None:
        if request.method not in WRITE_METHODS or names.isdisjoint(request.blueprints):
            return None
        raw = request.headers.get(HEADER)
        return None if raw is None else claim(idempotency.check_key(raw))

    app.before_request(claim_key)
    app.after_request(store_answer)


def claim(key: str) -> Response | None:
    """Claim ``key`` for this request (None: the view runs), or the stored answer's replay."""
    digest = idempotency.fingerprint(
        request.method, request.path, request.query_string, body.read(request)
    )
    policy = current_app.extensions["idempotency"]
    outcome = context.write(api_context.context(), idempotency.claim, key, digest, policy)
    if isinstance(outcome, idempotency.Answer):
        return replay(outcome)
    g.idempotency_claim = outcome
    return None


def replay(answer: idempotency.Answer) -> Response:
    """The first answer again, marked as a replay; the retry's own headers are added later."""
    response = current_app.response_class(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def store_answer(response: Response) -> Response:
    """Store the answer of a request that holds a claim, or release the key.

    The write has happened (or not) by now: a failure here is logged and the answer still
    goes out. The claim then stays until IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS, after which a
    retry takes it over.
    """
    claimed = g.pop("idempotency_claim", None)
    if claimed is None:
        return response
    ctx = api_context.context()
    try:
        if storable(response):
            headers = {n: response.headers[n] for n in REPLAYED_HEADERS if n in response.headers}
            answer = idempotency.Answer(response.status_code, headers, response.get_data())
            ids, contact_ids = described(response.get_json(silent=True))
            context.write(ctx, idempotency.store, claimed, answer, ids, contact_ids)
        else:
            context.write(ctx, idempotency.release, claimed)
    except Exception:
        log.exception("could not store the answer for an idempotency key (request %s)",
                      g.get("request_id"))  # fmt: skip
    return response


def storable(response: Response) -> bool:
    """Answers of the write itself are kept, successes and client errors alike; not a 5xx (the
    write may not have happened: a retry should act), a 408 or 429 (nothing ran), nor a 409
    that asks for the same request again (a race lost, a key in use)."""
    status = response.status_code
    if response.is_streamed or not 200 <= status < 500 or status in (408, 429):
        return False
    if status == 409:
        errors = (response.get_json(silent=True) or {}).get("errors") or []
        return not any(isinstance(e, dict) and e.get("code") in RETRY_CODES for e in errors)
    return True


def described(value: Any) -> tuple[set[int], set[uuid.UUID]]:
    """The profiles an answer describes, read from its JSON by the shapes of both APIs:
    customer objects (``id`` and ``mergedIds``; they carry ``contactId``), partner contacts
    (their UUID ``id``), events (``customer``), and the ids of the merge preview and other
    identity answers (``customer``, ``survivor``, ``merged``). Lists and pages are walked;
    free-form data inside customers and events (``customData``, ``data``) is not."""
    ids: set[int] = set()
    contact_ids: set[uuid.UUID] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if "contactId" in node:  # a customer object
            _add_ints(ids, node.get("id"), node.get("mergedIds"))
            return
        if isinstance(node.get("id"), str) and {"email", "created_at"} <= node.keys():
            contact_ids.update(_uuids(node["id"]))  # a partner contact
            return
        if {"name", "data", "customer", "createdAt"} <= node.keys():  # an event
            _add_ints(ids, node["customer"])
            return
        _add_ints(ids, node.get("customer"), node.get("survivor"), node.get("merged"))
        for item in node.values():
            if isinstance(item, dict | list):
                walk(item)

    walk(value)
    return ids, contact_ids


def _add_ints(into: set[int], *values: Any) -> None:
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, int) and not isinstance(item, bool):
                into.add(item)


def _uuids(text: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(text)]
    except ValueError:
        return []


class SpecPlugin(BasePlugin):
    """Declares the header (and the 409/422 it can cause) on every write operation of the
    authenticated blueprints, and ``Idempotent-Replayed`` on their success answers."""

    def __init__(self, blueprint_names: frozenset[str]) -> None:
        self.blueprint_names = blueprint_names

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.parameter(
            PARAMETER,
            "header",
            {
                "name": HEADER,
                "required": False,
                "description": (
                    "Makes a retry of this write return the first answer (status, body, "
                    "`Content-Type`, `Location`, with `Idempotent-Replayed: true`) instead of "
                    "acting twice, for `IDEMPOTENCY_TTL_HOURS` (24 by default) per account. "
                    "The same key with another request (method, path, query or body) is a 422 "
                    "`idempotency_key_reused`; a retry while the first is still being served "
                    "is a 409 `idempotency_key_in_use`. 5xx, 408, 429 and retryable 409 "
                    "answers are not kept."
                ),
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": idempotency.MAX_KEY_LENGTH,
                    "pattern": "^[ -~]+$",
                },
                "example": "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
            },
        )
        spec.components.header(
            REPLAYED,
            {
                "description": "`true` on an answer replayed for an `Idempotency-Key`.",
                "schema": {"type": "string", "enum": ["true"]},
            },
        )

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        if rule is None or rule.endpoint.partition(".")[0] not in self.blueprint_names:
            return
        for method, operation in (operations or {}).items():
            if method.upper() not in WRITE_METHODS:
                continue
            operation.setdefault("parameters", []).append(PARAMETER)
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            for status, name in (("409", "CONFLICT"), ("422", "UNPROCESSABLE_ENTITY")):
                if status not in documented:
                    responses[status] = name
            for status, response in responses.items():
                if str(status).startswith("2") and isinstance(response, dict):
                    response.setdefault("headers", {})[REPLAYED] = REPLAYED
