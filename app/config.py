"""Configuration: defaults, then environment variables, then the mapping a caller passes.

Every setting is listed once in ``SETTINGS`` with its type and default, so the README's
configuration table and the code cannot drift apart silently.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Passwords in URLs (user:password@) and libpq strings (password=...) are never printed.
_SECRETS = re.compile(r"(?<=://)([^/@:]*):[^/@]*@|(?<=password=)\S+", re.IGNORECASE)


def shown(raw: str) -> str:
    """``raw`` with any password in it replaced by ``***``."""
    return _SECRETS.sub(lambda m: f"{m[1]}:***@" if m[1] is not None else "***", raw)


class ConfigError(SystemExit):
    """A malformed setting: the process stops with this one line, never a traceback and never
    a late failure on the first request (uncaught, Python prints it to stderr, exit status 1).
    A password in the value is not printed.
    """

    def __init__(self, name: str, raw: str, expected: str) -> None:
        super().__init__(f"Environment variable {name}={shown(raw)!r} is not valid: {expected}")
        self.name = name

    def __str__(self) -> str:
        return str(self.code)


Parser = Callable[[str], Any]


def _one_of(*choices: str) -> Parser:
    def parse(raw: str) -> str:
        value = raw.lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


def _number(kind: type, least: float, most: float | None = None, *, above: bool = False) -> Parser:
    """A whole (``int``) or decimal (``float``) number within its bounds."""
    words = "a whole number" if kind is int else "a number"
    if most is not None:
        bound = f"from {least:g} to {most:g}"
    else:
        bound = f"above {least:g}" if above else f"{least:g} or more"

    def parse(raw: str) -> Any:
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"expected {words}, {bound}") from None
        if (
            not math.isfinite(value)
            or value < least
            or (above and value == least)
            or (most is not None and value > most)
        ):
            raise ValueError(f"expected {words}, {bound}")
        return value

    return parse


def _postgres_url(raw: str) -> str:
    """A libpq connection string or ``postgresql://`` URL that libpq can parse."""
    from psycopg import conninfo

    scheme = _SCHEME.match(raw)
    if scheme is not None and scheme[1].lower() not in ("postgresql", "postgres"):
        raise ValueError("expected a postgresql:// URL or a libpq connection string")
    try:
        params = conninfo.conninfo_to_dict(raw)
    except Exception as exc:  # psycopg.ProgrammingError: libpq's own words
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "unparsable"
        raise ValueError(f"not a PostgreSQL connection string ({detail})") from None
    for port in str(params.get("port", "")).split(","):
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"port {port!r} is not a port number")
    return raw


def _rate_limit(raw: str) -> str:
    from limits import parse_many

    try:
        if not parse_many(raw):
            raise ValueError
    except ValueError:
        raise ValueError("expected a rate limit such as '120 per minute' or '10/second'") from None
    return raw


# limits' storages whose client this project installs (redis): others fail at the first request.
STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")


def _storage_uri(raw: str) -> str:
    scheme = _SCHEME.match(raw)
    if scheme is None or scheme[1] not in STORAGE_SCHEMES:
        raise ValueError(
            "expected a storage URI such as memory:// or redis://host:6379/0 "
            f"({', '.join(STORAGE_SCHEMES)})"
        )
    return raw


def _region(raw: str) -> str:
    import phonenumbers

    region = raw.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            "expected a region code phone numbers are read in (ISO 3166 alpha-2, e.g. US)"
        )
    return region


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false (1/0, yes/no, on/off)")


def _file(raw: str) -> str:
    if not os.path.isfile(raw):
        raise ValueError("no such file")
    return raw


def _proxies(raw: str) -> str:
    from app import proxy

    proxy.parse(raw)
    return raw


