"""The connection pool, owned the way flaskr's ``db.py`` owns its connection.

The pool is built in ``init_app`` but opened lazily on first use, in the worker process, never
in a pre-forking master (psycopg pools do not survive ``fork``).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.numeric import Int8Dumper
from psycopg_pool import ConnectionPool

from flask import Flask, current_app, g

from app import exceptions, metrics
from app.db_errors import translate_db_errors
from app.transactions import pipelined_transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

# The checkout's `.data/`: `make run` and every `flask --app app` command share this cluster.
DEFAULT_EMBEDDED_DIR = Path(__file__).resolve().parent.parent / ".data"


class ConcurrentChange(Exception):
    """A row this transaction relied on was changed by another one: run it again."""


# Errors after which the whole transaction can be run again and may well succeed.
RETRYABLE = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,  # a second look that would have waited out of lock order
    pg_errors.UniqueViolation,
    ConcurrentChange,
)

# Unique constraints that racing writers can trip despite the identifier locks (a merge moving
# identifiers while another writer adds them): only these make the transaction run again.
RACE_CONSTRAINTS = frozenset({"profile_identifiers_unique_norm", "profile_identifiers_one_primary"})
# Any other unique violation is a conflict with existing data, told by constraint name.
CONFLICTS = {
    "accounts_name_key": "An account with this name already exists.",
    "tags_name_key": "A tag with this name already exists.",
    "profiles_contact_id_key": "A contact with this id already exists.",
}


def retryable(exc: Exception) -> bool:
    """Whether running the transaction again may succeed (see ``RETRYABLE``)."""
    if isinstance(exc, pg_errors.UniqueViolation):
        return exc.diag.constraint_name in RACE_CONSTRAINTS
    return True


def conflict(exc: Exception) -> exceptions.Conflict:
    """The 409 for a unique violation that no retry can resolve, named by its constraint."""
    name = getattr(getattr(exc, "diag", None), "constraint_name", None)
    log.warning("unique violation on %s", name)
    return exceptions.Conflict(CONFLICTS.get(name, "The request conflicts with existing data."))


class Database:
    """Per-app pool plus the knowledge of where the database is."""

    def __init__(self, app: Flask) -> None:
        self.config = app.config
        self._pool: ConnectionPool | None = None
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection, float] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        # The development database (no DATABASE_URL): it may keep migrating itself.
        self.embedded = not self.config.get("DATABASE_URL")
        # Behind PgBouncer in transaction mode each transaction may run on another server
        # connection: nothing may live in the session (no server-side prepared statements,
        # no session settings).
        self.bouncer = bool(self.config["PGBOUNCER_TRANSACTION_MODE"])

    def conninfo(self) -> str:
        """DATABASE_URL, or the embedded server under ``.data/`` started on demand."""
        url = self.config.get("DATABASE_URL")
        if url:
            return url
        url = start_embedded(self.config.get("EMBEDDED_PG_DIR"))
        self.config["DATABASE_URL"] = url
        return url

    @property
    def pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.conninfo(),
                    min_size=self.config["DB_POOL_MIN_SIZE"],
                    max_size=self.config["DB_POOL_MAX_SIZE"],
                    timeout=self.config["DB_POOL_TIMEOUT"],
                    kwargs={
                        "autocommit": True,
                        **({"prepare_threshold": None} if self.bouncer else {}),
                    },  # fmt: skip
                    configure=self._configure,
                    check=self._check,
                    open=False,
                    name="app",
                )
                self._pool.open(wait=False)
                atexit.register(self.close)
            return self._pool

    def _check(self, conn: psycopg.Connection) -> None:
        """Before lending a connection: psycopg_pool's check (one round trip), skipped for a
        connection that came back less than DB_POOL_CHECK_AFTER_SECONDS ago, since it just
        worked. A connection the server dropped within that window fails its request with a
        503 (Retry-After) and is discarded; the next request gets a fresh one."""
        returned = self._returned.get(conn)
        window = self.config["DB_POOL_CHECK_AFTER_SECONDS"]
        if returned is not None and time.monotonic() - returned < window:
            return
        ConnectionPool.check_connection(conn)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection for one unit of work; its return time is noted for ``_check``."""
        with self.pool.connection() as conn:
            try:
                yield conn
            finally:
                self._returned[conn] = time.monotonic()

    def _configure(self, conn: psycopg.Connection) -> None:
        # Every int as a bigint: psycopg otherwise sends the smallest type that fits (smallint,
        # integer, bigint), and each mix of types is a prepared statement of its own.
        conn.adapters.register_dumper(int, Int8Dumper)
        if not self.bouncer:  # else per transaction (``_timeout``)
            conn.execute(
                "SELECT set_config('statement_timeout', %s, false)",
                [str(self.config["DB_STATEMENT_TIMEOUT_MS"])],
            )

    def _timeout(self, conn: psycopg.Connection) -> None:
        """Behind PgBouncer: the statement timeout of this transaction only (pipelined with
        the transaction's first statement, no round trip of its own)."""
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true)",
            [str(self.config["DB_STATEMENT_TIMEOUT_MS"])],
        )

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def transaction(
        self, work: Callable[[psycopg.Connection], T], request_id: str | None = None
    ) -> T:
        """Run ``work(conn)`` in one transaction, retried a bounded number of times on races.

        Deadlocks, serialization failures, the identifier-race unique violations and profiles
        merged away by a concurrent writer restart the whole unit of work; with identifier
        locks in place they are rare, so the bound is small. One that keeps losing is a 409 the
        client may retry, never a 5xx. The transaction runs in pipeline mode: statements whose
        results are not read yet travel together. The pooled connection is checked out for
        this call only: never while a request body is read or a response written.
        """
        attempts = max(1, self.config["DB_RETRY_ATTEMPTS"])
        with translate_db_errors(self.config, request_id), self.connection() as conn:
            for attempt in range(1, attempts + 1):
                try:
                    with metrics.until_commit(), pipelined_transaction(conn):
                        if self.bouncer:
                            self._timeout(conn)
                        return work(conn)
                except RETRYABLE as exc:
                    if not retryable(exc):
                        metrics.DB_ERRORS.labels("conflict").inc()
                        raise conflict(exc) from exc
                    if attempt == attempts:
                        metrics.DB_ERRORS.labels("conflict").inc()
                        raise exceptions.Conflict(
                            "Concurrent writes kept conflicting; retry."
                        ) from exc
                    metrics.DB_RETRIES.labels(type(exc).__name__).inc()
                    log.info(
                        "retrying transaction after %s (attempt %d)", type(exc).__name__, attempt
                    )
        raise AssertionError("unreachable")

    def read(self, work: Callable[[psycopg.Connection], T], request_id: str | None = None) -> T:
        """Run a read outside an explicit transaction (autocommit), on a short checkout; behind
        PgBouncer in one transaction, which carries the statement timeout."""
        with translate_db_errors(self.config, request_id), self.connection() as conn:
            if not self.bouncer:
                return work(conn)
            with pipelined_transaction(conn):
                self._timeout(conn)
                return work(conn)

    def stats(self) -> dict[str, int]:
        """Pool counters for metrics; empty before the pool is first used."""
        return self._pool.get_stats() if self._pool is not None else {}


