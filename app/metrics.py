"""Prometheus metrics (prometheus-client), served at ``/metrics`` unless ``METRICS_ENABLED`` is off.

Under gunicorn each worker is a process of its own: the settings file points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the workers start, every worker writes its
values there, and whichever worker answers a scrape adds them all up (prometheus-client's
multiprocess mode). Without it (``make run``: one process) the process's own registry is served.

Counts of what the database did (merges, unmerges) are taken when the transaction commits, not
when its statements run: a transaction retried after a lost race, or a merge preview rolled
back, counts nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# In multiprocess mode each metric opens its file when it is defined (below): the folder must
# exist by then, in every process that imports this module (launchers and commands too).
if os.environ.get(MULTIPROC_DIR):
    os.makedirs(os.environ[MULTIPROC_DIR], exist_ok=True)

REQUESTS = Counter(
    "http_requests_total", "Requests answered, by route template and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "http_request_duration_seconds", "Time in the app, first hook to last, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)  # fmt: skip
RATE_LIMITED = Counter(
    "http_rate_limited_total", "Requests refused with 429 (rate limit), by route template.",
    ["route"],
)  # fmt: skip
MERGES = Counter("identity_merges_total", "Profiles merged into another, by rule.", ["rule"])
UNMERGES = Counter("identity_unmerges_total", "Merges undone.")
SWEEP = Counter(
    "identity_sweep_total", "Background sweep progress: accounts swept, profiles scanned, "
    "groups found, merges done.", ["what"],
)  # fmt: skip
POOL = Gauge(
    "db_pool_connections", "Connection pool: connections open, in use, and requests waiting "
    "for one (summed over live workers).", ["state"], multiprocess_mode="livesum",
)  # fmt: skip
DB_ERRORS = Counter(
    "db_errors_total", "Database failures answered as errors: unavailable (503), aborted "
    "queries (500), conflicts after the last retry (409).", ["kind"],
)  # fmt: skip
DB_RETRIES = Counter(
    "db_transaction_retries_total", "Transactions run again after a lost race, by cause.",
    ["cause"],
)  # fmt: skip

_pending: ContextVar[list[Callable[[], None]] | None] = ContextVar("metrics_pending", default=None)


def on_commit(count: Callable[[], None]) -> None:
    """Count ``count`` once the current transaction commits (at once outside one)."""
    pending = _pending.get()
    if pending is None:
        count()
    else:
        pending.append(count)


@contextmanager
def _held() -> Iterator[list[Callable[[], None]]]:
    """What the block counts, held back in a list of its own (the caller's list is restored)."""
    pending: list[Callable[[], None]] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


@contextmanager
def until_commit() -> Iterator[None]:
    """One attempt of a transaction: what it counts is counted only if the block succeeds."""
    with _held() as pending:
        yield
        for count in pending:
            count()


@contextmanager
def discarded() -> Iterator[None]:
    """Work that is rolled back on purpose (a merge preview): it counts nothing."""
    with _held():
        yield


def pool(stats: dict[str, int]) -> None:
    """The pool's current figures (psycopg_pool's ``get_stats``)."""
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    POOL.labels("open").set(size)
    POOL.labels("in_use").set(size - available)
    POOL.labels("waiting").set(stats.get("requests_waiting", 0))


def exposition(refresh: Callable[[], Any] | None = None) -> tuple[bytes, str]:
    """The scrape's body and content type: every worker's values in multiprocess mode."""
    if refresh is not None:
        refresh()
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


class Every:
    """True at most once per ``seconds`` (per process): for cheap periodic refreshes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = float("-inf")

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.seconds:
            return False
        self.last = now
        return True
