"""Duplicate suggestions are indexed, never scanned: every statement ``find_duplicates`` sends,
planned again with ``EXPLAIN`` on a seeded, analyzed database of several accounts (one large),
reads tenant tables through indexes only, and the candidate lookups use the blocking-key
indexes of migration 0010 and the identifier lookup index. Also: the 0010 backfill fills the
keys of rows written before it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from app import migrations
from app.identity import blocking
from app.services import suggestions
from app.services.context import Context
from tests.support.plans import RecordingCursor

# The tables seeded here (customer objects read tags too: test_query_plans covers those).
SEEDED = {"profiles", "profile_identifiers"}
LARGE, SMALL, OTHERS = 12_000, 1_000, 9

# Keys here are synthetic (the distribution matters, not the names): about four profiles share
# a name key in the large account, forty an overlapping loose key.
SEED = """
INSERT INTO accounts (name) SELECT 'seed-' || n FROM generate_series(1, {accounts}) n;
WITH sizes AS (
    SELECT a.id AS account_id, CASE WHEN a.name = 'seed-1' THEN {large} ELSE {small} END AS n
    FROM accounts a
)
INSERT INTO profiles (account_id, name, name_fold, name_key, name_keys, company, company_fold,
                      city, city_fold)
SELECT s.account_id, 'Person ' || (g % 3000), 'person ' || (g % 3000),
       'person ' || (g % 3000), ARRAY['person ' || (g % 3000), 'p ' || (g % 300)],
       'Company ' || (g % 500), 'company ' || (g % 500), 'City ' || (g % 50), 'city ' || (g % 50)
FROM sizes s, generate_series(1, s.n) g;
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
SELECT account_id, id, 'email', 'p' || id || '@gmail.com', 'p' || id || '@gmail.com', true
FROM profiles;
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
SELECT account_id, id, 'phone', '+1415' || lpad((id % 9999999)::text, 7, '0'),
       '+1415' || lpad((id % 9999999)::text, 7, '0'), true
FROM profiles WHERE id % 2 = 0;
UPDATE profiles SET merged_into = id - 1, merged_at = now() WHERE id % 97 = 0;
"""
EXPECTED_INDEXES = {
    "profile_identifiers_lookup",  # the same phone, domain typos, phones one digit away
    "profiles_name_key_city",  # the same name key (and city)
    "profiles_name_key_company",  # the same name and company
    "profiles_name_keys",  # overlapping loose keys (GIN)
}


@pytest.fixture(scope="module")
def seeded_url(make_database: Any) -> str:
    url = make_database("suggestion_plans")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
        conn.execute(SEED.format(accounts=1 + OTHERS, large=LARGE, small=SMALL))
        conn.execute("ANALYZE")
    return url


def walk(plan: Any, key: str) -> Iterator[str]:
    """Values of ``key`` in the plan's nodes that scan a relation or an index."""
    if isinstance(plan, dict):
        if key in plan:
            yield plan[key]
        for value in plan.values():
            yield from walk(value, key)
    elif isinstance(plan, list):
        for item in plan:
            yield from walk(item, key)


def seq_scans(plan: Any) -> set[str]:
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("Node Type") == "Seq Scan":
                found.add(node.get("Relation Name", "?"))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(plan)
    return found & SEEDED


def test_suggestion_queries_use_indexes_and_never_scan(seeded_url: str) -> None:
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        account_id, subject = conn.execute(
            "SELECT account_id, min(id) FROM profiles WHERE account_id ="
            " (SELECT id FROM accounts WHERE name = 'seed-1') AND id % 2 = 0"
            " AND merged_into IS NULL GROUP BY account_id"
        ).fetchone()
    with psycopg.connect(seeded_url, autocommit=True, cursor_factory=RecordingCursor) as conn:
        RecordingCursor.log = []
        found, _ = suggestions.find_duplicates(conn, Context(account_id=account_id), subject, 50)
        recorded = list(RecordingCursor.log)
    assert found, "the seeded subject has namesakes: the lookups found nothing"
    # resolve the id, load the customer, the candidates, the distinct pairs among them, the page
    assert len(recorded) == 5, [q for q, _ in recorded]
    offenders, indexes = [], set()
    with psycopg.connect(seeded_url) as conn:
        for query, params in recorded:
            explain = sql.SQL("EXPLAIN (FORMAT JSON) ") + sql.SQL(query)
            [[plan]] = conn.execute(explain, params).fetchall()
            indexes |= set(walk(plan, "Index Name"))
            if seq_scans(plan):
                offenders.append((sorted(seq_scans(plan)), " ".join(query.split())[:300]))
    assert offenders == []
    assert EXPECTED_INDEXES <= indexes, sorted(indexes)


def test_the_0010_backfill_fills_the_keys_of_existing_names(make_database: Any) -> None:
    url = make_database("suggestion_keys")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in migrations.available():
            if migration.version >= "0010":
                break
            conn.execute(migration.sql)
            step = migrations.migration_steps.for_version(migration.version)
            if step is not None:
                step(conn)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (%s, %s)", [migration.version, migration.name]
            )
        account = conn.execute("INSERT INTO accounts (name) VALUES ('a') RETURNING id").fetchone()
        ids = [
            conn.execute(
                "INSERT INTO profiles (account_id, name) VALUES (%s, %s) RETURNING id",
                [account[0], name],
            ).fetchone()[0]
            for name in ("Bob Stone", None, "J. Gibson")
        ]
        migrations.upgrade(conn)
        rows = conn.execute(
            "SELECT id, name_key, name_keys FROM profiles ORDER BY id"
        ).fetchall()  # fmt: skip
    assert rows == [
        (ids[0], blocking.name_key("Bob Stone"), blocking.name_keys("Bob Stone")),
        (ids[1], None, None),
        (ids[2], "gibson j", ["gibson j"]),
    ]
    assert blocking.name_key("Bob Stone") == "robert stone"