def start_embedded(data_dir: str | None) -> str:
    """Start (or find running) the embedded PostgreSQL and stop it at exit if we started it."""
    from app import embedded_pg

    server = embedded_pg.EmbeddedPostgres(Path(data_dir) if data_dir else DEFAULT_EMBEDDED_DIR)
    url = server.ensure_running()
    if server.started_here:
        atexit.register(server.stop)
    return url


def init_app(app: Flask) -> None:
    """Attach the pool; nothing is opened until the first use case asks for a connection."""
    app.extensions["db"] = Database(app)


def get_db() -> Database:
    return current_app.extensions["db"]


def run_in_transaction(work: Callable[[psycopg.Connection], T]) -> T:
    """``Database.transaction`` of the current app, for callers that hold an app context rather
    than a ``Context`` (the CLI, ``make run``'s bootstrap, the authentication hook)."""
    return get_db().transaction(work, g.get("request_id"))


def fetch(work: Callable[[psycopg.Connection], T]) -> T:
    """``Database.read`` of the current app, for the same callers as ``run_in_transaction``."""
    return get_db().read(work, g.get("request_id"))


def connect(conninfo: str, **kwargs: Any) -> psycopg.Connection:
    """A standalone autocommit connection, for CLI commands and migrations. It prepares no
    statement on the server (a few statements each, and safe behind PgBouncer)."""
    return psycopg.connect(conninfo, autocommit=True, prepare_threshold=None, **kwargs)
