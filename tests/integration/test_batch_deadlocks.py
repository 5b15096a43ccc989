"""Overlapping batches never deadlock: every lock is taken in one global order.

Four threads, each with its own test client (and so its own pooled connection), send 10-item
batches in rounds started by a barrier. In one scenario the batches name overlapping customers
in different orders and give them each other's emails, so that they merge each other's
customers; in the other they share no customer and meet only on tags and custom attributes.
Either way the items carry the same tags (spelled and colored differently, in different
orders, some new in the round) and the same new custom attributes (defined on first use, in
different orders). PostgreSQL resolves a deadlock by aborting one transaction after
`deadlock_timeout` (a second) and the service retries it invisibly, so the test counts
deadlocks where they leave a trace: the database's own counter (`pg_stat_database.deadlocks`)
and the service's "retrying transaction after DeadlockDetected" log records. Both must stay at
zero, every batch must answer 200, and the final state must be consistent.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from flask import Flask

from tests.support import accounts

# Races between real threads: run with the machine to itself (make test's serial part).
pytestmark = pytest.mark.alone

THREADS = 4
ROUNDS = 6
ITEMS = 10
SEED = int(os.environ.get("BATCH_DEADLOCK_SEED", "20240914"))
DEADLINE = 120
URL = "/v1/customers"
# Tags every round uses (so they get recolored) and tags new in each round (so batches race to
# create them); spellings differ only in case, which must not change the lock order.
SHARED_TAGS = ["alpha", "Beta", "gamma", "delta", "Epsilon"]
COLORS = ["#ff0000", "#00ff00", "#0000ff", "#123456", "#abcdef"]
DEFAULT_COLOR = "#c377e0"


def round_tags(r: int) -> list[str]:
    return [f"round{r}-tag{i}" for i in range(4)]


def round_attributes(r: int) -> list[str]:
    """New each round, typed by suffix: defined by whichever batch uses them first."""
    return [f"r{r}k{i}Str" for i in range(3)] + [f"r{r}n{i}Num" for i in range(2)]


def round_emails(r: int) -> list[str]:
    """Few, so several items of concurrent batches give one email to different customers."""
    return [f"shared{r}.{i}@example.org" for i in range(3)]


@dataclass
class Call:
    body: list[dict[str, Any]]
    status: int = 0
    answer: Any = None


@dataclass(frozen=True)
class Scenario:
    """Thread t names ``ITEMS`` customers of the round from ``stride * t`` on, shuffled."""

    stride: int
    # Items give emails of other batches' customers (and a few shared ones): batches merge
    # each other's customers. Then every round has customers of its own, so that merges do
    # not pile everything up into a few people.
    merging: bool

    @property
    def per_round(self) -> int:
        return self.stride * (THREADS - 1) + ITEMS


SCENARIOS = {
    # Neighbours share 6 customers, threads two apart 2, the outer two none.
    "overlapping customers, merging": Scenario(stride=4, merging=True),
    # No customer in common: the batches run side by side and meet on tags and attributes.
    "disjoint customers, shared tags": Scenario(stride=ITEMS, merging=False),
}


def spell(rng: random.Random, name: str) -> str:
    return rng.choice((name, name.upper(), name.lower(), name.title()))


def plan_item(
    rng: random.Random, r: int, customer: int, thread: int, emails: list[str]
) -> dict[str, Any]:
    names = rng.sample(SHARED_TAGS + round_tags(r), 4)  # sample order is random
    item: dict[str, Any] = {
        "customer": customer,
        "name": f"Customer {customer}",
        "tags": [{"name": spell(rng, n), "color": rng.choice(COLORS)} for n in names],
        "customData": [
            {"property": p, "value": f"t{thread}" if p.endswith("Str") else thread}
            for p in rng.sample(round_attributes(r), 3)
        ],
    }
    if emails and rng.random() < 0.4:
        item["email"] = rng.choice(emails)
    return item


def plan(
    rng: random.Random, scenario: Scenario, seeds: list[list[tuple[int, str]]]
) -> list[list[Call]]:
    """Per round, the batch of each thread."""
    rounds = []
    for r, pool in enumerate(seeds):
        emails = [e for _, e in pool] + round_emails(r) if scenario.merging else []
        calls = []
        for t in range(THREADS):
            start = scenario.stride * t
            named = [customer for customer, _ in pool[start : start + ITEMS]]
            rng.shuffle(named)
            calls.append(Call([plan_item(rng, r, c, t, emails) for c in named]))
        rounds.append(calls)
    return rounds


def query(url: str, sql: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def flush_pool_statistics(app: Flask) -> None:
    """Make every pooled backend publish its pending statistics now (PostgreSQL 15+ flushes
    them lazily; a backend that was aborted by a deadlock counts it in its own pending stats)."""
    pool = app.extensions["db"].pool
    held = [pool.getconn() for _ in range(pool.get_stats().get("pool_size", 0))]
    try:
        for conn in held:
            # Flushed before the server reports ready for the next query, i.e. before
            # execute() returns.
            conn.execute("SELECT pg_stat_force_next_flush()")
    finally:
        for conn in held:
            pool.putconn(conn)


def deadlocks(url: str) -> int:
    """The database's deadlock counter, read in a fresh snapshot."""
    sql = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    return query(url, sql)[0][0]