# name -> (parser, default)
SETTINGS: dict[str, tuple[Parser, Any]] = {
    "DATABASE_URL": (_postgres_url, None),
    "DB_POOL_MIN_SIZE": (_number(int, 0), 1),
    "DB_POOL_MAX_SIZE": (_number(int, 1), 10),
    "DB_POOL_TIMEOUT": (_number(float, 0, above=True), 5.0),
    "DB_STATEMENT_TIMEOUT_MS": (_number(int, 0), 30_000),
    # A pooled connection is checked (one round trip) before use unless it came back to the
    # pool less than this many seconds ago; 0 checks every checkout.
    "DB_POOL_CHECK_AFTER_SECONDS": (_number(float, 0), 1.0),
    "DB_RETRY_ATTEMPTS": (_number(int, 1, 100), 5),
    # Behind PgBouncer in transaction mode: no server-side prepared statements and no session
    # settings (the statement timeout is set per transaction instead).
    "PGBOUNCER_TRANSACTION_MODE": (_bool, False),
    "MAX_BODY_BYTES": (_number(int, 1), 1024 * 1024),
    # Longest wait, in seconds, for the next bytes of a request body; then it is a 408.
    "BODY_READ_TIMEOUT_SECONDS": (_number(float, 0, above=True), 10.0),
    "RETRY_AFTER_SECONDS": (_number(int, 0), 5),
    # Peers whose X-Forwarded-For/-Proto/-Host/-Port are believed (app/proxy.py; gunicorn reads
    # the same variable): addresses and networks, comma-separated, or `*`.
    "FORWARDED_ALLOW_IPS": (_proxies, "127.0.0.1,::1"),
    # Seconds a process keeps an accepted API key in memory (app/key_cache.py): a key revoked
    # elsewhere (the CLI, another worker) keeps working in this process for at most this long;
    # revoked in this process it stops at once. 0 checks every request against the database.
    "API_KEY_CACHE_SECONDS": (_number(float, 0), 5.0),
    "EMBEDDED_PG_DIR": (str, None),
    "LOG_LEVEL": (_log_level, "INFO"),
    # `json`: one JSON object a line (app/logs.py); `text`: a plain line for local work.
    "LOG_FORMAT": (_one_of("json", "text"), "json"),
    # Prometheus metrics at /metrics (app/metrics.py); keep the path private at the gateway.
    "METRICS_ENABLED": (_bool, True),
    # Rate limits per account and API, in the `limits` notation ("120 per minute", "10/second").
    "RATE_LIMIT_CUSTOMERS_API": (_rate_limit, "120 per minute"),
    "RATE_LIMIT_PARTNER_API": (_rate_limit, "120 per minute"),
    # memory:// counts per process; redis://host:6379/0 shares counts across workers and replicas.
    "RATELIMIT_STORAGE_URI": (_storage_uri, "memory://"),
    "DEFAULT_PHONE_REGION": (_region, "US"),
    "NAME_MATCH_THRESHOLD": (_number(float, 0, 100), 80.0),
    "PHONE_SHARED_LIMIT": (_number(int, 1), 5),
    "PLACEHOLDERS_FILE": (_file, None),
    # `infer`: a customData property used without a definition is defined on first use (by its
    # suffix, else by its first value's JSON type); `strict`: only by suffix, else a 422.
    "CUSTOM_ATTRIBUTES": (_one_of("infer", "strict"), "infer"),
    # Hours an answer to a write with an Idempotency-Key is replayed to retries (per account).
    "IDEMPOTENCY_TTL_HOURS": (_number(float, 0, above=True), 24.0),
    # Seconds after which a claim still running (its worker died) may be taken over by a retry.
    "IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS": (_number(float, 0, above=True), 60.0),
}


def port(environ: Mapping[str, str] | None = None) -> int:
    """``PORT`` of `make run`'s server, checked as the gunicorn settings file checks it."""
    raw = (os.environ if environ is None else environ).get("PORT", "").strip()
    if not raw:
        return 8000
    try:
        return _number(int, 1, 65535)(raw)
    except ValueError as exc:
        raise ConfigError("PORT", raw, str(exc)) from None


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
            raise ConfigError(name, raw, str(exc)) from None
    low, high = (parsed.get(n) for n in ("DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE"))
    if low is not None and low > (high if high is not None else SETTINGS["DB_POOL_MAX_SIZE"][1]):
        raise ConfigError(
            "DB_POOL_MIN_SIZE", environ["DB_POOL_MIN_SIZE"], "more than DB_POOL_MAX_SIZE"
        )
    return parsed


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, overlaid by the environment, overlaid by ``overrides`` (tests)."""
    config = defaults()
    config.update(from_environ())
    config.update(overrides or {})
    config["MAX_CONTENT_LENGTH"] = config["MAX_BODY_BYTES"]
    return config
