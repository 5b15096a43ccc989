"""The application factory: reads like a table of contents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app import (
    api,
    auth,
    body,
    cli,
    config,
    db,
    errors,
    json_provider,
    limits,
    logs,
    proxy,
    request_id,
)
from app.api import http, idempotency, metrics, spec_headers
from app.flask_app import App


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; nothing here touches the database (the pool opens on first use)."""
    app = App("app", static_folder=None)
    app.json = json_provider.OrjsonProvider(app)  # orjson writes responses, same bytes as json
    # Defaults, then environment variables, then the caller's mapping (tests).
    app.config.from_mapping(config.load(test_config))
    app.json.sort_keys = False  # keep documented key order: code, message, field
    app.config["API_SPEC_OPTIONS"] = {"security": auth.SECURITY}
    # Logs on stderr (JSON unless LOG_FORMAT=text); its request line is written last of all.
    logs.init_app(app)
    # Prometheus counters per request and /metrics (unless METRICS_ENABLED is off).
    metrics.init_app(app)
    # A read timeout on every request's socket: a stalled upload ends in a 408.
    body.init_app(app)
    # X-Forwarded-For/-Proto/-Host believed only from FORWARDED_ALLOW_IPS (werkzeug's ProxyFix).
    proxy.init_app(app)
    # Request ids next, so every later hook and log line can use them.
    request_id.init_app(app)
    # The connection pool (opened lazily, per worker process).
    db.init_app(app)
    # Authentication, then rate limiting: both app-level before_request hooks, in this order,
    # so a bad key is a 401 that spends no budget, and validation comes after both.
    authenticated = [blp for group in api.API_GROUPS.values() for blp in group]
    auth.init_app(app, authenticated)
    limits.init_app(app, api.API_GROUPS)
    # ASCII-digit ids, unknown query parameters refused, no-store/nosniff, envelope for all.
    http.init_app(app, authenticated)
    # flask-smorest with our error envelope in both the handlers and the spec.
    smorest = errors.Api(app)
    # Idempotency-Key on every write: claimed after the hooks above, declared in the spec.
    idempotency.init_app(app, smorest, authenticated)
    # X-Request-Id and the rate-limit headers declared on every answer that carries them.
    spec_headers.init_app(smorest, frozenset(blp.name for blp in authenticated))
    # Blueprints after Api.init_app, as flask-smorest requires.
    api.register_blueprints(app, smorest)
    # `flask db upgrade`, `flask accounts create`, `flask keys ...`.
    cli.init_app(app)
    return app
