"""Migration 0005: text folded in Python for existing rows, tags re-folded and merged."""

from __future__ import annotations

from typing import Any

import psycopg

from app import migrations


def upgrade_to(conn: psycopg.Connection, last: str) -> None:
    """Apply the shipped migrations up to ``last`` (inclusive), as ``upgrade`` records them."""
    conn.execute(
        "CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for migration in migrations.available():
        if migration.version > last:
            break
        conn.execute(migration.sql)
        conn.execute(
            "INSERT INTO schema_migrations VALUES (%s, %s)", [migration.version, migration.name]
        )


def test_upgrading_to_0005_folds_existing_text_and_merges_tags_lower_told_apart(
    make_database: Any,
) -> None:
    url = make_database("steps_test")
    with psycopg.connect(url, autocommit=True) as conn:
        upgrade_to(conn, "0004")
        account = conn.execute("INSERT INTO accounts (name) VALUES ('a') RETURNING id").fetchone()[
            0
        ]
        p1, p2 = [
            conn.execute(
                "INSERT INTO profiles (account_id, name, company, city) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                [account, name, "STRASSE AG", city],
            ).fetchone()[0]
            for name, city in (("Jürgen MÜLLER", "MÜNCHEN"), ("Ann", None))
        ]
        # What SQL lower() made of these under the C locale: two tags for one name.
        t1, t2 = [
            conn.execute(
                "INSERT INTO tags (account_id, name, name_norm, color) VALUES (%s, %s, %s, 'red')"
                " RETURNING id",
                [account, name, norm],
            ).fetchone()[0]
            for name, norm in (("Ärger", "Ärger"), ("ärger", "ärger"))
        ]
        for profile, tag in ((p1, t1), (p2, t2), (p2, t1)):
            conn.execute("INSERT INTO profile_tags VALUES (%s, %s, %s)", [account, profile, tag])

        applied = migrations.upgrade(conn)
        assert [m.version for m in applied][0] == "0005"

        folded = conn.execute(
            "SELECT id, name_fold, company_fold, city_fold FROM profiles ORDER BY id"
        ).fetchall()
        assert folded == [
            (p1, "jürgen müller", "strasse ag", "münchen"),
            (p2, "ann", "strasse ag", None),
        ]
        assert conn.execute("SELECT id, name, name_norm FROM tags").fetchall() == [
            (t1, "Ärger", "ärger")
        ]
        links = conn.execute("SELECT profile_id, tag_id FROM profile_tags ORDER BY 1").fetchall()
        assert links == [(p1, t1), (p2, t1)]
