"""Per-request costs outside the database, in microseconds: an in-process micro-benchmark.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.overhead [--requests 300] [--loops 2000] [--redis URL]

Run by hand, never by the test suite. It creates a throwaway database on the server of
BENCH_DATABASE_URL or TEST_DATABASE_URL (dropped at the end; the role needs CREATEDB), applies
the migrations, seeds one account with 20 customers through the API, and measures through
Flask's test client (no HTTP server, no network):

1. whole requests: GET /v1/customers/{id}, POST /api/v1/partner/contacts, PUT
   /v1/customers/batch with 10 items, as the service ran before and as it runs now;
2. JSON encoding of those requests' responses: Flask's stdlib provider vs app.json_provider;
3. the before/after-request hooks (request id, authentication, rate limiting, HTTP rules):
   authentication with and without the key cache, and the rate limiter off, with memory://
   fixed-window, moving-window and sliding-window-counter, and with Redis (--redis, default
   redis://127.0.0.1:6379/0; skipped with a message when it does not answer);
4. marshmallow: how often each request loads and dumps, and what one load/dump costs.

The figures are medians of per-request timings (time.perf_counter_ns). On a shared two-core
machine they move by +-30% from run to run: compare the rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import secrets
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import limits.storage
import limits.strategies
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from flask import Flask
from flask.json.provider import DefaultJSONProvider

import marshmallow as ma

from app import create_app, db, migrations
from app import limits as app_limits
from app.api import parsing
from app.json_provider import OrjsonProvider
from app.rate_counts import ProcessCounts
from app.services import accounts

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# High enough that no run is refused; the counters are still kept and checked.
HIGH_LIMITS = {
    "RATE_LIMIT_PARTNER_API": "1000000 per minute",
    "RATE_LIMIT_CUSTOMERS_API": "1000000 per minute",
}
STRATEGIES = ("fixed-window", "moving-window", "sliding-window-counter")
CUSTOMERS = 20


# --- database --------------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new database on ``server_url``, migrated as the suite's (tests/conftest.py) is."""
    name = f"contacts_overhead_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(server_url, dbname=name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.upgrade(conn)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --- apps ------------------------------------------------------------------------------------


def use_strategy(app: Flask, strategy: str) -> None:
    """Count with ``strategy`` instead of the fixed window app.limits builds.

    Each strategy keeps other kinds of values under a key, so each gets its own prefix (in a
    shared Redis, a strategy meeting another's keys fails with WRONGTYPE)."""
    state = app.extensions[app_limits.EXTENSION]
    storage = state.strategy.storage
    if strategy != "fixed-window" and isinstance(storage, ProcessCounts):
        storage = limits.storage.MemoryStorage()  # the app's memory:// counts fixed windows only
    state.strategy = limits.strategies.STRATEGIES[strategy](storage)
    state.prefix = strategy


def make_app(
    url: str,
    *,
    cache_seconds: float = 5,
    strategy: str = "fixed-window",
    storage: str = "memory://",
    limiter: bool = True,
    orjson: bool = True,
) -> Flask:
    settings = {
        "DATABASE_URL": url,
        "API_KEY_CACHE_SECONDS": cache_seconds,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_ENABLED": limiter,
        "LOG_LEVEL": "WARNING",
        **HIGH_LIMITS,
    }
    app = create_app(settings)
    use_strategy(app, strategy)
    provider = OrjsonProvider(app) if orjson else DefaultJSONProvider(app)
    provider.sort_keys = False
    app.json = provider
    return app


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 0.5):
            return True
    except OSError:
        return False


# --- the requests ----------------------------------------------------------------------------


def customer_body(i: int) -> dict[str, Any]:
    return {
        "name": f"Person {i} Example",
        "email": f"person{i}@example.com",
        "userId": f"user_{i:06d}",
        "phone": f"+1415555{i:04d}",
        "company": "Example Inc.",
        "firstSeen": "1603885746",
        "lastSeen": "1713885746",
        "location": {"city": "Kyiv", "countryCode": "UA", "regionCode": "30"},
        "tags": [{"name": "vip", "color": "#ff0000"}, {"name": "lead"}],
        "customData": [
            {"property": "plan", "value": "pro"},
            {"property": "seats", "value": 12},
            {"property": "trial", "value": False},
        ],
        "notes": "Called back on Tuesday.",
    }