@pytest.fixture
def batch_app(make_app) -> Flask:
    return make_app(
        DB_POOL_MAX_SIZE=THREADS + 2,
        RATE_LIMIT_CUSTOMERS_API="100000 per minute",
    )


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_overlapping_batches_never_deadlock(
    batch_app: Flask, clean_db: str, caplog: pytest.LogCaptureFixture, scenario: Scenario
) -> None:
    if int(query(clean_db, "SHOW server_version_num")[0][0]) < 150000:
        pytest.skip("pg_stat_force_next_flush() needs PostgreSQL 15")
    caplog.set_level(logging.INFO, logger="app.db")
    with batch_app.app_context():
        key = accounts.create_account("acme")[1]
    headers = {"x-api-key": key}
    setup = batch_app.test_client()
    seeds: list[list[tuple[int, str]]] = []
    for r in range(ROUNDS if scenario.merging else 1):
        seeds.append([])
        for i in range(scenario.per_round):
            email = f"seed{r}.{i}@example.org"
            response = setup.post(
                URL, json={"email": email, "tags": [{"name": "seed"}]}, headers=headers
            )
            assert response.status_code == 201, response.get_json()
            seeds[r].append((response.get_json()["id"], email))
    if not scenario.merging:
        seeds *= ROUNDS
    rounds = plan(random.Random(SEED), scenario, seeds)

    flush_pool_statistics(batch_app)
    deadlocks_before = deadlocks(clean_db)
    caplog.clear()
    barrier = threading.Barrier(THREADS, timeout=DEADLINE)

    def play(thread: int) -> None:
        client = batch_app.test_client()
        for calls in rounds:
            barrier.wait()
            call = calls[thread]
            response = client.put(f"{URL}/batch", json=call.body, headers=headers)
            call.status, call.answer = response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(play, t) for t in range(THREADS)]:
            future.result(timeout=DEADLINE)

    flush_pool_statistics(batch_app)
    detected = deadlocks(clean_db) - deadlocks_before
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    retried = [message for message in retries if "DeadlockDetected" in message]
    calls = [call for calls in rounds for call in calls]
    merges = query(clean_db, "SELECT count(*) FROM merges")[0][0]
    print(
        f"\nbatch deadlocks: {len(calls)} batches of {ITEMS} from {THREADS} threads, "
        f"{merges} merges, {detected} deadlocks in PostgreSQL, {len(retried)} retried "
        f"({len(retries)} retries in all)"
    )

    # Every batch succeeded, and not one of them waited on another in a cycle.
    failed = [(c.status, c.answer) for c in calls if c.status != 200]
    assert failed == []
    # The emails did make batches merge each other's customers (or none were sent).
    assert (merges > 0) == scenario.merging
    assert (detected, len(retried)) == (0, 0)

    # Each answer lists one customer per item, carrying at least the custom data it set
    # (values are only ever set, and merges keep the union).
    for call in calls:
        assert len(call.answer) == ITEMS
        for item, customer in zip(call.body, call.answer, strict=True):
            assert {p["property"] for p in item["customData"]} <= set(customer["customData"])

    # One tag per name, whatever its spelling, with a color that was sent (or the default).
    used = {t["name"].lower() for c in calls for i in c.body for t in i["tags"]} | {"seed"}
    tags = query(clean_db, "SELECT name_norm, color FROM tags")
    assert sorted(n for n, _ in tags) == sorted(used)
    # A batch leaves each of its tags in the last color it gives it, whoever commits last.
    last_colors: dict[str, set[str]] = {"seed": {DEFAULT_COLOR}}
    for call in calls:
        colors = {t["name"].lower(): t["color"] for i in call.body for t in i["tags"]}
        for name, color in colors.items():
            last_colors.setdefault(name, set()).add(color)
    assert [(n, c) for n, c in tags if c not in last_colors[n]] == []
    # Every attribute used was defined once, with the type its suffix names.
    attributes = dict(query(clean_db, "SELECT name, type FROM custom_attributes"))
    expected = {a: ("number" if "Num" in a else "string") for r in range(ROUNDS)
                for a in round_attributes(r)}  # fmt: skip
    assert attributes == expected
    # Tags and identifiers live on live profiles only; each email has exactly one holder.
    on_tombstones = query(
        clean_db,
        "SELECT 'tag', pt.profile_id FROM profile_tags pt JOIN profiles p ON p.id = pt.profile_id "
        "WHERE p.merged_into IS NOT NULL UNION ALL "
        "SELECT 'identifier', i.profile_id FROM profile_identifiers i "
        "JOIN profiles p ON p.id = i.profile_id WHERE p.merged_into IS NOT NULL",
    )
    assert on_tombstones == []
    holders = query(
        clean_db,
        "SELECT value_norm, count(*) FROM profile_identifiers WHERE kind = 'email' "
        "GROUP BY value_norm HAVING count(*) <> 1",
    )
    assert holders == []
