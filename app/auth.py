"""API-key authentication: runs before rate limiting and validation, so a bad key is a 401."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, g, request
from werkzeug.datastructures import Headers

from app import db, errors, key_cache
from app.services import accounts

SECURITY_SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "BearerAuth": {"type": "http", "scheme": "bearer"},
}
# Either scheme is accepted on every API endpoint.
SECURITY = [{"ApiKeyHeader": []}, {"BearerAuth": []}]


def extract_key(headers: Headers) -> str | None:
    """The key from ``x-api-key``, else from ``Authorization: Bearer KEY``.

    ``Bearer <KEY>`` with literal angle brackets is accepted too: a published client of the
    mimicked API copies the documentation's placeholder that way.
    """
    key = headers.get("x-api-key", "").strip()
    if not key:
        scheme, _, credentials = headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = credentials.strip()
        if key.startswith("<") and key.endswith(">"):
            key = key[1:-1].strip()
    return key or None


def authenticate() -> None:
    """Put the caller's account on ``g``, or answer 401."""
    key = extract_key(request.headers)
    account = None
    if key:
        # Accepted keys are remembered API_KEY_CACHE_SECONDS per process (app/key_cache.py).
        account = key_cache.current().get_or_load(
            accounts.hash_key(key),
            accounts.shown_prefix(key),
            lambda: db.fetch(lambda conn: accounts.authenticate(conn, key)),
        )
    if account is None:
        raise errors.Unauthorized()
    g.account = account


def init_app(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Authenticate every request routed to ``blueprints``, in an app-level hook.

    App-level because Flask runs app hooks before blueprint hooks, and the rate limiter checks
    in an app hook registered after this one: a bad key is a 401 that spends no budget.
    """
    # Accepted keys are kept API_KEY_CACHE_SECONDS in this app's cache (0: none).
    key_cache.init_app(app)
    names = frozenset(blueprint.name for blueprint in blueprints)

    def authenticate_api_request() -> None:
        if not names.isdisjoint(request.blueprints):
            authenticate()

    app.before_request(authenticate_api_request)
