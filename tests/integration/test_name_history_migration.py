"""Migration 0011: each existing profile's name history starts from its current name,
normalized by Python (app/identity/names.py), tombstones included."""

from __future__ import annotations

from typing import Any

import psycopg

from app import migrations


def upgrade_before(conn: psycopg.Connection, version: str) -> None:
    """Apply the shipped migrations older than ``version``, as ``upgrade`` records them."""
    conn.execute(
        "CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for migration in migrations.available():
        if migration.version >= version:
            break
        conn.execute(migration.sql)
        conn.execute(
            "INSERT INTO schema_migrations VALUES (%s, %s)", [migration.version, migration.name]
        )


def test_upgrading_to_0011_starts_every_name_history_from_the_normalized_name(
    make_database: Any,
) -> None:
    url = make_database("names_test")
    with psycopg.connect(url, autocommit=True) as conn:
        upgrade_before(conn, "0011")
        account = conn.execute("INSERT INTO accounts (name) VALUES ('a') RETURNING id").fetchone()
        ids = [
            conn.execute(
                "INSERT INTO profiles (account_id, name) VALUES (%s, %s) RETURNING id",
                [account[0], name],
            ).fetchone()[0]
            for name in ("  Łukasz  WAŁĘSA ", None, "...", "Smith, Jane")
        ]
        conn.execute("UPDATE profiles SET merged_into = %s WHERE id = %s", [ids[0], ids[3]])

        applied = migrations.upgrade(conn)
        assert "0011" in [m.version for m in applied]

        rows = conn.execute("SELECT id, names FROM profiles ORDER BY id").fetchall()
        assert rows == [
            (ids[0], ["lukasz walesa"]),
            (ids[1], []),  # no name, no history
            (ids[2], []),  # nothing left after normalization
            (ids[3], ["smith jane"]),  # a tombstone keeps its own (an unmerge revives it)
        ]
