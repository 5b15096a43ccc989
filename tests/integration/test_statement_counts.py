"""Statements per request, counted by a hook on the connection (the embedded build has no
``pg_stat_statements``): every ``Cursor.execute`` the app runs while serving one request.

Not counted: the pool's connection check (an empty query), BEGIN/COMMIT, and the API-key
lookup, which is cached after the first request of a key (each test warms it up first).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from app import db
from tests.support import accounts
from tests.support.wire import Wire, traced

CONTACTS = "/api/v1/partner/contacts"
BATCH = "/v1/customers/batch"
# app.db queues these with the statements (pipelined_transaction): not counted, as before, when
# psycopg's conn.transaction() sent them itself.
TRANSACTION_CONTROL = frozenset({"", "BEGIN", "COMMIT", "ROLLBACK"})


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.texts: list[str] = []  # whole statements, in the same order
        self.thread = threading.get_ident()

    def __len__(self) -> int:
        return len(self.statements)


@pytest.fixture
def count(monkeypatch) -> Iterator[Counter]:
    """A fresh ``Counter`` per ``with``-less use: reset it with ``count.statements.clear()``."""
    counter = Counter()
    original = psycopg.Cursor.execute

    def counting(self, query, params=None, **kwargs):
        text = query if isinstance(query, str) else query.as_string(self.connection)
        if threading.get_ident() == counter.thread and text.strip() not in TRANSACTION_CONTROL:
            counter.statements.append(text.strip().splitlines()[0][:80])
            counter.texts.append(text.strip())
        return original(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    yield counter


def _counted(count: Counter, call):
    count.statements.clear()
    count.texts.clear()
    response = call()
    assert response.status_code < 300, response.get_json()
    return len(count), list(count.statements), response


def _batch(ids: list[int], tag: str = "vip") -> list[dict]:
    return [
        {
            "customer": customer_id,
            "company": f"Acme {i}",
            "notes": "batch",
            "tags": [{"name": tag}, {"name": f"t{i % 3}"}],
            "customData": [
                {"property": "plan", "value": "pro"},
                {"property": "visits", "value": i},
            ],
        }
        for i, customer_id in enumerate(ids)
    ]


def test_a_partner_upsert_runs_at_most_5_statements(api, count):
    api.post(CONTACTS, json={"email": "warm@example.com"})  # caches the key
    new, listed, _ = _counted(
        count,
        lambda: api.post(
            CONTACTS, json={"email": "a@example.com", "external_id": "a-1", "name": "Ann Lee"}
        ),  # fmt: skip
    )
    assert new <= 4, listed  # a create draws its id with the lookup: no statement of its own
    again, listed, _ = _counted(
        count,
        lambda: api.post(
            CONTACTS, json={"external_id": "a-1", "email": "a@example.com", "name": "Ann B. Lee"}
        ),
    )
    assert again <= 4, listed
    moved, listed, _ = _counted(
        count, lambda: api.post(CONTACTS, json={"external_id": "a-1", "email": "ann@example.org"})
    )
    assert moved <= 5, listed  # the replaced email is demoted first: one statement more


def test_a_batch_runs_at_most_10_statements_whatever_its_size(api, count):
    ids = [api.post("/v1/customers", json={"name": f"C {i}"}).get_json()["id"] for i in range(10)]
    api.request(
        "PUT", BATCH, json=_batch(ids[:1])
    )  # caches the key, defines the attributes, makes tags
    counts = {}
    for size in (1, 5, 10):
        counts[size], listed, response = _counted(
            count, lambda s=size: api.request("PUT", BATCH, json=_batch(ids[:s]))
        )
        assert len(response.get_json()) == size
        assert counts[size] <= 10, listed
    assert counts[1] == counts[5] == counts[10], counts


def test_a_customer_read_runs_one_statement(api, count):
    customer = api.post("/v1/customers", json={"name": "Read Me"}).get_json()
    n, listed, _ = _counted(count, lambda: api.get(f"/v1/customers/{customer['id']}"))
    assert n == 1, listed


def test_writes_with_a_phone_look_first_without_locking(api, count):
    """Phone holders are locked only when their names make them plausible: the first lookup
    of a write with a phone locks nothing, the second locks every candidate in one statement
    (two locking statements would take row locks in two orders)."""
    holder = {"name": "Zed Quinn", "phone": "+1 415 555 0100", "email": "zed@example.com"}
    api.post("/v1/customers", json=holder)
    body = {"name": "Ann Lee", "phone": "+1 415 555 0100", "email": "zed@example.com"}
    _, listed, _ = _counted(count, lambda: api.post("/v1/customers", json=body))
    lookups = [text for text in count.texts if text.startswith("-- lookup")]
    assert len(lookups) == 2, listed
    assert "FOR UPDATE" not in lookups[0]
    assert "FOR UPDATE" in lookups[1]


# --- round trips, from libpq's trace of the pooled connection --------------------------------


@pytest.fixture
def wire(monkeypatch) -> Wire:
    """Every protocol message of the connections the app borrows while the test runs."""
    recorded = Wire()
    original = db.Database.connection

    @contextmanager
    def borrowed(self):
        with original(self) as conn, traced(conn, recorded):
            yield conn

    monkeypatch.setattr(db.Database, "connection", borrowed)
    return recorded


def _round_trips(wire: Wire, call) -> int:
    wire.lines.clear()
    response = call()
    assert response.status_code < 300, response.get_json()
    return wire.round_trips


def test_round_trips_of_a_partner_upsert_a_batch_and_a_read(api, wire):
    """BEGIN travels with the first statements and COMMIT with the last sync
    (transactions.pipelined_transaction), and the id of a person created comes with the
    lookup: a partner upsert is 3 round trips whether it creates its person or finds it, a
    batch of 10 is 4, a read by id 1."""
    api.post(CONTACTS, json={"email": "warm@example.com"})  # caches the key
    body = {"email": "a@example.com", "external_id": "a-1", "name": "Ann Lee"}
    created = _round_trips(wire, lambda: api.post(CONTACTS, json=body))
    found = _round_trips(wire, lambda: api.post(CONTACTS, json=body))
    ids = [api.post("/v1/customers", json={"name": f"C {i}"}).get_json()["id"] for i in range(10)]
    api.request("PUT", BATCH, json=_batch(ids[:1]))  # defines the attributes, makes the tags
    batch = _round_trips(wire, lambda: api.request("PUT", BATCH, json=_batch(ids)))
    read = _round_trips(wire, lambda: api.get(f"/v1/customers/{ids[0]}"))
    print({"created": created, "found": found, "batch": batch, "read": read})
    assert (created, found, batch, read) == (3, 3, 4, 1)


def test_the_write_statements_run_on_generic_plans(make_app):
    """The write transaction's statements are prepared once per connection and planned once:
    the identifier locks switch the transaction to generic plans for those after them, and
    are cheap enough to get one themselves (a row estimate of 1,000 from `generate_series`
    once kept a write statement on a custom plan, planned again at every write). Sixteen
    partner upserts and twelve batches on a one-connection pool; psycopg prepares a statement
    at its sixth execution, PostgreSQL tries five custom plans before a generic one."""
    app = make_app(DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=1)
    client = app.test_client()
    with app.app_context():
        _, key = accounts.create_account("plans")
    headers = {"x-api-key": key}
    ids = []
    for i in range(16):  # half create their person, half find it
        body = {"email": f"p{i // 2}@example.com", "name": f"P {i // 2}"}
        response = client.post(CONTACTS, json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        ids.append(client.post("/v1/customers", json={"name": f"C {i}"}, headers=headers))
    ids = [r.get_json()["id"] for r in ids]
    for i in range(12):
        response = client.put(BATCH, json=_batch(ids[i % 3 : i % 3 + 10]), headers=headers)
        assert response.status_code == 200, response.get_json()
    with app.extensions["db"].connection() as conn:
        rows = conn.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        ).fetchall()
    # One name may be several prepared statements: psycopg keys them by the types it sends
    # (an empty list is not a list of bigints). Each tries five custom plans, no more.
    generic: dict[str, int] = {}
    for statement, generic_plans, custom_plans in rows:
        name = statement.splitlines()[0].removeprefix("-- ").removesuffix(" --")
        assert custom_plans <= 5, (name, generic_plans, custom_plans)
        generic[name] = generic.get(name, 0) + generic_plans
    for name in ("lock_identifiers", "lookup", "apply_writes", "get_contacts", "load_customers"):
        assert generic.get(name, 0) >= 7, (name, generic)
