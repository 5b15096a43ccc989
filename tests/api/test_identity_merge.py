"""Merges through the API against the real database: consolidation, survivor choice, sticky
unsubscribe, events moved, mergedIds, merge history with snapshots, the partner contact after a
merge, and erasure of a merged person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_identity import (
    PARTNER,
    URL,
    backdate,
    create,
    events_of,
    link_by_email,
    merged_pair,
    merges,
    read,
    sql_rows,
    upsert,
    write,
)
from tests.support.identity import add_event

JAN_2020 = "2020-01-01T00:00:00Z"  # 1577836800
# Eight tags make a survivor more complete than any profile it is merged with in these tests.
TAGS = [{"name": name} for name in ("vip", "b2b", "newsletter", "t4", "t5", "t6", "t7", "t8")]


def leaves(value: Any) -> set[str]:
    """Every scalar in a JSON document, as text: what a snapshot records, whatever its shape."""
    if isinstance(value, dict):
        return {leaf for v in value.values() for leaf in leaves(v)}
    if isinstance(value, list):
        return {leaf for v in value for leaf in leaves(v)}
    return {str(value)}


# --- consolidation -------------------------------------------------------------------------


def test_consolidation_survivor_values_win_and_empty_ones_are_filled(api):
    survivor = create(
        api,
        {
            "name": "Ann Lee",
            "email": "ann@example.com",
            "company": "Acme",
            "location": {"city": "Lyon"},
            "tags": TAGS,
        },
    )
    gone = create(
        api,
        {
            "name": "Ann L.",
            "email": "al@example.com",
            "company": "Globex",
            "notes": "prefers phone",
            "locale": "fr",
            "source": "https://ads.example.com",
            "location": {"city": "Paris", "countryCode": "FR"},
        },
    )
    body = link_by_email(api, gone["id"], "ann@example.com")
    assert body["id"] == survivor["id"]
    assert (body["name"], body["company"]) == ("Ann Lee", "Acme")  # survivor's values win
    assert (body["notes"], body["locale"], body["source"]) == (
        "prefers phone",
        "fr",
        "https://ads.example.com",
    )  # empty ones filled
    assert body["location"] == {"regionCode": None, "countryCode": "FR", "city": "Lyon"}
    assert read(api, survivor["id"]) == body


def test_consolidation_identifiers_and_tags_are_unioned(api):
    survivor = create(
        api,
        {"name": "Ann Lee", "email": "ann@example.com", "userId": "u-1", "tags": TAGS},
    )
    gone = create(
        api,
        {
            "name": "Ann Lee",
            "email": "al@example.com",
            "userId": "u-2",
            "phone": "4155550130",
            "tags": [{"name": "VIP"}, {"name": "churn-risk"}],
        },
    )
    body = link_by_email(api, gone["id"], "ann@example.com")
    assert body["id"] == survivor["id"]
    assert body["email"] == "ann@example.com" and body["userId"] == "u-1"  # survivor's primaries
    assert body["emails"][0] == "ann@example.com" and set(body["emails"]) == {
        "ann@example.com",
        "al@example.com",
    }
    assert body["userIds"] == ["u-1", "u-2"]
    assert (body["phone"], body["phones"]) == ("4155550130", ["4155550130"])
    expected_tags = sorted([t["name"] for t in TAGS] + ["churn-risk"])
    assert sorted(t["name"] for t in body["tags"]) == expected_tags
    for kind, value in (("email", "al@example.com"), ("userId", "u-2"), ("phone", "4155550130")):
        response = api.get(URL, query_string={kind: value})
        assert [c["id"] for c in response.get_json()["data"]] == [survivor["id"]]


def test_consolidation_custom_data_is_unioned_the_survivor_winning_per_property(api):
    survivor = create(
        api,
        {
            "name": "Ann Lee",
            "email": "ann@example.com",
            "tags": TAGS,
            "customData": [
                {"property": "planStr", "value": "pro"},
                {"property": "vipBool", "value": True},
            ],
        },
    )
    gone = create(
        api,
        {
            "name": "Ann L.",
            "email": "al@example.com",
            "customData": [
                {"property": "planStr", "value": "free"},
                {"property": "seatsNum", "value": 3},
            ],
        },
    )
    body = link_by_email(api, gone["id"], "ann@example.com")
    assert body["id"] == survivor["id"]
    assert body["customData"] == {"planStr": "pro", "vipBool": True, "seatsNum": 3}


@pytest.mark.parametrize("flag", ["unsubscribed", "blocked"])
def test_sticky_unsubscribe_a_merge_never_turns_a_flag_off(api, flag):
    # The survivor (more complete) is subscribed; the profile merged into it is not.
    survivor = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS})
    gone = create(api, {"name": "Ann L.", "email": "al@example.com", flag: True})
    assert survivor[flag] is False
    body = link_by_email(api, gone["id"], "ann@example.com")
    assert body["id"] == survivor["id"]
    assert body[flag] is True


def test_sticky_unsubscribe_holds_when_the_unsubscribed_profile_survives(api):
    survivor = create(
        api, {"name": "Ann Lee", "email": "ann@example.com", "unsubscribed": True, "tags": TAGS}
    )
    gone = create(api, {"name": "Ann L.", "email": "al@example.com", "unsubscribed": False})
    body = link_by_email(api, gone["id"], "ann@example.com")
    assert body["id"] == survivor["id"] and body["unsubscribed"] is True


def test_sticky_unsubscribe_a_resolving_create_never_resubscribes(api):
    ann = create(api, {"email": "ann@example.com", "unsubscribed": True, "blocked": True})
    again = create(
        api, {"email": "ann@example.com", "unsubscribed": False, "blocked": False}, status=200
    )
    assert again["id"] == ann["id"]
    assert (again["unsubscribed"], again["blocked"]) == (True, True)


def test_consolidation_keeps_the_earliest_created_at_and_first_seen_and_latest_last_seen(
    api, database_url
):
    older = create(
        api,
        {
            "name": "Ann L.",
            "email": "al@example.com",
            "firstSeen": "1500000000",
            "lastSeen": "1600000000",
        },
    )
    backdate(database_url, older["id"], JAN_2020)
    survivor = create(
        api,
        {
            "name": "Ann Lee",
            "email": "ann@example.com",
            "tags": TAGS,
            "firstSeen": "1550000000",
            "lastSeen": "1650000000",
        },
    )
    body = link_by_email(api, older["id"], "ann@example.com")
    assert body["id"] == survivor["id"]
    assert body["createdAt"] == "1577836800"
    assert body["firstSeen"] == "1500000000"
    assert body["lastSeen"] == "1650000000"


def test_consolidation_latest_last_seen_may_come_from_the_merged_profile(api):
    survivor = create(
        api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS, "lastSeen": "1600000000"}
    )
    gone = create(api, {"email": "al@example.com", "lastSeen": "1700000000"})
    body = link_by_email(api, gone["id"], "ann@example.com")
    assert body["id"] == survivor["id"] and body["lastSeen"] == "1700000000"


# --- survivor choice -----------------------------------------------------------------------


def test_survivor_is_the_most_complete_profile_even_when_newer(api, database_url):
    sparse = create(api, {"email": "ann@example.com"})
    backdate(database_url, sparse["id"], JAN_2020)
    rich = create(
        api,
        {"name": "Ann Lee", "email": "al@example.com", "company": "Acme", "phone": "4155550131"},
    )
    body = link_by_email(api, sparse["id"], "al@example.com")
    assert body["id"] == rich["id"]
    assert body["mergedIds"] == [sparse["id"]]
    assert api.get(f"{URL}/{sparse['id']}").get_json()["id"] == rich["id"]


def test_survivor_completeness_counts_events(api, database_url):
    older = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    backdate(database_url, older["id"], JAN_2020)
    newer = create(api, {"name": "Ann L.", "email": "al@example.com"})
    add_event(api, newer["id"], "Signed up")
    body = link_by_email(api, older["id"], "al@example.com")
    assert body["id"] == newer["id"]


@pytest.mark.parametrize("named", ["older", "newer"])
def test_survivor_tie_goes_to_the_oldest(api, database_url, named):
    newer = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    older = create(api, {"name": "Ann L.", "email": "al@example.com"})  # same completeness
    backdate(database_url, older["id"], JAN_2020)
    people = {"older": older, "newer": newer}
    other = "newer" if named == "older" else "older"
    body = link_by_email(api, people[named]["id"], people[other]["email"])
    assert body["id"] == older["id"]
    assert body["mergedIds"] == [newer["id"]]


def test_survivor_is_measured_before_the_write(api, database_url):
    # The write fills the named profile with many fields, but it was the sparser one before.
    holder = create(api, {"name": "Ann Lee", "email": "ann@example.com", "company": "Acme"})
    named = create(api, {"email": "al@example.com"})
    backdate(database_url, named["id"], JAN_2020)
    rich_write = {
        "email": "ann@example.com",
        "notes": "n",
        "locale": "fr",
        "source": "https://s.example.com",
        "referer": "https://r.example.com",
        "tags": TAGS,
    }
    body = write(api, "PUT", named["id"], rich_write)
    assert body["id"] == holder["id"]
    assert body["notes"] == "n" and len(body["tags"]) == len(TAGS)


# --- events --------------------------------------------------------------------------------


def test_events_of_every_merged_profile_move_to_the_survivor(api):
    survivor = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS})
    gone = create(api, {"name": "Ann L.", "email": "al@example.com"})
    third = create(api, {"name": "A. Lee", "userId": "u-3"})
    made = [
        add_event(api, survivor["id"], "survivor-1"),
        add_event(api, gone["id"], "gone-1"),
        add_event(api, third["id"], "third-1"),
        add_event(api, gone["id"], "gone-2"),
    ]
    body = create(
        api, {"email": "al@example.com", "userId": "u-3", "phone": "4155550132"}, status=200
    )
    assert body["id"] == gone["id"]  # two events beat one: gone absorbs third
    assert events_of(api, third["id"]) == events_of(api, gone["id"])
    link_by_email(api, gone["id"], "ann@example.com")  # the survivor (tags) absorbs gone
    listed = events_of(api, survivor["id"])
    assert [e["id"] for e in listed] == [e["id"] for e in made][::-1]
    assert {e["customer"] for e in listed} == {survivor["id"]}
    assert read(api, survivor["id"])["mergedIds"] == sorted([gone["id"], third["id"]])


# --- mergedIds -----------------------------------------------------------------------------


def test_merged_ids_show_every_id_absorbed_directly_or_through_earlier_merges(api):
    a = create(api, {"name": "Ann Lee", "email": "a@example.com", "tags": TAGS[:1]})
    b = create(api, {"name": "Ann L.", "email": "b@example.com"})
    assert link_by_email(api, b["id"], "a@example.com")["mergedIds"] == [b["id"]]  # A <- B
    c = create(api, {"name": "Ann Lee", "email": "c@example.com", "userId": "u-c", "tags": TAGS})
    body = link_by_email(api, a["id"], "c@example.com")  # C absorbs A
    assert body["id"] == c["id"]
    assert body["mergedIds"] == sorted([a["id"], b["id"]])
    assert read(api, c["id"])["mergedIds"] == sorted([a["id"], b["id"]])


# --- merge history -------------------------------------------------------------------------


def test_merge_history_entry_has_survivor_merged_rule_identifier_request_id_and_time(api):
    survivor = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS})
    gone = create(api, {"name": "Ann L.", "email": "al@example.com"})
    link_by_email(api, gone["id"], "ann@example.com", request_id="req-merge-0001")
    page = merges(api, survivor["id"])
    assert page["nextCursor"] is None
    [entry] = page["data"]
    assert set(entry) == {
        "id",
        "survivor",
        "merged",
        "rule",
        "score",
        "identifier",
        "requestId",
        "createdAt",
        "undoneAt",
        "undoes",
        "snapshot",
    }
    assert entry["undoneAt"] is None and entry["undoes"] is None
    assert (entry["survivor"], entry["merged"]) == (survivor["id"], gone["id"])
    assert entry["rule"] == "email" and entry["score"] is None
    assert entry["identifier"] == {"kind": "email", "value": "ann@example.com"}
    assert entry["requestId"] == "req-merge-0001"
    assert entry["createdAt"].isdigit()
    assert int(entry["createdAt"]) >= int(gone["createdAt"])


def test_merge_history_request_id_is_the_one_of_the_request_that_caused_it(api):
    survivor = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS})
    gone = create(api, {"name": "Ann L.", "userId": "u-gone"})
    headers = {"X-Request-Id": "partner-call-42"}
    response = api.post(
        PARTNER, json={"email": "ann@example.com", "external_id": "u-gone"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["X-Request-Id"] == "partner-call-42"
    [entry] = merges(api, survivor["id"])["data"]
    assert entry["merged"] == gone["id"]
    assert entry["requestId"] == "partner-call-42"


def test_merge_history_snapshot_holds_the_merged_profile_as_it_was(api):
    survivor = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": TAGS})
    gone = create(
        api,
        {
            "name": "Robert Stone",
            "email": "bob.stone@example.com",
            "userId": "u-bob",
            "phone": "4155550133",
            "company": "Globex",
            "notes": "merged away",
            "tags": [{"name": "bob-only"}],
        },
    )
    add_event(api, gone["id"], "bob's event")
    link_by_email(api, gone["id"], "ann@example.com")
    [entry] = merges(api, survivor["id"])["data"]
    recorded = leaves(entry["snapshot"])
    # The row as it was (the merge later changed it into a tombstone)...
    assert {"Robert Stone", "Globex", "merged away", gone["contactId"]} <= recorded
    # ...its tags...
    assert "bob-only" in recorded
    # ...and its identifiers (email, external id, phone), which the merge moved away.
    assert {"bob.stone@example.com", "u-bob", "4155550133"} <= recorded


def test_merge_history_records_the_merged_profiles_own_rule_not_the_survivors(api):
    # The write carries the survivor's email and a phone whose holder has the same name: the
    # holder was matched by phone + name, never by that email.
    survivor = create(api, {"name": "Jane Doe", "email": "jane@example.com", "tags": TAGS})
    by_phone = create(api, {"name": "Jane Doe", "phone": "4155550134"})
    body = create(
        api, {"name": "Jane Doe", "email": "jane@example.com", "phone": "4155550134"}, status=200
    )
    assert body["id"] == survivor["id"] and body["mergedIds"] == [by_phone["id"]]
    [entry] = merges(api, survivor["id"])["data"]
    assert entry["merged"] == by_phone["id"]
    assert entry["rule"] == "phone_name"
    assert entry["score"] == 100.0
    assert entry["identifier"]["kind"] == "phone"


def test_merge_history_is_newest_first_and_keyset_paginated(api):
    hub = create(api, {"name": "Ann Lee", "email": "hub@example.com", "tags": TAGS})
    absorbed = []
    for i in range(5):
        other = create(api, {"name": f"Other {i}", "email": f"o{i}@example.com"})
        link_by_email(api, other["id"], "hub@example.com", request_id=f"req-{i}")
        absorbed.append(other["id"])
    whole = merges(api, hub["id"])["data"]
    assert [m["merged"] for m in whole] == absorbed[::-1]
    assert [m["requestId"] for m in whole] == [f"req-{i}" for i in range(5)][::-1]
    assert [m["createdAt"] for m in whole] == sorted((m["createdAt"] for m in whole), reverse=True)

    pages, after = [], None
    while True:
        query = {"limit": 2, **({"after": after} if after else {})}
        page = merges(api, hub["id"], **query)
        pages.append(page["data"])
        after = page["nextCursor"]
        if after is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [m for p in pages for m in p] == whole


def test_merge_history_of_a_chain_belongs_to_the_final_survivor(api):
    a = create(api, {"name": "Ann Lee", "email": "a@example.com", "tags": TAGS[:1]})
    b = create(api, {"name": "Ann L.", "email": "b@example.com"})
    link_by_email(api, b["id"], "a@example.com", request_id="first")
    c = create(api, {"name": "Ann Lee", "email": "c@example.com", "userId": "u-c", "tags": TAGS})
    link_by_email(api, a["id"], "c@example.com", request_id="second")
    history = merges(api, c["id"])["data"]
    assert [(m["survivor"], m["merged"], m["requestId"]) for m in history] == [
        (c["id"], a["id"], "second"),
        (a["id"], b["id"], "first"),
    ]
    for old in (a, b):  # a merged-away id shows its survivor's history
        assert merges(api, old["id"])["data"] == history


# --- the partner contact after a merge -----------------------------------------------------


def test_partner_contact_after_a_merge_shows_the_survivors_uuid_and_the_earliest_created_at(
    api, database_url
):
    older = upsert(api, {"email": "ann@example.com", "name": "Ann Lee"}, status=201)
    [older_customer] = api.get(URL, query_string={"email": "ann@example.com"}).get_json()["data"]
    backdate(database_url, older_customer["id"], JAN_2020)
    survivor = create(
        api, {"name": "Ann Lee", "email": "al@example.com", "userId": "crm-9", "tags": TAGS}
    )
    response = api.post(PARTNER, json={"email": "ann@example.com", "external_id": "crm-9"})
    assert response.status_code == 200, response.get_json()
    contact = response.get_json()
    assert contact["id"] == survivor["contactId"]
    assert contact["created_at"] == "2020-01-01T00:00:00.000Z"
    assert contact["email"] == "ann@example.com"  # the upsert's email is the primary
    assert contact["external_id"] == "crm-9"
    for uuid in (older["id"], survivor["contactId"]):
        assert api.get(f"{PARTNER}/{uuid}").get_json() == contact


# --- erasure -------------------------------------------------------------------------------


def person_rows(url: str, profile_ids: list[int]) -> dict[str, int]:
    """Rows anywhere that belong to these profile ids."""
    queries = {
        "profiles": "SELECT count(*) FROM profiles WHERE id = ANY(%(ids)s)",
        "profile_identifiers": (
            "SELECT count(*) FROM profile_identifiers WHERE profile_id = ANY(%(ids)s)"
        ),
        "profile_tags": "SELECT count(*) FROM profile_tags WHERE profile_id = ANY(%(ids)s)",
        "events": "SELECT count(*) FROM events WHERE profile_id = ANY(%(ids)s)",
        "merges": (
            "SELECT count(*) FROM merges WHERE person_id = ANY(%(ids)s)"
            " OR survivor_id = ANY(%(ids)s) OR merged_id = ANY(%(ids)s)"
        ),
    }
    return {
        table: sql_rows(url, query, {"ids": profile_ids})[0][0] for table, query in queries.items()
    }


def test_erasure_of_a_merged_person_through_a_tombstone_removes_everything(api, database_url):
    a = create(api, {"name": "Ann Lee", "email": "a@example.com", "tags": TAGS[:1]})
    b = create(api, {"name": "Ann L.", "email": "b@example.com", "phone": "4155550135"})
    add_event(api, a["id"], "a-event")
    add_event(api, b["id"], "b-event")
    link_by_email(api, b["id"], "a@example.com")
    c = create(api, {"name": "Ann Lee", "email": "c@example.com", "userId": "u-c", "tags": TAGS})
    add_event(api, c["id"], "c-event")
    link_by_email(api, a["id"], "c@example.com")
    bystander = create(api, {"name": "Bob Stone", "email": "bob@example.com"})
    add_event(api, bystander["id"], "bob-event")
    everyone = [a["id"], b["id"], c["id"]]
    assert person_rows(database_url, everyone)["merges"] == 2

    response = api.request("DELETE", f"{URL}/{b['id']}")  # the oldest tombstone
    assert response.status_code == 200
    assert response.get_json() == "Ok"

    assert person_rows(database_url, everyone) == dict.fromkeys(
        ("profiles", "profile_identifiers", "profile_tags", "events", "merges"), 0
    )
    for gone in everyone:
        assert api.get(f"{URL}/{gone}").status_code == 404
    for uuid in (a["contactId"], b["contactId"], c["contactId"]):
        assert api.get(f"{PARTNER}/{uuid}").status_code == 404
    # The same address later is a new person; others are untouched.
    assert create(api, {"email": "b@example.com"}, status=201)["mergedIds"] == []
    assert read(api, bystander["id"])["email"] == "bob@example.com"
    assert [e["name"] for e in events_of(api, bystander["id"])] == ["bob-event"]


def test_erasure_through_the_survivor_id_removes_the_tombstones_too(api, database_url):
    survivor, gone = merged_pair(api)
    response = api.request("DELETE", f"{URL}/{survivor['id']}")
    assert response.status_code == 200
    assert person_rows(database_url, [survivor["id"], gone["id"]]) == dict.fromkeys(
        ("profiles", "profile_identifiers", "profile_tags", "events", "merges"), 0
    )
    assert api.get(f"{URL}/{gone['id']}").status_code == 404
