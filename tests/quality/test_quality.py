"""Identity-resolution quality: precision and recall of the automatic merges.

A generated, labelled population (``generate.py``; ``QUALITY_PEOPLE`` people, 2,000 by default,
10,000 in ``make quality``) is pushed record by record through both APIs over HTTP, in its
arrival order. The partition the service ends with (every record's response id, followed
through ``profiles.merged_into`` to the live profile) is compared with the ground truth, pair
by pair:

* precision: of all pairs of records the service put in one profile, the share that are one
  person;
* recall among the duplicates the rules can see: pairs of records of one person that share a
  normalized non-placeholder email or external id, or a phone with names at or above the
  threshold -- decided from the generated data with ``app.identity``'s own normalization and
  name similarity, never from the service's output;
* recall over all duplicates, including those no rule can see (only a name in common, a
  missing name on the phone, a placeholder): reported, not asserted.

Two people who share neither an email, a phone nor an external id must never end up merged.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from itertools import combinations

import psycopg
import pytest

from flask import Flask

from app import identity
from app.identity import Kind, Placeholders
from tests.quality.generate import DEFAULT_SEED, Dataset, Record, generate
from tests.support import accounts

PEOPLE = int(os.environ.get("QUALITY_PEOPLE", "2000"))
SEED = int(os.environ.get("QUALITY_SEED", str(DEFAULT_SEED)))
# The targets: precision 0.999, visible recall 0.9998 at 10,000 people (one miss in
# the 1,261 visible pairs of the 2,000-people run is 0.9992: that run asserts 0.999).
MIN_PRECISION = 0.999
MIN_VISIBLE_RECALL = 0.999
SHOWN = 10  # failing cases listed when a target is missed
PARTNER = "/api/v1/partner/contacts"
CUSTOMERS = "/v1/customers"


@pytest.fixture
def quality_app(make_app) -> Flask:
    """The test app with the rate limits out of the way (thousands of writes a minute)."""
    return make_app(
        RATE_LIMIT_PARTNER_API="10000000 per minute",
        RATE_LIMIT_CUSTOMERS_API="10000000 per minute",
    )


def builtin_placeholders() -> Placeholders:
    text = resources.files("app.identity").joinpath("placeholders.json").read_text("utf-8")
    return Placeholders.from_mappings([json.loads(text)])


@dataclass(frozen=True)
class Keys:
    """A record's normalized identifiers (``None``: absent or a placeholder)."""

    email: str | None
    phone: str | None
    external_id: str | None

    def all(self) -> set[tuple[str, str]]:
        pairs = (("email", self.email), ("phone", self.phone), ("external_id", self.external_id))
        return {(kind, norm) for kind, norm in pairs if norm is not None}


def keys_of(record: Record, region: str, placeholders: Placeholders) -> Keys:
    def norm(kind: Kind, value: str | None) -> str | None:
        if value is None:
            return None
        return identity.identifier(kind, value, region=region, placeholders=placeholders).norm

    return Keys(
        email=norm(Kind.EMAIL, record.email),
        phone=norm(Kind.PHONE, record.phone),
        external_id=norm(Kind.EXTERNAL_ID, record.user_id),
    )


def visible_by(a: Record, ka: Keys, b: Record, kb: Keys, threshold: float) -> str | None:
    """The rule that can see that ``a`` and ``b`` are one person, if any."""
    if ka.external_id is not None and ka.external_id == kb.external_id:
        return "external_id"
    if ka.email is not None and ka.email == kb.email:
        return "email"
    if ka.phone is not None and ka.phone == kb.phone:
        if identity.name_similarity(a.name, b.name) >= threshold:
            return "phone_name"
    return None


def hidden_by(a: Record, ka: Keys, b: Record, kb: Keys) -> str:
    """Why no rule can see that ``a`` and ``b`` are one person (for the report)."""
    if ka.phone is not None and ka.phone == kb.phone:
        if a.name is None or b.name is None:
            return "same phone, a name missing"
        return "same phone, names below the threshold"
    if "elsewhere" in a.variants + b.variants:
        return "only the name in common"
    labels = {v for v in a.variants + b.variants if v in ("email:placeholder", "phone:placeholder")}
    if labels:
        return "a placeholder instead of the shared value"
    return "no identifier in common (e.g. email only vs phone only)"


