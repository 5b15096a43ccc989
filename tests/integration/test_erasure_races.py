"""Erasure racing a merge: whatever the interleaving, the outcome is one of the two serial
orders, and nothing of an erased person remains in the database.

Each round starts two requests at one barrier: a batch item that merges two profiles and the
erasure of one of them. Both directions are raced: the erased customer absorbs another one
(``Z`` into ``S``) or is absorbed by another one (``S`` into ``T``).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from flask import Flask

from tests.support import accounts

# Races between real threads: run with the machine to itself (make test's serial part).
pytestmark = pytest.mark.alone

ROUNDS = 30
DEADLINE = 60
CUSTOMERS = "/v1/customers"


@pytest.fixture
def race_app(make_app) -> Flask:
    return make_app(
        RATE_LIMIT_PARTNER_API="100000 per minute", RATE_LIMIT_CUSTOMERS_API="100000 per minute"
    )


def query(url: str, sql: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


class Person:
    """A customer created for one round, with an event and private notes."""

    def __init__(self, client, headers: dict[str, str], label: str, r: int) -> None:
        self.email = f"{label}{r}@example.org"
        body = {"email": self.email, "name": f"{label.upper()} Person {r}", "notes": "private"}
        response = client.post(CUSTOMERS, json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        self.id = response.get_json()["id"]
        event = {"customer": self.id, "name": "Purchase", "data": {"total": r}}
        response = client.post("/v1/events", json=event, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        self.event_id = response.get_json().get("id")


def race(app: Flask, headers: dict[str, str], requests: list[tuple[str, str, Any]]) -> list[int]:
    """Send each request from its own thread and client, all released by one barrier."""
    barrier = threading.Barrier(len(requests), timeout=DEADLINE)

    def send(method: str, path: str, body: Any) -> int:
        client = app.test_client()
        barrier.wait()
        return client.open(path, method=method, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(send, *request) for request in requests]
        return [future.result(timeout=DEADLINE) for future in futures]


def traces(url: str, people: list[Person]) -> dict[str, list[tuple]]:
    """Everything the database still holds of these people."""
    ids = [p.id for p in people]
    emails = [p.email for p in people]
    return {
        "profiles": query(url, "SELECT id, merged_into FROM profiles WHERE id = ANY(%s)", [ids]),
        "merges": query(
            url,
            "SELECT id, survivor_id, merged_id FROM merges "
            "WHERE survivor_id = ANY(%s) OR merged_id = ANY(%s) OR person_id = ANY(%s)",
            [ids, ids, ids],
        ),
        "identifiers": query(
            url, "SELECT profile_id, value FROM profile_identifiers WHERE value = ANY(%s)", [emails]
        ),
        "events": query(url, "SELECT id, profile_id FROM events WHERE profile_id = ANY(%s)", [ids]),
    }


def dangling_tombstones(url: str) -> list[tuple]:
    return query(
        url,
        "SELECT t.id, t.merged_into FROM profiles t LEFT JOIN profiles s "
        "ON s.account_id = t.account_id AND s.id = t.merged_into "
        "WHERE t.merged_into IS NOT NULL AND s.id IS NULL",
    )


@pytest.fixture
def setup(race_app: Flask) -> tuple[Any, dict[str, str]]:
    with race_app.app_context():
        key = accounts.create_account("acme")[1]
    return race_app.test_client(), {"x-api-key": key}


def test_erasure_racing_a_merge_into_the_erased_customer_leaves_nothing_of_either(
    race_app: Flask, clean_db: str, setup
) -> None:
    """A batch item gives S the email of Z (merging Z and S) while S is erased. Merge first:
    the erasure takes the whole merged person. Erasure first: the batch item is a 404 and Z is
    untouched."""
    client, headers = setup
    outcomes: Counter[str] = Counter()
    problems = []
    for r in range(ROUNDS):
        s, z = Person(client, headers, "s", r), Person(client, headers, "z", r)
        batch = [{"customer": s.id, "email": z.email}]
        merged, erased = race(
            race_app,
            headers,
            [("PUT", f"{CUSTOMERS}/batch", batch), ("DELETE", f"{CUSTOMERS}/{s.id}", None)],
        )
        left = traces(clean_db, [s, z])
        outcomes[f"batch {merged}"] += 1
        if erased != 200 or merged not in (200, 404):
            problems.append((r, "statuses", merged, erased))
        elif merged == 200:  # merged, then erased: nothing of either remains
            if any(left.values()):
                problems.append((r, "merged then erased, yet left", left))
            if client.get(f"{CUSTOMERS}/{z.id}/merges", headers=headers).status_code != 404:
                problems.append((r, "Z's history still served"))
        else:  # erased, then the batch named a customer that no longer exists: Z intact
            expected = {
                "profiles": [(z.id, None)],
                "merges": [],
                "identifiers": [(z.id, z.email)],
                "events": [(z.event_id, z.id)],
            }
            if left != expected:
                problems.append((r, "erased then 404, yet", left))
    assert problems == [], (
        f"{len(problems)} of {ROUNDS} rounds broke ({dict(outcomes)}): {problems}"
    )
    assert dangling_tombstones(clean_db) == []


def test_erasure_racing_a_merge_of_the_erased_customer_into_another_leaves_nothing_of_it(
    race_app: Flask, clean_db: str, setup
) -> None:
    """A batch item gives T the email of S (merging S and T) while S is erased. Merge first:
    erasing S erases the merged person, T included. Erasure first: T receives the email as a
    new address, with nothing of S (no history, no events)."""
    client, headers = setup
    outcomes: Counter[str] = Counter()
    problems = []
    for r in range(ROUNDS):
        s, t = Person(client, headers, "s", r), Person(client, headers, "t", r)
        batch = [{"customer": t.id, "email": s.email}]
        merged, erased = race(
            race_app,
            headers,
            [("PUT", f"{CUSTOMERS}/batch", batch), ("DELETE", f"{CUSTOMERS}/{s.id}", None)],
        )
        left = traces(clean_db, [s, t])
        if merged != 200 or erased != 200:
            problems.append((r, "statuses", merged, erased))
            continue
        if not left["profiles"]:
            outcomes["merged, then erased"] += 1
            if any(left.values()):
                problems.append((r, "merged then erased, yet left", left))
        else:
            outcomes["erased, then T wrote"] += 1
            expected = {
                "profiles": [(t.id, None)],
                "merges": [],
                "identifiers": [(t.id, s.email)],
                "events": [(t.event_id, t.id)],
            }
            if left != expected:
                problems.append((r, "erased then written, yet", left))
    assert problems == [], (
        f"{len(problems)} of {ROUNDS} rounds broke ({dict(outcomes)}): {problems}"
    )
    assert dangling_tombstones(clean_db) == []