class Requests:
    """The three measured requests, with fresh bodies at every call."""

    def __init__(self, app: Flask, key: str, ids: list[int]) -> None:
        self.client = app.test_client()
        self.headers = {"x-api-key": key}
        self.ids = ids
        self.n = 0

    def get_customer(self) -> Any:
        self.n += 1
        return self.client.get(f"/v1/customers/{self.ids[self.n % len(self.ids)]}",
                               headers=self.headers)  # fmt: skip

    def partner_upsert(self) -> Any:
        self.n += 1
        # Every other request a new person, the others an existing one (scenario 1's mix).
        i = self.n if self.n % 2 else self.n - 1
        body = {"email": f"contact{i}@example.com", "name": f"Contact {i}",
                "external_id": f"ext_{i}"}  # fmt: skip
        return self.client.post("/api/v1/partner/contacts", json=body, headers=self.headers)

    def batch(self) -> Any:
        self.n += 1
        items = [
            {"customer": self.ids[(self.n + j) % len(self.ids)], "company": f"Co {self.n}",
             "notes": f"batch {self.n}", "tags": [{"name": "vip"}],
             "customData": [{"property": "plan", "value": "team"},
                            {"property": "seats", "value": self.n % 50}]}
            for j in range(10)
        ]  # fmt: skip
        return self.client.put("/v1/customers/batch", json=items, headers=self.headers)

    def all(self) -> dict[str, Callable[[], Any]]:
        return {
            "GET /v1/customers/{id}": self.get_customer,
            "POST /api/v1/partner/contacts": self.partner_upsert,
            "PUT /v1/customers/batch (10)": self.batch,
        }


def seed(app: Flask) -> tuple[str, list[int]]:
    with app.app_context():
        name = f"bench-{secrets.token_hex(3)}"
        _, key = db.run_in_transaction(lambda c: accounts.create_account(c, name))
    client = app.test_client()
    ids = []
    for i in range(CUSTOMERS):
        response = client.post("/v1/customers", json=customer_body(i), headers={"x-api-key": key})
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return key, ids


# --- timing ----------------------------------------------------------------------------------


