"""Concurrent first writes of one identity: the advisory locks make them find each other.

Every request gets its own test client and a pooled connection of its own (the pool holds up to
25 in tests), and all of them are released together by a barrier, so their transactions really
overlap in PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from flask import Flask

URL = "/api/v1/partner/contacts"
THREADS = 20
# Generous: a broken lock shows up as an error or a wrong count, never as a slow test.
DEADLINE = 60


def race(app: Flask, requests: list[tuple[str, dict[str, Any]]]) -> list[tuple[int, Any]]:
    """POST every ``(key, body)`` at once; return ``(status, json)`` in request order."""
    barrier = threading.Barrier(len(requests), timeout=DEADLINE)

    def post(key: str, body: dict[str, Any]) -> tuple[int, Any]:
        client = app.test_client()
        barrier.wait()
        response = client.post(URL, json=body, headers={"x-api-key": key})
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(post, key, body) for key, body in requests]
        return [future.result(timeout=DEADLINE) for future in futures]


def spellings(email: str) -> Callable[[int], str]:
    """The same address in a different case and padding for each thread."""

    def spell(i: int) -> str:
        variants = (email, email.upper(), email.title(), f"  {email} ", f"\t{email.upper()} ")
        return variants[i % len(variants)]

    return spell


def count(url: str, table: str, account_id: int | None = None) -> int:
    query = f"SELECT count(*) FROM {table}"
    params: list[Any] = []
    if account_id is not None:
        query += " WHERE account_id = %s"
        params.append(account_id)
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def account_id(url: str, name: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id FROM accounts WHERE name = %s", [name]).fetchone()[0]


def assert_one_contact_created(results: list[tuple[int, Any]]) -> None:
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 200: len(results) - 1}, results
    assert len({body["id"] for _, body in results}) == 1
    assert len({body["created_at"] for _, body in results}) == 1


@pytest.fixture
def key(api) -> str:
    return api.key("acme")


def test_simultaneous_first_writes_of_one_email_create_one_contact(app, key, database_url):
    spell = spellings("race.winner@example.com")
    requests = [(key, {"email": spell(i), "name": f"Racer {i}"}) for i in range(THREADS)]

    results = race(app, requests)

    assert_one_contact_created(results)
    assert {body["email"].strip().lower() for _, body in results} == {"race.winner@example.com"}
    assert count(database_url, "profiles") == 1
    assert count(database_url, "profile_identifiers") == 1


def test_simultaneous_first_writes_of_one_external_id_create_one_contact(app, key, database_url):
    requests = [
        (key, {"email": f"writer{i}@example.com", "external_id": "crm-race-1", "name": f"W {i}"})
        for i in range(THREADS)
    ]

    results = race(app, requests)

    # The emails are all new, so no request may be refused as an identity conflict: each later
    # writer finds the contact by external_id and makes its email the primary.
    assert_one_contact_created(results)
    assert {body["external_id"] for _, body in results} == {"crm-race-1"}
    # Each response shows the email its own request wrote.
    assert [body["email"] for _, body in results] == [body["email"] for _, body in requests]
    assert count(database_url, "profiles") == 1
    # One external id; every email written stays with the person (the last one primary).
    assert count(database_url, "profile_identifiers") == THREADS + 1


def test_two_accounts_racing_on_one_email_each_get_their_own_contact(api, app, database_url):
    keys = {"acme": api.key("acme"), "globex": api.key("globex")}
    spell = spellings("shared.person@example.com")
    names = [("acme", "globex")[i % 2] for i in range(THREADS)]
    requests = [
        (keys[name], {"email": spell(i), "name": f"{name} {i}"}) for i, name in enumerate(names)
    ]

    results = race(app, requests)

    per_account = {
        name: [result for owner, result in zip(names, results, strict=True) if owner == name]
        for name in keys
    }
    for name, account_results in per_account.items():
        assert len(account_results) == THREADS // 2, name
        assert_one_contact_created(account_results)
        owner = account_id(database_url, name)
        assert count(database_url, "profiles", owner) == 1
        assert count(database_url, "profile_identifiers", owner) == 1
    acme_id = per_account["acme"][0][1]["id"]
    globex_id = per_account["globex"][0][1]["id"]
    assert acme_id != globex_id
    assert count(database_url, "profiles") == 2
