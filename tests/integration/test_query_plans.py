"""No query of the write and read paths scans a tenant table sequentially.

Every statement the service sends while serving the API (both APIs, every endpoint, the
identity paths that merge) is recorded through a cursor factory, then planned again with
``EXPLAIN`` and the same parameters on a seeded, analyzed database of several accounts, one of
them large. A ``Seq Scan`` on a tenant table means a query that grows with the table: it fails
the test, naming the statement.

The large account holds about a quarter of the rows. Where one account holds most of the
table, a sequential scan is the right plan for what reads a whole account (the `total` of a
list or search counts every matching customer of the account), and the planner takes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from flask import Flask

from app import create_app, migrations
from tests.support import accounts
from tests.support.plans import RecordingCursor

# Tables shared by all tenants, small by nature, scanned at will.
GLOBAL_TABLES = {"accounts", "schema_migrations"}
# 8,000 profiles in the large account, 800 in each of 29 others: about 26 % in the large one.
LARGE, SMALL = 8_000, 800
CUSTOMERS = "/v1/customers"
PARTNER = "/api/v1/partner/contacts"

SEED = """
INSERT INTO accounts (name) SELECT 'seed-' || n FROM generate_series(1, 30) n;
-- One large account and several small ones: profiles, identifiers, tags, events, merges.
WITH sizes AS (
    SELECT a.id AS account_id, CASE WHEN a.name = 'seed-1' THEN {large} ELSE {small} END AS n
    FROM accounts a WHERE a.name LIKE 'seed-%'
)
INSERT INTO profiles (account_id, name, name_fold, company, company_fold, city, city_fold)
SELECT s.account_id, 'Person ' || g, 'person ' || g, 'Company ' || (g % 500),
       'company ' || (g % 500), 'City ' || (g % 50), 'city ' || (g % 50)
FROM sizes s, generate_series(1, s.n) g;
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
SELECT account_id, id, 'email', 'p' || id || '@example.org', 'p' || id || '@example.org', true
FROM profiles;
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
SELECT account_id, id, 'external_id', 'crm-' || id, 'crm-' || id, true FROM profiles;
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
SELECT account_id, id, 'phone', '+1415' || lpad((id % 9999999)::text, 7, '0'),
       '+1415' || lpad((id % 9999999)::text, 7, '0'), true
