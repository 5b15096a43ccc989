"""Duplicate-suggestion quality on the generated, labelled set (``generate.py``).

The records are pushed through both APIs in their arrival order, as ``test_quality.py`` does;
then every live profile asks ``GET /v1/customers/{id}/duplicates?limit=5``. Measured:

* recall: of the pairs of records of one person that the rules left on two profiles and that
  share some signal, the share whose two profiles appear in the top five suggestions of one
  of them. A signal, decided from the generated data alone (never from the service's output):
  the same normalized phone; emails at most two edits apart or one a known domain typo of the
  other; names sharing a word of two letters or more (folded as a keyboard types them). The
  generator writes no companies or cities, so those signals never occur here;
* precision: of all top-five suggestions, the share that are true (the two profiles hold
  records of one person).

Targets (issue 18): recall at least 0.80, precision at least 0.50.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter, defaultdict
from importlib import resources
from itertools import combinations

import psycopg
import pytest
from rapidfuzz.distance import OSA

from flask import Flask

from app import identity
from app.identity import Kind, Placeholders, blocking
from tests.quality.generate import DEFAULT_SEED, Record, fold, generate
from tests.support import accounts

# Half the automatic-merge test's default, to keep `make test` short; `make quality`: 10,000.
PEOPLE = int(os.environ.get("QUALITY_PEOPLE", "1000"))
SEED = int(os.environ.get("QUALITY_SEED", str(DEFAULT_SEED)))
MIN_RECALL = 0.80
MIN_PRECISION = 0.50
TOP = 5
SHOWN = 8
_WORD = re.compile(r"[a-z0-9]{2,}")


@pytest.fixture
def quality_app(make_app) -> Flask:
    """The test app with the rate limits out of the way (thousands of requests a minute)."""
    return make_app(
        RATE_LIMIT_PARTNER_API="10000000 per minute",
        RATE_LIMIT_CUSTOMERS_API="10000000 per minute",
    )


def placeholders() -> Placeholders:
    text = resources.files("app.identity").joinpath("placeholders.json").read_text("utf-8")
    return Placeholders.from_mappings([json.loads(text)])


def norm(kind: Kind, value: str | None, found: Placeholders) -> str | None:
    if value is None:
        return None
    return identity.identifier(kind, value, region="US", placeholders=found).norm


def signals(a: Record, b: Record, keys: dict[int, tuple[str | None, str | None]]) -> list[str]:
    """What records ``a`` and ``b`` visibly have in common (module docstring)."""
    (email_a, phone_a), (email_b, phone_b) = keys[a.id], keys[b.id]
    found = []
    if phone_a is not None and phone_a == phone_b:
        found.append("phone")
    if email_a and email_b and email_a != email_b:
        if blocking.is_domain_typo(email_a, email_b) or OSA.distance(email_a, email_b) <= 2:
            found.append("email near miss")
    if a.name and b.name:
        words_a = set(_WORD.findall(fold(a.name).lower()))
        if words_a & set(_WORD.findall(fold(b.name).lower())):
            found.append("name")
    return found


def push(app: Flask, data, headers: dict[str, str]) -> dict[int, int | str]:
    client = app.test_client()
    returned: dict[int, int | str] = {}
    for record in data.records:
        if record.api == "partner":
            response = client.post(
                "/api/v1/partner/contacts", json=record.partner_body(), headers=headers
            )
        else:
            response = client.post("/v1/customers", json=record.customer_body(), headers=headers)
        assert response.status_code in (200, 201), (record.describe(), response.get_json())
        returned[record.id] = response.get_json()["id"]
    return returned


def test_suggestions_find_most_unmerged_duplicates_and_are_mostly_true(
    quality_app: Flask, clean_db: str, record_property, capsys
) -> None:
    started = time.monotonic()
    data = generate(PEOPLE, SEED)
    with quality_app.app_context():
        account, key = accounts.create_account("quality")
    headers = {"x-api-key": key}
    returned = push(quality_app, data, headers)
    pushed = time.monotonic()

    with psycopg.connect(clean_db) as conn:
        rows = conn.execute(
            "SELECT id, contact_id::text, coalesce(merged_into, id) FROM profiles"
            " WHERE account_id = %s",
            [account.id],
        ).fetchall()
    live = {pid: to for pid, _, to in rows} | {contact: to for _, contact, to in rows}
    profile_of = {rid: live[some] for rid, some in returned.items()}
    people_of: dict[int, set[int]] = defaultdict(set)
    for record in data.records:
        people_of[profile_of[record.id]].add(record.person)

    client = quality_app.test_client()
    top: dict[int, list[int]] = {}
    for profile in sorted(people_of):
        response = client.get(f"/v1/customers/{profile}/duplicates?limit={TOP}", headers=headers)
        assert response.status_code == 200, response.get_json()
        top[profile] = [d["customer"]["id"] for d in response.get_json()["data"]]
    asked = time.monotonic()

    found_ph = placeholders()
    keys = {
        r.id: (norm(Kind.EMAIL, r.email, found_ph), norm(Kind.PHONE, r.phone, found_ph))
        for r in data.records
    }
    by_person: dict[int, list[Record]] = defaultdict(list)
    for record in data.records:
        by_person[record.person].append(record)
    wanted = found = 0
    by_signal, found_by_signal = Counter(), Counter()
    missed: list[tuple[list[str], Record, Record]] = []
    for records in by_person.values():
        for a, b in combinations(records, 2):
            pa, pb = profile_of[a.id], profile_of[b.id]
            shared = signals(a, b, keys)
            if pa == pb or not shared:
                continue
            wanted += 1
            hit = pb in top[pa] or pa in top[pb]
            found += hit
            for signal in shared:
                by_signal[signal] += 1
                found_by_signal[signal] += hit
            if not hit:
                missed.append((shared, a, b))
    shown = [(p, q) for p, qs in top.items() for q in qs]
    true = sum(1 for p, q in shown if people_of[p] & people_of[q])
    recall = found / wanted if wanted else 1.0
    precision = true / len(shown) if shown else 1.0

    summary = "\n".join(
        [
            f"suggestion quality (seed {data.seed}): {len(data.people)} people, "
            f"{len(data.records)} records, {len(people_of)} live profiles",
            f"  recall {recall:.4f}: {found} of {wanted} unmerged same-person record pairs "
            f"sharing a signal are in a top-{TOP} list; by signal: "
            + ", ".join(f"{s} {found_by_signal[s]}/{n}" for s, n in by_signal.most_common()),
            f"  precision {precision:.4f}: {true} of {len(shown)} top-{TOP} suggestions true "
            f"({sum(1 for v in top.values() if v)} profiles with at least one)",
            f"  time: push {pushed - started:.1f}s, {len(top)} suggestion requests "
            f"{asked - pushed:.1f}s ({1000 * (asked - pushed) / max(len(top), 1):.1f} ms each)",
        ]
    )
    details = "\n".join(
        f"    missed ({', '.join(s)}): {a.describe()} | {b.describe()}"
        for s, a, b in missed[:SHOWN]
    )
    with capsys.disabled():
        print("\n" + summary + ("\n" + details if details else ""))
    record_property("suggestion_recall", round(recall, 4))
    record_property("suggestion_precision", round(precision, 4))
    assert recall >= MIN_RECALL, summary + "\n" + details
    assert precision >= MIN_PRECISION, summary
