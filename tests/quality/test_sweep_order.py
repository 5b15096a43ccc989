"""After a sweep, the same records in any order end in the same partition of people.

Write-time resolution depends on arrival order (only what the record being written matches
directly is merged). The generated population is pushed in several shuffles, one account
each; before the sweep the partitions disagree on some merged pairs, after it they must not.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations

import psycopg
import pytest

from flask import Flask

from app import create_app, migrations
from tests.quality.generate import DEFAULT_SEED, Dataset, generate
from tests.support import accounts

MIN_PRECISION = 0.999  # the automatic merges' target (tests/quality/test_quality.py)
PEOPLE = int(os.environ.get("SWEEP_ORDER_PEOPLE", "800"))
SHUFFLES = int(os.environ.get("SWEEP_ORDER_SHUFFLES", "2"))
PARTNER = "/api/v1/partner/contacts"
CUSTOMERS = "/v1/customers"


def push(app: Flask, data: Dataset, order: list[int], account: str) -> dict[int, int | str]:
    """Every record through its API, in ``order``; record id -> the id it was answered with."""
    with app.app_context():
        _, key = accounts.create_account(account)
    client, headers = app.test_client(), {"x-api-key": key}
    returned: dict[int, int | str] = {}
    for index in order:
        record = data.records[index]
        if record.api == "partner":
            response = client.post(PARTNER, json=record.partner_body(), headers=headers)
        else:
            response = client.post(CUSTOMERS, json=record.customer_body(), headers=headers)
        if response.status_code in (200, 201):
            returned[record.id] = response.get_json()["id"]
    return returned


def partition(url: str, account: str, returned: dict[int, int | str]) -> set[frozenset[int]]:
    """The groups of record ids that ended on one live profile."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT p.id, p.contact_id::text, coalesce(p.merged_into, p.id) FROM profiles p"
            " JOIN accounts a ON a.id = p.account_id WHERE a.name = %s",
            [account],
        ).fetchall()
    live = {pid: person for pid, _, person in rows} | {c: person for _, c, person in rows}
    groups: dict[int, set[int]] = {}
    for record_id, some in returned.items():
        groups.setdefault(live[some], set()).add(record_id)
    return {frozenset(g) for g in groups.values()}


def pairs(groups: set[frozenset[int]]) -> set[tuple[int, int]]:
    return {pair for g in groups for pair in combinations(sorted(g), 2)}


@dataclass
class Runs:
    """Per shuffle: the merged pairs of records before and after the sweep."""

    before: list[set[tuple[int, int]]]
    after: list[set[tuple[int, int]]]
    truth: dict[int, int] = field(default_factory=dict)  # record id -> its person


def disagreement(runs: list[set[tuple[int, int]]]) -> float:
    """The share of pairs merged in some runs but not in all."""
    union = set().union(*runs)
    return (len(union) - len(set.intersection(*runs))) / len(union) if union else 0.0


def precision(merged: set[tuple[int, int]], truth: dict[int, int]) -> float:
    """The share of merged pairs of records that are one person."""
    return sum(truth[a] == truth[b] for a, b in merged) / len(merged) if merged else 1.0


@pytest.fixture(scope="module")
def runs(make_database) -> Iterator[Runs]:
    """The shuffles pushed and swept once for the module, in a database of their own."""
    clean_db = make_database("sweep_order")
    with psycopg.connect(clean_db, autocommit=True) as conn:
        migrations.upgrade(conn)
    app = create_app({"TESTING": True, "DATABASE_URL": clean_db,
                      "RATE_LIMIT_PARTNER_API": "10000000 per minute",
                      "RATE_LIMIT_CUSTOMERS_API": "10000000 per minute"})  # fmt: skip
    data = generate(PEOPLE, DEFAULT_SEED)
    rng = random.Random(5)
    found = Runs([], [])
    for n in range(SHUFFLES):
        order = list(range(len(data.records)))
        rng.shuffle(order)
        account = f"order-{n}"
        returned = push(app, data, order, account)
        found.before.append(pairs(partition(clean_db, account, returned)))
        result = app.test_cli_runner().invoke(args=["identity", "sweep", "--account", account])
        assert result.exit_code == 0, result.output
        found.after.append(pairs(partition(clean_db, account, returned)))
    found.truth = {record.id: record.person for record in data.records}
    print(
        f"\nsweep order: {PEOPLE} people, {len(data.records)} records, {SHUFFLES} shuffles: "
        f"merged pairs disagree {disagreement(found.before):.2%} before the sweep, "
        f"{disagreement(found.after):.2%} after; precision after: "
        + ", ".join(f"{precision(after, found.truth):.4f}" for after in found.after)
        + "; pairs the sweep added: "
        + ", ".join(
            f"{len(after - before)} ({precision(after - before, found.truth):.4f} precise)"
            for before, after in zip(found.before, found.after, strict=True)
        )
    )
    yield found
    app.extensions["db"].close()


def test_after_a_sweep_every_order_ends_in_the_same_partition(runs):
    assert runs.after[1:] == runs.after[:-1]


def test_the_sweep_keeps_the_automatic_merges_precise(runs):
    # Comparing every name (not only the telling ones) is what makes the sweep's rule
    # monotone; it must not cost the precision target of the automatic merges.
    for before, after in zip(runs.before, runs.after, strict=True):
        assert precision(after, runs.truth) >= MIN_PRECISION
        assert precision(after - before, runs.truth) >= MIN_PRECISION  # the sweep's own pairs


def test_the_sweep_narrows_what_orders_disagree_on(runs):
    assert disagreement(runs.after) < disagreement(runs.before)
    for before, after in zip(runs.before, runs.after, strict=True):
        assert before <= after  # the sweep only joins people, never splits them
