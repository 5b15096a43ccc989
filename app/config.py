"""Configuration: defaults, then environment variables, then the mapping a caller passes.

Every setting is listed once in ``SETTINGS`` with its type and default, so the README's
configuration table and the code cannot drift apart silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


# name -> (parser, default)
SETTINGS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "DATABASE_URL": (str, None),
    "DB_POOL_MIN_SIZE": (int, 1),
    "DB_POOL_MAX_SIZE": (int, 10),
    "DB_POOL_TIMEOUT": (float, 5.0),
    "DB_STATEMENT_TIMEOUT_MS": (int, 30_000),
    # A pooled connection is checked (one round trip) before use unless it came back to the
    # pool less than this many seconds ago; 0 checks every checkout.
    "DB_POOL_CHECK_AFTER_SECONDS": (float, 1.0),
    "DB_RETRY_ATTEMPTS": (int, 5),
    "MAX_BODY_BYTES": (int, 1024 * 1024),
    # Longest wait, in seconds, for the next bytes of a request body; then it is a 408.
    "BODY_READ_TIMEOUT_SECONDS": (float, 10.0),
    "RETRY_AFTER_SECONDS": (int, 5),
    # Seconds a process keeps an accepted API key in memory (app/key_cache.py): a key revoked
    # elsewhere (the CLI, another worker) keeps working in this process for at most this long;
    # revoked in this process it stops at once. 0 checks every request against the database.
    "API_KEY_CACHE_SECONDS": (float, 5.0),
    "EMBEDDED_PG_DIR": (str, None),
    "LOG_LEVEL": (str, "INFO"),
    # Rate limits per account and API, in flask-limiter's syntax ("120 per minute", "10/second").
    "RATE_LIMIT_CUSTOMERS_API": (str, "120 per minute"),
    "RATE_LIMIT_PARTNER_API": (str, "120 per minute"),
    # memory:// counts per process; redis://host:6379/0 shares counts across workers and replicas.
    "RATELIMIT_STORAGE_URI": (str, "memory://"),
    "DEFAULT_PHONE_REGION": (str.upper, "US"),
    "NAME_MATCH_THRESHOLD": (float, 80.0),
    "PHONE_SHARED_LIMIT": (int, 5),
    "PLACEHOLDERS_FILE": (str, None),
    # `infer`: a customData property used without a definition is defined on first use (by its
    # suffix, else by its first value's JSON type); `strict`: only by suffix, else a 422.
    "CUSTOM_ATTRIBUTES": (_one_of("infer", "strict"), "infer"),
    # Hours an answer to a write with an Idempotency-Key is replayed to retries (per account).
    "IDEMPOTENCY_TTL_HOURS": (float, 24.0),
    # Seconds after which a claim still running (its worker died) may be taken over by a retry.
    "IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS": (float, 60.0),
}


def defaults() -> dict[str, Any]:
    """Fixed Flask and flask-smorest settings plus the defaults of our own."""
    config: dict[str, Any] = {name: default for name, (_, default) in SETTINGS.items()}
    config.update(
        # Let unexpected exceptions reach our 500 handler even when TESTING is on.
        PROPAGATE_EXCEPTIONS=False,
        API_TITLE="Contact ingestion API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served by the app itself from the swagger-ui-bundle wheel: docs work offline.
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        # Swagger UI would otherwise send the spec's URL to validator.swagger.io.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
    )
    return config


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse the settings present in the environment; empty values count as unset."""
    environ = os.environ if environ is None else environ
    parsed: dict[str, Any] = {}
    for name, (parse, _) in SETTINGS.items():
        raw = environ.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            parsed[name] = parse(raw.strip())
        except ValueError as exc:
            raise RuntimeError(f"Environment variable {name}={raw!r} is not valid: {exc}") from exc
    return parsed


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, overlaid by the environment, overlaid by ``overrides`` (tests)."""
    config = defaults()
    config.update(from_environ())
    config.update(overrides or {})
    config["MAX_CONTENT_LENGTH"] = config["MAX_BODY_BYTES"]
    return config
