"""Rate limits: one counter per (account, API), shared by every endpoint of that API.

Each app gets its own ``Limiter`` (tests build many apps), so counts never leak between apps.
Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://`` is exact within one process only;
``redis://`` makes the limit hold across every worker and replica sharing that Redis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import limits
from flask_limiter import HeaderNames, Limiter

from flask import Blueprint, Flask, Response, g

# flask-limiter puts Retry-After on every limited response (200s too) and stretches an existing
# one (a 503's) to the end of the window. It writes it under this name instead, and only a 429
# gets it back as Retry-After.
_LIMITER_RETRY_AFTER = "X-Limiter-Retry-After"

# A Redis that stops answering must not hang requests: its errors are swallowed (and logged)
# only once a call fails, so connecting and reading are bounded.
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
REDIS_TIMEOUT_SECONDS = 1.0


def account_key() -> str:
    """The account's stable public id: all its keys and both auth headers share one count."""
    return str(g.account.public_id)


def setting_name(group: str) -> str:
    """``partner`` -> ``RATE_LIMIT_PARTNER_API``."""
    return f"RATE_LIMIT_{group.upper()}_API"


def _retry_after_on_429_only(response: Response) -> Response:
    retry_after = response.headers.pop(_LIMITER_RETRY_AFTER, None)
    if response.status_code == 429 and retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def init_app(app: Flask, groups: Mapping[str, Iterable[Blueprint]]) -> Limiter:
    """Build this app's limiter; every blueprint of a group shares the group's limit.

    Call it after ``auth.init_app``: the limiter checks in an app-level ``before_request``, and
    authentication must come first so that a bad key is a 401 that spends no budget. Decorating
    a blueprint records the limit in this limiter only, never on the (module-level) blueprint.
    """
    uri = app.config["RATELIMIT_STORAGE_URI"]
    options: dict[str, Any] = {}
    if uri.startswith(REDIS_SCHEMES):
        options = {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        }
    limiter = Limiter(
        account_key,
        storage_uri=uri,  # explicit: no "in-memory storage" warning, no shared default
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=True,
        header_name_mapping={HeaderNames.RETRY_AFTER: _LIMITER_RETRY_AFTER},
        swallow_errors=True,  # storage down: keep serving, log the error
    )
    # Registered before the limiter's hooks, so it runs after them (after_request runs reversed).
    app.after_request(_retry_after_on_429_only)
    limiter.init_app(app)
    for group, blueprints in groups.items():
        name = setting_name(group)
        value = app.config[name]
        try:
            limits.parse_many(value)
        except ValueError as exc:
            raise RuntimeError(f"{name}={value!r} is not a valid rate limit: {exc}") from exc
        shared = limiter.shared_limit(value, scope=group)
        for blueprint in blueprints:
            shared(blueprint)
    return limiter
