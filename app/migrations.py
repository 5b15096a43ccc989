"""Versioned SQL migrations: applied in order, one transaction each, recorded in a table.

A transaction-scoped advisory lock, taken by each migration's transaction, serializes runners,
so replicas starting at once never race: the second one waits, then finds the migration
applied (and it holds behind PgBouncer in transaction mode).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from app import migration_steps

log = logging.getLogger(__name__)

# Arbitrary constant: the advisory lock key every migration runner takes.
LOCK_KEY = 727_001
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str


def available() -> list[Migration]:
    """Migration files shipped in ``app/sql/migrations``, in version order."""
    folder = resources.files("app.sql").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(match[1], match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def applied(conn: psycopg.Connection) -> set[str]:
    """Versions recorded as applied; empty when the table does not exist yet."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return set()
    return {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}


def pending(conn: psycopg.Connection) -> list[Migration]:
    done = applied(conn)
    return [m for m in available() if m.version not in done]


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration; returns those applied by this call.

    ``conn`` must be in autocommit mode: each migration opens its own transaction.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    done = []
    for migration in pending(conn):
        # Each migration in a transaction holding the lock, looked for again under it: another
        # replica starting at the same time may have applied it meanwhile. Transaction-scoped,
        # so that it holds behind PgBouncer in transaction mode too.
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            if migration.version in applied(conn):
                continue
            conn.execute(migration.sql)
            step = migration_steps.for_version(migration.version)
            if step is not None:
                step(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
        log.info("applied migration %s_%s", migration.version, migration.name)
        done.append(migration)
    return done
