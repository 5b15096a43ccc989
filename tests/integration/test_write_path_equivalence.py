"""A batch is its items applied one after the other: a differential, property-style test.

For a seeded random list of 1..10 batch items, ``PUT /v1/customers/batch`` in one account must
leave the same people as ``PUT /v1/customers/{id}`` of each item, in order, in another account
seeded identically (accounts are isolated tenants, so the two runs share a database but cannot
see each other). The items mix what makes the set-based write path (app/services/writes.py)
flush and look again: one customer named two or three times, emails / userIds / phones set to
values other customers hold (merges by email, external id and phone + name), to new values and
to null, names that make or break a phone + name match, tags (exact lists, empty, null,
recolors), custom data (set, removed, cleared), flags set and cleared, and merged-away ids
named after the merge.

Compared, with ids mapped between the accounts by creation order:
- every seeded id's final state (``GET``: status and body minus ids, uuids and timestamps);
- every seeded id's merge history (rule, survivor, merged, score, identifier, and the snapshot
  of the merged profile);
- the batch's answer, item by item: an item whose person a later item names again against the
  one-by-one answer to that item; every other item against the final state of its person.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import psycopg
import pytest

URL = "/v1/customers"
BATCH = f"{URL}/batch"
# Another range to explore with, e.g. WRITE_PATH_SEEDS=60:1000 (the suite runs 0:60).
SEEDS = range(*map(int, os.environ.get("WRITE_PATH_SEEDS", "0:60").split(":")))
ACCOUNTS = ("batch", "serial")

# Four digits of a US number: every seeded phone is +1 415 555 01xx. Each write spells it in
# one of several formats, all the same E.164 number.
PHONE_FORMATS = ("+1 415 555 {}", "(415) 555-{}", "415-555-{}", "+1415555{}")
# The seeded customers. Phones are shared only between dissimilar names (Jane / John Doe: 75,
# Bob / Robert Smith: 76), so that no create resolves to an earlier one; writes that rename
# or re-phone them can then merge them by phone + name (Jane Doe / Jane Do: 93).
PEOPLE: list[dict[str, Any]] = [
    {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "userId": "u-jane",
        "phone": "0142",
        "company": "Acme",
        "tags": [{"name": "vip", "color": "#ff0000"}],
        "customData": [{"property": "planStr", "value": "gold"}],
    },
    {
        "name": "John Doe",
        "email": "john@example.com",
        "userId": "u-john",
        "phone": "0142",
        "tags": [{"name": "b2b"}],
    },
    {
        "name": "Jane Do",
        "email": "jd@example.com",
        "phone": "0143",
        "notes": "called",
        "customData": [{"property": "visitsNum", "value": 3}],
    },
    {
        "name": "Bob Smith",
        "email": "bob@example.com",
        "userId": "u-bob",
        "phone": "0144",
        "location": {"city": "Lyon"},
    },
    {
        "name": "Robert Smith",
        "email": "robert@example.com",
        "phone": "0144",
        "tags": [{"name": "Lead", "color": "#00ff00"}],
    },
    {
        "email": "noname@example.com",
        "phone": "0145",
        "customData": [{"property": "vipBool", "value": True}],
    },
    {
        "name": "Alice Wong",
        "userId": "u-alice",
        "phone": "0146",
        "unsubscribed": True,
        "tags": [{"name": "vip"}, {"name": "newsletter"}],
    },
    {"name": "Alicia Wong", "email": "alicia@example.com", "phone": "0147", "blocked": True},
    {"name": "Ann Lee", "email": "ann@example.com", "userId": "u-ann", "company": "Globex"},
]
# Applied after the creates, in both accounts: one person (#5 and #8) is merged before the
# items run, so one seeded id is a tombstone from the start.
SEED_WRITE = (8, {"email": "noname@example.com"})

NAMES = [
    "Jane Doe", "Jane Do", "Janet Doe", "John Doe", "Jon Doe", "Bob Smith", "Rob Smith",
    "Robert Smith", "Alice Wong", "Alicia Wong", "Ann Lee", None,
]  # fmt: skip
NEW_EMAILS = ["new1@example.com", "new2@example.com", "New1@Example.com"]
NEW_USER_IDS = ["n-1", "n-2"]
NEW_PHONES = ["0150", "0151"]
TAG_NAMES = ["vip", "VIP", "b2b", "Lead", "newsletter", "fresh", "Ärger"]
COLORS = [None, None, "#123456", "red", "#ff0000"]
# Typed by suffix or by a value of one JSON type only: a type conflict would be a 422 for the
# whole batch but for one item only when applied one by one (all or nothing, by design).
CUSTOM = {
    "planStr": ["gold", "silver", None],
    "visitsNum": [1, 7, None],
    "vipBool": [True, False, None],
    "plan": ["a", "b", None],
}
# Weighted: identifiers most, since they are what make rounds flush and people merge.
FIELDS = (
    ["email"] * 4 + ["userId"] * 3 + ["phone"] * 4 + ["name"] * 3
    + ["company", "notes", "location", "city", "unsubscribed", "blocked"]
    + ["tags"] * 2 + ["customData"] * 2
)  # fmt: skip


def phone(digits: str, rng: random.Random) -> str:
    return rng.choice(PHONE_FORMATS).format(digits)


def generate(rng: random.Random) -> list[dict[str, Any]]:
    """1..10 items, ``customer`` as an index into PEOPLE (mapped to each account's ids)."""
    items: list[dict[str, Any]] = []
    victims: list[int] = []  # people whose identifiers an earlier item took: merged, likely
    for _ in range(rng.randint(1, 10)):
        roll = rng.random()
        if items and roll < 0.3:
            customer = rng.choice(items)["customer"]  # the same customer again
        elif victims and roll < 0.55:
            customer = rng.choice(victims)  # often a tombstone by now
        else:
            customer = rng.randrange(len(PEOPLE))
        item: dict[str, Any] = {"customer": customer}
        for key in set(rng.sample(FIELDS, rng.randint(1, 4))):
            item.update(field_value(rng, key, customer, victims))
        items.append(item)
    return items


def field_value(rng: random.Random, key: str, customer: int, victims: list[int]) -> dict[str, Any]:
    if key in ("email", "userId", "phone"):
        others = [i for i, p in enumerate(PEOPLE) if i != customer and key in p]
        roll = rng.random()
        if roll < 0.5 and others:
            other = rng.choice(others)
            victims.append(other)
            value = PEOPLE[other][key]
            if key == "email" and rng.random() < 0.3:
                value = value.upper()  # the same email, spelled differently
            elif key == "phone":
                value = phone(value, rng)
            return {key: value}
        if roll < 0.85:
            new = {"email": NEW_EMAILS, "userId": NEW_USER_IDS, "phone": NEW_PHONES}[key]
            value = rng.choice(new)
            return {key: phone(value, rng) if key == "phone" else value}
        return {key: None}
    if key == "name":
        return {"name": rng.choice(NAMES)}
    if key == "company":
        return {"company": rng.choice(["Acme", "Initech", None])}
    if key == "notes":
        return {"notes": rng.choice(["paid", "call back", None])}
    if key == "location":
        return {"location": rng.choice([{"city": "Paris"}, {"countryCode": "FR"}, None])}
    if key == "city":
        return {"city": rng.choice(["Kyiv", "Lyon"])}  # the flat form of location
    if key in ("unsubscribed", "blocked"):
        return {key: rng.choice([True, False, None])}
    if key == "tags":
        roll = rng.random()
        if roll < 0.15:
            return {"tags": None}
        if roll < 0.3:
            return {"tags": []}
        chosen = rng.sample(TAG_NAMES, rng.randint(1, 3))
        tags = []
        for name in chosen:
            color = rng.choice(COLORS)
            tags.append({"name": name} if color is None else {"name": name, "color": color})
        return {"tags": tags}
    assert key == "customData"
    if rng.random() < 0.15:
        return {"customData": None}
    properties = rng.sample(sorted(CUSTOM), rng.randint(1, 2))
    return {"customData": [{"property": p, "value": rng.choice(CUSTOM[p])} for p in properties]}


def seed_account(api, account: str) -> list[int]:
    """The seeded customers' ids, in creation order."""
    ids = []
    for person in PEOPLE:
        body = {**person}
        if "phone" in body:
            body["phone"] = PHONE_FORMATS[len(ids) % len(PHONE_FORMATS)].format(body["phone"])
        response = api.post(URL, json=body, account=account)
        assert response.status_code == 201, (person, response.get_json())
        ids.append(response.get_json()["id"])
    index, body = SEED_WRITE
    response = api.request("PUT", f"{URL}/{ids[index]}", json=body, account=account)
    assert response.status_code == 200, response.get_json()
    return ids


class Ids:
    """One account's ids as indexes into PEOPLE (creation order): comparable across accounts."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self.index = {profile_id: i for i, profile_id in enumerate(ids)}

    def of(self, profile_id: int) -> int | str:
        return self.index.get(profile_id, f"unseeded:{profile_id}")


def tag_set(tags: list[dict[str, str]], *, colors: bool) -> list:
    # Sorted: a customer's tags come in the order of the account's tag ids, and a batch creates
    # all its new tags in one statement, in name order (the one lock order of tag rows, README
    # "Concurrency"), where one by one they are created in item order.
    if colors:
        return sorted((t["name"], t["color"]) for t in tags)
    return sorted(t["name"] for t in tags)


def customer(body: dict[str, Any], ids: Ids, *, colors: bool = True) -> dict[str, Any]:
    """A customer object without what differs between accounts, ids mapped."""
    out = {k: v for k, v in body.items() if k not in ("contactId", "createdAt", "updatedAt")}
    out["id"] = ids.of(body["id"])
    out["mergedIds"] = sorted(map(str, (ids.of(i) for i in body["mergedIds"])))
    out["tags"] = tag_set(body["tags"], colors=colors)
    return out


def snapshot(body: dict[str, Any], ids: Ids) -> dict[str, Any]:
    profile = {
        k: v
        for k, v in body["profile"].items()
        if k not in ("id", "contact_id", "created_at", "updated_at")
    }
    return {
        "profile": profile,
        "identifiers": body["identifiers"],
        # Names only: a batch ensures (and recolors) every item's tags before its first write
        # (tag rows are locked once per transaction, README "Concurrency"), so a profile merged
        # mid-batch shows the colors later items send.
        "tags": tag_set(body["tags"], colors=False),
        "event_ids": body["event_ids"],
    }


def merge_history(api, account: str, profile_id: int, ids: Ids) -> list:
    response = api.get(f"{URL}/{profile_id}/merges?limit=100", account=account)
    assert response.status_code == 200, response.get_json()
    rows = [
        {
            "rule": m["rule"],
            "survivor": ids.of(m["survivor"]),
            "merged": ids.of(m["merged"]),
            "score": None if m["score"] is None else round(m["score"], 6),
            "identifier": m["identifier"],
            "snapshot": snapshot(m["snapshot"], ids),
        }
        for m in response.get_json()["data"]
    ]
    # Sorted: merges are listed by creation time, and those of one batch share its
    # transaction's time (then come by their random ids).
    return sorted(rows, key=lambda m: json.dumps(m, sort_keys=True, default=str))


def final_state(api, account: str, ids: Ids) -> dict[int, Any]:
    state = {}
    for i, profile_id in enumerate(ids.ids):
        response = api.get(f"{URL}/{profile_id}", account=account)
        body = response.get_json()
        state[i] = {
            "status": response.status_code,
            "customer": customer(body, ids) if response.status_code == 200 else body,
            "merges": merge_history(api, account, profile_id, ids),
        }
    return state


def live_profiles(database_url: str, ids: list[int]) -> dict[int, int]:
    """id -> the live profile it stands for now (tombstones point at their survivor)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, coalesce(merged_into, id) FROM profiles WHERE id = ANY(%s)", [ids]
        ).fetchall()
    return dict(rows)