FROM profiles WHERE id % 2 = 0;
INSERT INTO tags (account_id, name, name_norm, color)
SELECT a.id, 'tag ' || g, 'tag ' || g, '#c377e0'
FROM accounts a, generate_series(1, 200) g WHERE a.name LIKE 'seed-%';
INSERT INTO profile_tags (account_id, profile_id, tag_id)
SELECT p.account_id, p.id, t.id FROM profiles p
JOIN tags t ON t.account_id = p.account_id AND t.name_norm = 'tag ' || (p.id % 200 + 1);
INSERT INTO custom_attributes (account_id, name, type)
SELECT a.id, 'attr' || g || 'Str', 'string'
FROM accounts a, generate_series(1, 100) g WHERE a.name LIKE 'seed-%';
INSERT INTO events (account_id, profile_id, name, data)
SELECT account_id, id, 'Visit', '{{}}'::jsonb FROM profiles;
INSERT INTO merges (account_id, person_id, survivor_id, merged_id, rule, snapshot)
SELECT account_id, id, id, id, 'email', '{{}}'::jsonb FROM profiles WHERE id % 10 = 0;
UPDATE profiles SET merged_into = id - 1, merged_at = now() WHERE id % 97 = 0;
-- Pairs known to be two people: few in the large account, as each account holds a small share
-- of a table every tenant writes (the planner then reads one account's by its index).
INSERT INTO distinct_profiles (account_id, low_id, high_id)
SELECT p.account_id, p.id, q.id FROM profiles p
JOIN accounts a ON a.id = p.account_id
JOIN profiles q ON q.account_id = p.account_id AND q.id = p.id + 1
WHERE p.id % (CASE WHEN a.name = 'seed-1' THEN 20 ELSE 2 END) = 0;
INSERT INTO idempotency_keys (account_id, key, fingerprint, token, state, expires_at, status,
                              headers, body, profile_ids)
SELECT account_id, 'seed-' || id, sha256(id::text::bytea), gen_random_uuid(), 'done',
       now() + interval '1 day', 200, '{{}}'::jsonb, '{{}}'::bytea, ARRAY[id]
FROM profiles;
INSERT INTO api_keys (account_id, prefix, key_hash)
SELECT a.id, 'ck_seed' || a.id || '_' || g, sha256(('seed' || a.id || '_' || g)::bytea)
FROM accounts a, generate_series(1, 200) g WHERE a.name LIKE 'seed-%';
"""


@pytest.fixture(scope="module")
def seeded_url(make_database: Any) -> str:
    url = make_database("plans_test")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
        conn.execute(SEED.format(large=LARGE, small=SMALL))
        conn.execute("VACUUM ANALYZE")  # visibility maps too, as autovacuum keeps them
    return url


@pytest.fixture
def recording_app(seeded_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": seeded_url,
            "RATE_LIMIT_CUSTOMERS_API": "100000 per minute",
            "RATE_LIMIT_PARTNER_API": "100000 per minute",
        }
    )
    database = app.extensions["db"]
    configure = database._configure

    def recording(conn: psycopg.Connection) -> None:
        configure(conn)
        conn.cursor_factory = RecordingCursor

    database._configure = recording
    RecordingCursor.log = []
    yield app
    database.close()


def exercise(app: Flask) -> None:
    """One call of every endpoint and identity path, on the large account."""
    with app.app_context():
        key = accounts.create_key("seed-1")
    client = app.test_client()
    headers = {"x-api-key": key}

    def call(method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200, 201)):
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code in expect, (method, path, response.get_json(silent=True))
        return response.get_json(silent=True)

    some = call("GET", f"{CUSTOMERS}?limit=1&offset=5000")["data"][0]["id"]
    other = some + 1
    # Partner API: new, existing by external id, by email; read.
    contact = call("POST", PARTNER, {"email": "new@example.org", "external_id": "x-new"})
    call("POST", PARTNER, {"email": "new2@example.org", "external_id": "x-new"})
    call("POST", PARTNER, {"email": f"p{some}@example.org", "name": "Person"})
    call("GET", f"{PARTNER}/{contact['id']}")
    # Customers: create (new, resolving, merging by email + user id, phone + name), read.
    created = call("POST", CUSTOMERS, {"email": "fresh@example.org", "name": "Fresh"})
    call("POST", CUSTOMERS, {"email": "FRESH@example.org", "tags": [{"name": "Vip"}]})
    call("POST", CUSTOMERS, {"email": f"p{some}@example.org", "userId": f"crm-{other}"})
    call("POST", CUSTOMERS, {"phone": f"+1415{(some + 10) % 9999999:07d}", "name": "Person"})
    call("GET", f"{CUSTOMERS}/{created['id']}")
    # Updates: PUT, PATCH, batch with tags and custom data, tag, untag, events, merges.
    body = {"name": "Renamed", "customData": [{"property": "attr1Str", "value": "x"}]}
    call("PUT", f"{CUSTOMERS}/{created['id']}", body)
    call("PATCH", f"{CUSTOMERS}/{created['id']}", {"location": {"city": "Kyiv"}})
    items = [
        {"customer": some + 20 + i, "notes": "n", "tags": [{"name": f"tag {i}"}]} for i in range(9)
    ]
    items.append({"customer": some + 40, "email": f"p{some + 41}@example.org"})
    call("PUT", f"{CUSTOMERS}/batch", items)
    call("PUT", f"{CUSTOMERS}/{created['id']}/tags", {"tags": [{"name": "tag 7"}]})
    call("DELETE", f"{CUSTOMERS}/{created['id']}/tags", {"tags": [{"name": "tag 7"}]})
    call("POST", "/v1/events", {"customer": created["id"], "name": "Visit"})
    page = call("GET", f"{CUSTOMERS}/{some}/events?limit=1")
    call("GET", f"{CUSTOMERS}/{some}/events?limit=1&after={page['nextCursor']}")
    call("GET", f"{CUSTOMERS}/{some + 40}/merges")
    # Identity tools: merge, unmerge, the distinct pairs.
    call("POST", f"{CUSTOMERS}/{some + 60}/merge", {"customers": [some + 61]})
    call("POST", f"{CUSTOMERS}/{some + 60}/unmerge", {"customer": some + 61})
    call("GET", f"{CUSTOMERS}/{some + 60}/distinct")
    call("POST", CUSTOMERS, {"email": f"p{some + 62}@example.org", "userId": f"crm-{some + 63}"})
    call("DELETE", f"{CUSTOMERS}/{some + 60}/distinct/{some + 61}", expect=(204,))
    call("GET", "/v1/identity/stats")
    call("GET", "/v1/tags?limit=5")
    call("GET", "/v1/custom-attributes?limit=5")
    # Lists and searches.
    listed = call("GET", f"{CUSTOMERS}?limit=100&sort=customers.lastSeen&order=desc")
    call(
        "GET",
        f"{CUSTOMERS}?limit=100&sort=customers.lastSeen&order=desc&after={listed['nextCursor']}",
    )
    call("GET", f"{CUSTOMERS}?email=p{some}@example.org")
    call("GET", f"{CUSTOMERS}?userId=crm-{some}")
    call("GET", f"{CUSTOMERS}?phone=%2B1415{(some + 2) % 9999999:07d}")
    call("GET", f"{CUSTOMERS}?tag=tag 3")
    for field, operator, value in [
        ("customers.email", "=", f"p{some}@example.org"),
        ("customers.userId", "=", f"crm-{some}"),
        ("customers.phone", "=", f"+1415{(some + 2) % 9999999:07d}"),
        ("customers.tagsData", "=", [{"name": "tag 3"}]),
        ("customers.id", "=", some),
        ("customers.name", "=", "Person 5"),
        ("customers.name", "~", "son 5"),
        ("customers.company", "=", "company 5"),
        ("customers.city", "!=", "city 5"),
        ("customers.createdAt", ">", 1_600_000_000),
        ("customers.email", "~", "p5"),
    ]:
        call(
            "POST",
            f"{CUSTOMERS}/search",
            {"filter": [{"field": field, "operator": operator, "value": value}]},
        )
    # Erasure.
    call("DELETE", f"{CUSTOMERS}/{created['id']}")


def sequential_scans(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if plan.get("Node Type") == "Seq Scan":
            yield plan.get("Relation Name", "?")
        for value in plan.values():
            yield from sequential_scans(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from sequential_scans(item)


def explainable(query: Any) -> bool:
    """Statements that read or write rows (not set_config, advisory locks, transactions)."""
    if isinstance(query, sql.Composable):
        return True
    lines = [
        line for line in query.splitlines() if line.strip() and not line.lstrip().startswith("--")
    ]
    head = lines[0].split(None, 1)[0].upper() if lines else ""
    if "pg_advisory" in query or "set_config" in query:
        return False
    return head in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


def test_no_query_of_the_api_scans_a_tenant_table_sequentially(
    recording_app: Flask, seeded_url: str
) -> None:
    exercise(recording_app)
    recorded = [(q, p) for q, p in RecordingCursor.log if explainable(q)]
    assert len(recorded) > 50, "the exercise recorded too few statements"
    offenders = []
    with psycopg.connect(seeded_url) as conn:
        for query, params in recorded:
            explain = sql.SQL("EXPLAIN (FORMAT JSON) ") + (
                query if isinstance(query, sql.Composable) else sql.SQL(query)
            )
            try:
                [[plan]] = conn.execute(explain, params).fetchall()
            except psycopg.Error as exc:
                conn.rollback()
                offenders.append((str(exc).strip(), _text(conn, query)))
                continue
            scanned = set(sequential_scans(plan)) - GLOBAL_TABLES
            entry = (sorted(scanned), _text(conn, query))
            if scanned and entry not in offenders:
                offenders.append(entry)
        conn.rollback()
    assert offenders == [], json.dumps(offenders, indent=1, default=str)


def _text(conn: psycopg.Connection, query: Any) -> str:
    text = query.as_string(conn) if isinstance(query, sql.Composable) else query
    return " ".join(text.split())[:400]


def test_the_check_sees_a_query_not_scoped_by_account(seeded_url: str) -> None:
    """The seeded statistics make an unscoped lookup a sequential scan: the check above is not
    vacuous."""
    with psycopg.connect(seeded_url) as conn:
        [[plan]] = conn.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM profiles WHERE company_fold = %s", ["x"]
        ).fetchall()
    assert set(sequential_scans(plan)) == {"profiles"}


def test_merge_records_read_the_merged_rows_by_their_ids(clean_db: str) -> None:
    """A merge record's snapshot is built from the merged row in the INSERT: with one account
    of 20,000 profiles (where a join planned from the recordset's row estimate alone read the
    whole table), the row is still found through the primary key."""
    from app.repositories.merges import RECORD_MERGES

    with psycopg.connect(clean_db) as conn:
        [[account_id]] = conn.execute(
            "INSERT INTO accounts (name) VALUES ('solo') RETURNING id"
        ).fetchall()
        conn.execute(
            "INSERT INTO profiles (account_id, name)"
            " SELECT %s, 'p' || g FROM generate_series(1, 20000) g",
            [account_id],
        )
        conn.execute("ANALYZE profiles")
        survivor, merged = (r[0] for r in conn.execute("SELECT id FROM profiles LIMIT 2"))
        row = {"survivor": survivor, "merged": merged, "rule": "manual", "seq": 0}
        params = {
            "account_id": account_id,
            "request_id": None,
            "rows": Jsonb([row]),
            "merged": [merged],
        }
        [[plan]] = conn.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) ") + sql.SQL(RECORD_MERGES), params
        ).fetchall()
        conn.rollback()
    assert "profiles" not in set(sequential_scans(plan)), json.dumps(plan, indent=1)