def linked_pairs(records: list[Record], links: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Pairs of ``records`` joined by a chain of visible links (``links``: ordered id pairs)."""
    group = {r.id: r.id for r in records}

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for a, b in links:
        group[root(a)] = root(b)
    return {(a.id, b.id) for a, b in combinations(records, 2) if root(a.id) == root(b.id)}


@dataclass
class Measure:
    records: int = 0
    people: int = 0
    same_person_pairs: int = 0
    visible_pairs: int = 0
    merged_pairs: int = 0
    correct_pairs: int = 0
    visible_found: int = 0
    linked_pairs: int = 0
    linked_found: int = 0
    hidden: Counter = field(default_factory=Counter)
    households: int = 0
    households_merged: int = 0
    missed_by_rule: Counter = field(default_factory=Counter)
    visible_by_rule: Counter = field(default_factory=Counter)
    missed: list[tuple[str, Record, Record]] = field(default_factory=list)
    false_clusters: list[tuple[int, list[Record]]] = field(default_factory=list)
    unsupported: list[tuple[int, int, list[Record]]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.merged_pairs if self.merged_pairs else 1.0

    @property
    def visible_recall(self) -> float:
        return self.visible_found / self.visible_pairs if self.visible_pairs else 1.0

    @property
    def linked_recall(self) -> float:
        return self.linked_found / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.same_person_pairs if self.same_person_pairs else 1.0


def measure(
    data: Dataset,
    profile_of: dict[int, int],
    keys: dict[int, Keys],
    threshold: float,
) -> Measure:
    """Pairwise precision and recall of the partition ``profile_of`` (record id -> profile)."""
    m = Measure(records=len(profile_of), people=len({r.person for r in data.records}))
    by_person: dict[int, list[Record]] = defaultdict(list)
    by_profile: dict[int, list[Record]] = defaultdict(list)
    for record in data.records:
        if record.id in profile_of:
            by_person[record.person].append(record)
            by_profile[profile_of[record.id]].append(record)

    for records in by_person.values():
        links = set()
        for a, b in combinations(records, 2):
            m.same_person_pairs += 1
            rule = visible_by(a, keys[a.id], b, keys[b.id], threshold)
            if rule is None:
                m.hidden[hidden_by(a, keys[a.id], b, keys[b.id])] += 1
                continue
            links.add((a.id, b.id))
            m.visible_pairs += 1
            m.visible_by_rule[rule] += 1
            if profile_of[a.id] == profile_of[b.id]:
                m.visible_found += 1
            else:
                m.missed_by_rule[rule] += 1
                m.missed.append((rule, a, b))
        for a, b in linked_pairs(records, links):
            m.linked_pairs += 1
            m.linked_found += profile_of[a] == profile_of[b]

    person_keys: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for record in data.records:
        person_keys[record.person] |= keys[record.id].all()
    for records in by_profile.values():
        size = len(records)
        m.merged_pairs += size * (size - 1) // 2
        per_person = Counter(r.person for r in records)
        correct = sum(n * (n - 1) // 2 for n in per_person.values())
        m.correct_pairs += correct
        if len(per_person) > 1:
            m.false_clusters.append((size * (size - 1) // 2 - correct, records))
            for p, q in combinations(sorted(per_person), 2):
                if not person_keys[p] & person_keys[q]:
                    m.unsupported.append((p, q, records))
    m.false_clusters.sort(key=lambda item: -item[0])

    for person in data.people:
        if person.household is not None:
            m.households += 1
            mine = {profile_of[r.id] for r in by_person[person.id]}
            theirs = {profile_of[r.id] for r in by_person[person.household]}
            m.households_merged += bool(mine & theirs)
    return m


def show_records(records: list[Record], keys: dict[int, Keys]) -> str:
    return "\n".join(
        f"      {r.describe()} {r.variants} -> {sorted(keys[r.id].all())}" for r in records
    )


def report(m: Measure, data: Dataset, timings: dict[str, float], requests: int) -> str:
    push = timings["push"]
    lines = [
        f"identity quality (seed {data.seed}): {m.people} people, {m.records} records, "
        f"{m.same_person_pairs} same-person pairs, {m.visible_pairs} of them visible to the "
        f"rules ({dict(m.visible_by_rule)})",
        f"  precision {m.precision:.4f} ({m.correct_pairs}/{m.merged_pairs} merged pairs correct,"
        f" {len(m.false_clusters)} profiles mixing people)",
        f"  recall among rule-visible duplicates {m.visible_recall:.4f} "
        f"({m.visible_found}/{m.visible_pairs}; missed by rule {dict(m.missed_by_rule)})",
        f"  recall among duplicates linked through the person's other records (a chain of "
        f"visible pairs; found only in a favourable order) {m.linked_recall:.4f} "
        f"({m.linked_found}/{m.linked_pairs})",
        f"  recall over all duplicates {m.recall:.4f} ({m.correct_pairs}/{m.same_person_pairs})",
        "  duplicates no rule can see: "
        + "; ".join(f"{n} {cause}" for cause, n in m.hidden.most_common()),
        f"  households (two people, one phone, one last name) merged by phone + name: "
        f"{m.households_merged} of {m.households}",
        f"  false merges of people sharing no email, phone or external id: {len(m.unsupported)}",
        f"  time: generate {timings['generate']:.1f}s, push {push:.1f}s ({requests} requests, "
        f"{1000 * push / max(requests, 1):.1f} ms each), read back and measure "
        f"{timings['measure']:.1f}s, total {sum(timings.values()):.1f}s",
    ]
    return "\n".join(lines)


def failing_cases(m: Measure, data: Dataset, keys: dict[int, Keys]) -> str:
    lines = []
    if m.false_clusters:
        lines.append(f"  worst false merges (of {len(m.false_clusters)}):")
        for wrong, records in m.false_clusters[:SHOWN]:
            people = sorted({r.person for r in records})
            scores = ", ".join(
                f"{data.people[p].name!r} ~ {data.people[q].name!r} "
                f"{identity.name_similarity(data.people[p].name, data.people[q].name):.1f}"
                for p, q in combinations(people, 2)
            )
            lines.append(f"    a profile with {wrong} wrong pairs ({scores}):")
            lines.append(show_records(records, keys))
    if m.missed:
        order = {"external_id": 0, "email": 1, "phone_name": 2}
        lines.append(f"  missed rule-visible pairs (of {len(m.missed)}):")
        for rule, a, b in sorted(m.missed, key=lambda item: order[item[0]])[:SHOWN]:
            score = identity.name_similarity(a.name, b.name)
            lines.append(f"    by {rule} (names {score:.1f}):")
            lines.append(show_records([a, b], keys))
    return "\n".join(lines)


def test_automatic_merges_are_precise_and_find_what_the_rules_can_see(
    quality_app: Flask, clean_db: str, record_property, capsys
) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()
    data = generate(PEOPLE, SEED)
    timings["generate"] = time.monotonic() - started

    with quality_app.app_context():
        account, key = accounts.create_account("quality")
    headers = {"x-api-key": key}
    client = quality_app.test_client()
    returned: dict[int, int | str] = {}
    refused = []
    started = time.monotonic()
    for record in data.records:
        if record.api == "partner":
            response = client.post(PARTNER, json=record.partner_body(), headers=headers)
        else:
            response = client.post(CUSTOMERS, json=record.customer_body(), headers=headers)
        if response.status_code in (200, 201):
            returned[record.id] = response.get_json()["id"]
        else:
            refused.append(f"{record.describe()} -> {response.status_code} {response.get_json()}")
    timings["push"] = time.monotonic() - started

    started = time.monotonic()
    with psycopg.connect(clean_db) as conn:
        rows = conn.execute(
            "SELECT id, contact_id::text, coalesce(merged_into, id) FROM profiles "
            "WHERE account_id = %s",
            [account.id],
        ).fetchall()
    live_by_id = {pid: live for pid, _, live in rows}
    live_by_contact = {contact: live for _, contact, live in rows}
    profile_of = {
        rid: live_by_id[some] if isinstance(some, int) else live_by_contact[some]
        for rid, some in returned.items()
    }
    config = quality_app.config
    threshold = float(config["NAME_MATCH_THRESHOLD"])
    placeholders = builtin_placeholders()
    keys = {r.id: keys_of(r, config["DEFAULT_PHONE_REGION"], placeholders) for r in data.records}
    m = measure(data, profile_of, keys, threshold)
    timings["measure"] = time.monotonic() - started

    summary = report(m, data, timings, len(data.records))
    details = failing_cases(m, data, keys)
    with capsys.disabled():  # the figures belong in every run's output, not only with -s
        print("\n" + summary)
        print(details)
    for name, value in (
        ("quality_people", m.people),
        ("quality_records", m.records),
        ("quality_precision", round(m.precision, 4)),
        ("quality_recall_rule_visible", round(m.visible_recall, 4)),
        ("quality_recall_all", round(m.recall, 4)),
        ("quality_same_person_pairs", m.same_person_pairs),
        ("quality_visible_pairs", m.visible_pairs),
        ("quality_merged_pairs", m.merged_pairs),
        ("quality_seconds", round(sum(timings.values()), 1)),
    ):
        record_property(name, value)

    # The service resolves ids the way the database says: spot-check through the API.
    for rid in list(returned)[:: max(1, len(returned) // 50)]:
        some = returned[rid]
        if isinstance(some, int):
            response = client.get(f"{CUSTOMERS}/{some}", headers=headers)
            assert response.status_code == 200
            assert response.get_json()["id"] == profile_of[rid]

    assert refused == [], f"{len(refused)} writes refused:\n" + "\n".join(refused[:SHOWN])
    unsupported = [
        f"people {p} and {q}:\n{show_records(records, keys)}" for p, q, records in m.unsupported
    ]
    assert unsupported == [], "merged people who share no identifier:\n" + "\n".join(
        unsupported[:SHOWN]
    )
    assert m.precision >= MIN_PRECISION, summary + "\n" + details
    assert m.visible_recall >= MIN_VISIBLE_RECALL, summary + "\n" + details