def describe(seed: int, items: list[dict[str, Any]]) -> str:
    return f"seed {seed}, items (customer = index into PEOPLE):\n" + "\n".join(
        json.dumps(item) for item in items
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_equals_its_items_one_by_one(api, database_url, seed):
    items = generate(random.Random(seed))
    context = describe(seed, items)
    ids = {account: Ids(seed_account(api, account)) for account in ACCOUNTS}
    batch_ids, serial_ids = ids["batch"], ids["serial"]

    body = [{**item, "customer": batch_ids.ids[item["customer"]]} for item in items]
    response = api.request("PUT", BATCH, json=body, account="batch")
    assert response.status_code == 200, (context, response.get_json())
    batch_answer = response.get_json()
    assert len(batch_answer) == len(items), context

    answers = []  # one by one: each item's answer
    live_before = []  # per item: seeded id -> the live profile it stood for just before it
    for item in items:
        live_before.append(live_profiles(database_url, serial_ids.ids))
        fields = {k: v for k, v in item.items() if k != "customer"}
        path = f"{URL}/{serial_ids.ids[item['customer']]}"
        response = api.request("PUT", path, json=fields, account="serial")
        assert response.status_code == 200, (context, response.get_json())
        answers.append(response.get_json())

    final = {account: final_state(api, account, ids[account]) for account in ACCOUNTS}
    for i in range(len(PEOPLE)):
        assert final["batch"][i] == final["serial"][i], f"{context}\nseeded customer #{i}"

    for i, item in enumerate(items):
        got = batch_answer[i]
        if named_again(items, answers, live_before, serial_ids, i):
            # As the item left its person. Tag colors aside: the batch ensures (and recolors)
            # every item's tags before its first write (see ``snapshot``).
            want = customer(answers[i], serial_ids, colors=False)
            assert customer(got, batch_ids, colors=False) == want, f"{context}\nitem {i}"
        else:
            want = final["serial"][item["customer"]]["customer"]
            assert customer(got, batch_ids) == want, f"{context}\nitem {i} (final state)"


def named_again(items, answers, live_before, ids: Ids, i: int) -> bool:
    """Whether a later item names item ``i``'s customer again (README "Writing customers").

    By id, as the ids stood at the start of the batch: a later item whose id stood for the
    profile item ``i`` named, or for the profile it landed on (the survivor of a merge it
    caused). Not by person at the later item's turn: an item whose person a later item changes
    through another customer's id (merging it, say) answers with the customer as the batch left
    it, and so does one whose person is then named by that other id: that answer is still the
    final state of its person, compared as such.
    """
    start = live_before[0]
    mine = {start[ids.ids[items[i]["customer"]]], answers[i]["id"]}
    return any(start[ids.ids[later["customer"]]] in mine for later in items[i + 1 :])