def median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def time_calls(call: Callable[[], Any], count: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return median_us(samples)


def time_hooks(app: Flask, key: str, path: str, count: int) -> float:
    """``preprocess_request`` + ``process_response``: every before/after-request hook, no
    view, no body (the request context is built outside the timed part)."""

    def once() -> int:
        with app.test_request_context(path, headers={"x-api-key": key}):
            start = time.perf_counter_ns()
            assert app.preprocess_request() is None
            response = app.process_response(
                app.response_class(b"{}\n", mimetype="application/json")
            )
            elapsed = time.perf_counter_ns() - start
            assert response.status_code == 200
        return elapsed

    for _ in range(20):
        once()
    return median_us([once() for _ in range(count)])


def table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        cells = [f"{c:,.0f}" if isinstance(c, float) else str(c) for c in row]
        print("| " + " | ".join(cells) + " |")


# --- sections --------------------------------------------------------------------------------


def whole_requests(url: str, key: str, ids: list[int], count: int) -> None:
    """Both apps on one database, their requests alternating, so growth and noise hit both."""
    before = make_app(url, cache_seconds=0, orjson=False)
    after = make_app(url)
    rows = []
    old_requests, new_requests = Requests(before, key, ids).all(), Requests(after, key, ids).all()
    for name in old_requests:
        samples: dict[str, list[int]] = {"old": [], "new": []}
        for i in range(count + 20):
            for which, call in (("old", old_requests[name]), ("new", new_requests[name])):
                start = time.perf_counter_ns()
                call()
                if i >= 20:  # warm-up
                    samples[which].append(time.perf_counter_ns() - start)
        old, new = median_us(samples["old"]), median_us(samples["new"])
        rows.append((name, old, new, f"{old - new:,.0f}"))
    for app in (before, after):
        app.extensions["db"].close()
    table(
        f"Whole requests, us (median of {count}, alternating; includes the database)",
        ("request", "before: stdlib json, no key cache", "now: orjson, key cache", "saved"),
        rows,
    )


def json_encoding(url: str, key: str, ids: list[int], count: int) -> None:
    app = make_app(url)
    bodies = {name: call().get_json() for name, call in Requests(app, key, ids).all().items()}
    stdlib, fast = DefaultJSONProvider(app), OrjsonProvider(app)
    stdlib.sort_keys = fast.sort_keys = False
    rows = []
    with app.app_context():
        for name, body in bodies.items():
            old_bytes, new_bytes = stdlib.response(body).data, fast.response(body).data
            assert old_bytes == new_bytes, name  # the same bytes, only faster
            old = time_calls(functools.partial(stdlib.response, body), count)
            new = time_calls(functools.partial(fast.response, body), count)
            rows.append((name, len(old_bytes), old, new, f"{old / new:.1f}x"))
    app.extensions["db"].close()
    table(
        f"JSON encoding of the response (provider.response), us (median of {count})",
        ("response of", "bytes", "stdlib json", "orjson", "speed-up"),
        rows,
    )


def hooks(url: str, key: str, count: int, redis_url: str | None) -> None:
    path = "/v1/customers/1"
    variants: list[tuple[str, dict[str, Any]]] = [
        ("no key cache, no limiter", {"cache_seconds": 0, "limiter": False}),
        ("key cache, no limiter", {"limiter": False}),
        ("no key cache, memory fixed-window (before)", {"cache_seconds": 0}),
    ]
    variants += [(f"key cache, memory {s}", {"strategy": s}) for s in STRATEGIES]
    if redis_url:
        variants += [
            (f"key cache, redis {s}", {"strategy": s, "storage": redis_url}) for s in STRATEGIES
        ]
    rows = []
    baseline = None
    for name, options in variants:
        app = make_app(url, **options)
        figure = time_hooks(app, key, path, count)
        app.extensions["db"].close()
        if baseline is None:
            baseline = figure
        rows.append((name, figure))
    table(
        f"Before/after-request hooks of GET {path}, us (median of {count})",
        ("hooks", "us"),
        rows,
    )


def body_parsing(count: int) -> None:
    """decode_json's share: the parse, and the walk for unstorable strings it skips when the
    body has no ``\\u`` escape."""
    bodies = {
        "POST /api/v1/partner/contacts": {"email": "contact1@example.com", "name": "Contact 1",
                                          "external_id": "ext_1"},
        "PUT /v1/customers/batch (10)": [
            {**customer_body(j), "customer": j + 1} for j in range(10)
        ],
    }  # fmt: skip
    rows = []
    for name, body in bodies.items():
        raw = json.dumps(body).encode()
        value = json.loads(raw)
        rows.append(
            (
                name,
                len(raw),
                time_calls(functools.partial(json.loads, raw), count),
                time_calls(lambda value=value: list(parsing.unstorable_strings(value)), count),
                time_calls(functools.partial(parsing.decode_json, raw, "application/json"), count),
            )
        )
    table(
        f"Request body parsing (app.api.parsing.decode_json), us (median of {count})",
        ("body of", "bytes", "json.loads", "walk for NUL/surrogates", "decode_json"),
        rows,
    )


def marshmallow_work(url: str, key: str, ids: list[int], count: int) -> None:
    """Count loads and dumps per request, and time the outermost ones on the request's data."""
    app = make_app(url)
    outermost: list[tuple[str, Any, Any, dict]] = []
    nested = {"load": 0, "dump": 0}
    depth = [0]
    originals = {"load": ma.Schema.load, "dump": ma.Schema.dump}

    def counting(kind: str) -> Callable[..., Any]:
        def method(self, data, *args, **kwargs):  # type: ignore[no-untyped-def]
            if depth[0] == 0:
                outermost.append((kind, self, data, kwargs))
            else:
                nested[kind] += 1
            depth[0] += 1
            try:
                return originals[kind](self, data, *args, **kwargs)
            finally:
                depth[0] -= 1

        return method

    rows = []
    for name, call in Requests(app, key, ids).all().items():
        outermost.clear()
        nested.update(load=0, dump=0)
        ma.Schema.load, ma.Schema.dump = counting("load"), counting("dump")  # type: ignore
        try:
            call()
        finally:
            ma.Schema.load, ma.Schema.dump = originals["load"], originals["dump"]  # type: ignore
        spent = 0.0
        kinds = []
        with app.test_request_context():
            for kind, schema, data, kwargs in outermost:
                took = time_calls(functools.partial(getattr(schema, kind), data, **kwargs), count)
                spent += took
                many = " many" if kwargs.get("many", schema.many) else ""
                kinds.append(f"{kind} {type(schema).__name__}{many} {took:,.0f}")
        inner = f"{nested['load']} nested loads, {nested['dump']} nested dumps"
        whole = time_calls(call, max(count // 10, 50))
        rows.append((name, "; ".join(kinds), inner, spent, whole, f"{100 * spent / whole:.0f}%"))
    app.extensions["db"].close()
    table(
        f"marshmallow per request, us (median of {count})",
        (
            "request",
            "outermost schema calls, us each",
            "inside them",
            "marshmallow",
            "whole request",
            "share",
        ),
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="whole requests per figure")
    parser.add_argument("--loops", type=int, default=2000, help="calls per component figure")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", DEFAULT_SERVER
    )
    redis_url = args.redis if redis_reachable(args.redis) else None
    if redis_url is None:
        print(f"Redis at {args.redis} does not answer: its rows are skipped.")
    with throwaway_database(server) as url:
        seeding = make_app(url)
        key, ids = seed(seeding)
        seeding.extensions["db"].close()
        print(f"# Per-request overhead ({os.cpu_count()} cores; figures vary +-30% run to run)")
        json_encoding(url, key, ids, args.loops)
        hooks(url, key, args.loops, redis_url)
        body_parsing(args.loops)
        marshmallow_work(url, key, ids, args.loops)
        whole_requests(url, key, ids, args.requests)


if __name__ == "__main__":
    main()
