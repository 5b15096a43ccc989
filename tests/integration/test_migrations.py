"""Versioned migrations on fresh databases, and the rules the resulting schema must keep."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app import create_app, migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent / "sql" / "migrations"
GLOBAL_TABLES = {"accounts", "schema_migrations"}
# Unique keys of tenant tables that are global by design: surrogate primary keys, and API keys
# (a key must identify its account before the account is known).
GLOBAL_UNIQUE_KEYS = {
    ("api_keys", ("id",)),
    ("profile_identifiers", ("id",)),
    ("api_keys", ("prefix",)),
    ("api_keys", ("key_hash",)),
}


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def recorded(url: str) -> list[tuple[str, str]]:
    """``(version, name)`` of schema_migrations, in the order they were applied."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT version, name FROM schema_migrations ORDER BY applied_at, version"
        ).fetchall()
    return [(version, name) for version, name in rows]


def shipped() -> list[tuple[str, str]]:
    """``(version, name)`` of every file in app/sql/migrations, by file name."""
    files = sorted(MIGRATIONS_DIR.glob("*.sql"))
    assert files, MIGRATIONS_DIR
    return [tuple(path.stem.split("_", 1)) for path in files]


@pytest.fixture
def fresh_url(make_database: Any) -> str:
    return make_database("migrations_test")


def test_every_migration_file_is_recognised():
    assert [(m.version, m.name) for m in migrations.available()] == shipped()


def test_upgrading_a_fresh_database_applies_every_migration_in_order(fresh_url):
    with connect(fresh_url) as conn:
        applied = migrations.upgrade(conn)
    assert [(m.version, m.name) for m in applied] == shipped()
    assert recorded(fresh_url) == shipped()


def test_a_second_upgrade_applies_nothing(fresh_url):
    with connect(fresh_url) as conn:
        migrations.upgrade(conn)
    with connect(fresh_url) as conn:
        assert migrations.upgrade(conn) == []
        assert migrations.pending(conn) == []
    assert recorded(fresh_url) == shipped()


def test_concurrent_upgrades_apply_each_migration_once(fresh_url):
    runners = 4
    barrier = threading.Barrier(runners, timeout=60)

    def upgrade() -> list[str]:
        with connect(fresh_url) as conn:
            barrier.wait()
            return [m.version for m in migrations.upgrade(conn)]

    with ThreadPoolExecutor(max_workers=runners) as pool:
        futures = [pool.submit(upgrade) for _ in range(runners)]
        results = [future.result(timeout=60) for future in futures]

    applied = sorted(version for result in results for version in result)
    assert applied == [version for version, _ in shipped()]
    assert recorded(fresh_url) == shipped()


def test_flask_db_upgrade_applies_then_reports_up_to_date(fresh_url):
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_url})
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["db", "upgrade"])
        second = runner.invoke(args=["db", "upgrade"])
    finally:
        app.extensions["db"].close()

    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[:-1] == [f"applied {version}_{name}" for version, name in shipped()]
    assert lines[-1] == f"database is up to date ({len(shipped())} migrations)"
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines() == [lines[-1]]
    assert recorded(fresh_url) == shipped()


def test_every_table_but_accounts_has_an_account_id(database_url):
    with connect(database_url) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        }
        with_account_id = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'account_id'"
            )
        }
    assert GLOBAL_TABLES <= tables
    assert tables - GLOBAL_TABLES, "no tenant tables at all"
    assert tables - GLOBAL_TABLES - with_account_id == set()


def test_every_unique_key_of_a_tenant_table_includes_account_id(database_url):
    # pg_indexes lists unique constraints and primary keys too (each is backed by a unique
    # index); pg_index gives the key columns without parsing the index definition.
    with connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT i.tablename, i.indexname, i.indexdef,
                   array(SELECT a.attname::text
                         FROM unnest(x.indkey[0:x.indnkeyatts - 1]) AS k(attnum)
                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum)
            FROM pg_indexes i
            JOIN pg_index x
              ON x.indexrelid = format('%I.%I', i.schemaname, i.indexname)::regclass
            WHERE i.schemaname = 'public' AND x.indisunique
            """
        ).fetchall()
    tenant_keys = [
        (table, index, definition, tuple(columns))
        for table, index, definition, columns in rows
        if table not in GLOBAL_TABLES
    ]
    assert tenant_keys, "no unique keys on tenant tables at all"
    offending = [
        definition
        for table, _, definition, columns in tenant_keys
        if "account_id" not in columns and (table, columns) not in GLOBAL_UNIQUE_KEYS
    ]
    assert offending == []


def test_profile_ids_are_bigint(database_url):
    with connect(database_url) as conn:
        column_type = conn.execute(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'profiles' AND column_name = 'id'"
        ).fetchone()
        sequence_type = conn.execute(
            "SELECT s.seqtypid::regtype::text FROM pg_sequence s"
            " WHERE s.seqrelid = pg_get_serial_sequence('profiles', 'id')::regclass"
        ).fetchone()
    assert column_type == ("bigint",)
    assert sequence_type == ("bigint",)
