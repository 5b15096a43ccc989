"""Identity resolution through both APIs against the real database: the matching rules, what
a write does to identifiers, placeholders, the shared-phone limit and account isolation.

Consolidation, survivorship, merge history and erasure are in test_identity_merge.py; tombstone
resolution through every endpoint in test_identity_tombstones.py. Both import helpers from here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from flask import Flask

from app import create_app

URL = "/v1/customers"
PARTNER = "/api/v1/partner/contacts"
EVENTS = "/v1/events"
SEARCH = "/v1/customers/search"


# --- helpers (shared by the other test_identity_* files) -----------------------------------


def create(api, body: dict | None = None, *, status: int = 201, account: str = "acme") -> dict:
    """POST /v1/customers, asserting the status (201 created, 200 resolved to a person)."""
    response = api.post(URL, json=body or {}, account=account)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def write(
    api,
    method: str,
    customer_id: int,
    body: dict,
    *,
    request_id: str | None = None,
    account: str = "acme",
) -> dict:
    """PUT or PATCH /v1/customers/{id}, expecting 200."""
    headers = {"X-Request-Id": request_id} if request_id else {}
    response = api.request(
        method, f"{URL}/{customer_id}", json=body, headers=headers, account=account
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def read(api, customer_id: int, *, account: str = "acme") -> dict:
    response = api.get(f"{URL}/{customer_id}", account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def upsert(api, body: dict, *, status: int | None = None, account: str = "acme") -> dict:
    """POST /api/v1/partner/contacts (201 created, 200 updated)."""
    response = api.post(PARTNER, json=body, account=account)
    assert response.status_code in ((status,) if status else (200, 201)), response.get_json()
    return response.get_json()


def listed(api, *, account: str = "acme", **query: str) -> list[dict]:
    """GET /v1/customers with exact filters."""
    response = api.get(URL, query_string=query, account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def searched(api, field: str, value: str) -> list[dict]:
    body = {"filter": [{"field": field, "operator": "=", "value": value}]}
    response = api.post(SEARCH, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def ids(customers: list[dict]) -> list[int]:
    return [c["id"] for c in customers]


def merges(api, customer_id: int, *, account: str = "acme", **query: Any) -> dict:
    response = api.get(f"{URL}/{customer_id}/merges", query_string=query, account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def events_of(api, customer_id: int, *, account: str = "acme") -> list[dict]:
    response = api.get(f"{URL}/{customer_id}/events", query_string={"limit": 100}, account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def link_by_email(api, named: int, email: str, **kwargs: Any) -> dict:
    """A PUT on ``named`` setting an email another customer holds: the write that merges."""
    return write(api, "PUT", named, {"email": email}, **kwargs)


def merged_pair(api) -> tuple[dict, dict]:
    """Two customers merged into one: (the survivor, the merged-away one) as they were before.

    The survivor is the more complete one (tags), so the choice does not depend on age.
    """
    survivor = create(
        api,
        {"name": "Ann Lee", "email": "ann@example.com", "tags": [{"name": "vip"}, {"name": "b2b"}]},
    )
    gone = create(api, {"name": "Ann L.", "email": "ann.lee@work.example"})
    body = link_by_email(api, gone["id"], "ANN@example.com")
    assert body["id"] == survivor["id"] and body["mergedIds"] == [gone["id"]]
    return survivor, gone


def sql_rows(url: str, query: str, params: dict | None = None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params or {}).fetchall()


def backdate(url: str, customer_id: int, timestamp: str) -> None:
    """Make a profile older than it is (created_at), so age-based choices are deterministic."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE profiles SET created_at = %s::timestamptz WHERE id = %s",
            (timestamp, customer_id),
        )


# --- rule: identical email -----------------------------------------------------------------


def test_email_rule_identical_emails_in_any_case_merge_profiles_made_through_both_apis(api):
    contact = upsert(api, {"email": "Ann@Example.com", "name": "Ann Lee"}, status=201)
    [partner_made] = listed(api, email="ann@example.com")
    customer = create(api, {"name": "Robert Stone", "userId": "u-bob", "email": "bob@example.com"})
    assert customer["id"] != partner_made["id"]

    body = link_by_email(api, customer["id"], "aNN@EXAMPLE.COM")

    assert {body["id"], *body["mergedIds"]} == {partner_made["id"], customer["id"]}
    assert len(body["mergedIds"]) == 1
    assert read(api, partner_made["id"])["id"] == read(api, customer["id"])["id"] == body["id"]
    assert sorted(e.lower() for e in body["emails"]) == ["ann@example.com", "bob@example.com"]
    assert body["userIds"] == ["u-bob"]
    [entry] = merges(api, body["id"])["data"]
    assert entry["rule"] == "email"
    assert entry["identifier"]["kind"] == "email"
    assert entry["identifier"]["value"].lower() == "ann@example.com"
    assert api.get(f"{PARTNER}/{contact['id']}").get_json()["id"] == body["contactId"]


def test_email_rule_an_identical_email_merges_whatever_the_names(api):
    ann = create(api, {"name": "Ann Lee", "email": "shared@example.com"})
    bob = create(api, {"name": "Robert Stone", "userId": "u-bob"})
    body = write(api, "PATCH", bob["id"], {"email": "Shared@Example.com"})
    assert {body["id"], *body["mergedIds"]} == {ann["id"], bob["id"]}


def test_email_rule_a_create_with_an_email_in_another_case_resolves_to_the_person(api):
    ann = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    again = create(api, {"email": "  ANN@Example.COM "}, status=200)
    assert again["id"] == ann["id"]
    assert again["mergedIds"] == []


def test_external_id_rule_the_same_user_id_merges(api):
    ann = create(api, {"name": "Ann Lee", "userId": "crm-1", "tags": [{"name": "vip"}]})
    other = create(api, {"name": "Someone Else", "email": "x@example.com"})
    body = write(api, "PUT", other["id"], {"userId": "crm-1"})
    assert body["id"] == ann["id"] and body["mergedIds"] == [other["id"]]
    [entry] = merges(api, ann["id"])["data"]
    assert (entry["rule"], entry["identifier"]) == (
        "external_id",
        {"kind": "external_id", "value": "crm-1"},
    )
    assert entry["score"] is None


# --- rule: same phone and similar names ----------------------------------------------------


def test_phone_name_rule_a_create_with_the_phone_and_a_similar_name_resolves_to_the_person(api):
    maria = create(
        api, {"name": "Maria Lopez", "email": "maria@example.com", "phone": "+1 415 555 0101"}
    )
    again = create(
        api,
        {"name": "Marie Lopes", "email": "m.lopes@example.com", "phone": "(415) 555-0101"},
        status=200,
    )
    assert again["id"] == maria["id"]
    assert again["email"] == "m.lopes@example.com"
    assert again["emails"] == ["m.lopes@example.com", "maria@example.com"]
    assert listed(api, phone="4155550101") == [again]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("Anna Smith", "Anne Smyth", id="80.0-at-threshold"),
        pytest.param("Ann Lee", "Anne Lee", id="92.9-above"),
        pytest.param("Maria Lopez", "Marie Lopes", id="80.0-typos-in-both-words"),
        pytest.param("José Álvarez", "jose alvarez", id="accents-and-case"),
        pytest.param("Doe Jane", "Jane Doe", id="token-order"),
    ],
)
def test_phone_name_rule_a_put_setting_the_phone_merges_similar_names(api, first, second):
    holder = create(api, {"name": first, "email": "one@example.com", "phone": "+1 415 555 0102"})
    other = create(api, {"name": second, "email": "two@example.com"})
    body = write(api, "PUT", other["id"], {"phone": "4155550102"})
    assert body["id"] == holder["id"] and body["mergedIds"] == [other["id"]]
    assert sorted(body["emails"]) == ["one@example.com", "two@example.com"]


def test_phone_name_rule_the_merge_records_rule_score_and_phone(api):
    holder = create(api, {"name": "Maria Lopez", "phone": "+1 415 555 0103", "company": "Acme"})
    other = create(api, {"name": "Marie Lopes", "email": "marie@example.com"})
    write(api, "PATCH", other["id"], {"phone": "(415) 555-0103"})
    [entry] = merges(api, holder["id"])["data"]
    assert entry["rule"] == "phone_name"
    assert entry["score"] == pytest.approx(80.0)  # maria/marie 80, lopez/lopes 80 (names.py)
    assert entry["identifier"]["kind"] == "phone"
    assert re.sub(r"\D", "", entry["identifier"]["value"]).endswith("4155550103")


def test_phone_name_rule_names_below_80_do_not_merge(api):
    # Two edits in five-letter words are two names (names.py): 0, far below.
    sophie = create(api, {"name": "Sophie Klein", "phone": "+1 415 555 0104"})
    sofie = create(api, {"name": "Sofie Kline", "phone": "4155550104"})
    assert sofie["id"] != sophie["id"]
    assert sorted(ids(listed(api, phone="+14155550104"))) == sorted([sophie["id"], sofie["id"]])


def test_household_phone_same_phone_with_dissimilar_names_does_not_merge(api):
    jane = create(api, {"name": "Jane Doe", "email": "jane@example.com", "phone": "4155550105"})
    john = create(api, {"name": "John Doe", "email": "john@example.com", "phone": "(415) 555-0105"})
    assert john["id"] != jane["id"]
    moved = write(api, "PUT", john["id"], {"phone": "+1 415 555 0105", "company": "Doe & Co"})
    assert moved["id"] == john["id"] and moved["mergedIds"] == []
    assert read(api, jane["id"])["mergedIds"] == []
    assert merges(api, jane["id"])["data"] == merges(api, john["id"])["data"] == []


def test_phone_name_rule_a_profile_with_no_name_never_matches_by_phone(api):
    nameless = create(api, {"phone": "4155550106"})
    named = create(api, {"name": "Jane Doe", "phone": "4155550106"})
    assert named["id"] != nameless["id"]
    also_nameless = create(api, {"phone": "+1 415 555 0106"})
    assert len({nameless["id"], named["id"], also_nameless["id"]}) == 3


def test_phone_name_rule_a_put_without_a_name_uses_the_profiles_current_name(api):
    holder = create(api, {"name": "Jane Doe", "phone": "4155550107"})
    same_name = create(api, {"name": "Jane  Doe", "email": "jd@example.com"})
    other_name = create(api, {"name": "John Doe", "email": "john@example.com"})
    assert write(api, "PUT", other_name["id"], {"phone": "4155550107"})["mergedIds"] == []
    merged = write(api, "PUT", same_name["id"], {"phone": "4155550107"})
    assert {merged["id"], *merged["mergedIds"]} == {holder["id"], same_name["id"]}


def test_phone_name_rule_a_put_uses_the_name_it_sends(api):
    holder = create(api, {"name": "Jane Doe", "phone": "4155550108"})
    other = create(api, {"name": "Bob Stone", "email": "bob@example.com"})
    merged = write(api, "PUT", other["id"], {"name": "Jane Doe", "phone": "4155550108"})
    assert {merged["id"], *merged["mergedIds"]} == {holder["id"], other["id"]}
    assert merged["name"] == "Jane Doe"


def test_write_by_id_matches_only_on_the_identifiers_it_sets(api):
    jane = create(api, {"name": "Jane Doe", "phone": "4155550109"})
    john = create(api, {"name": "John Doe", "phone": "4155550109"})  # household: two people
    # Renaming John to a name like Jane's sets no identifier: nothing to match, no merge.
    renamed = write(api, "PATCH", john["id"], {"name": "Jane Doe", "company": "Doe & Co"})
    assert renamed["id"] == john["id"] and renamed["mergedIds"] == []
    assert read(api, jane["id"])["mergedIds"] == []


# --- identifiers: arrays, resolution writes, writes by id ----------------------------------


def test_identifier_arrays_list_every_identifier_primary_first(api):
    first = create(api, {"userId": "u-1", "email": "e1@example.com", "phone": "4155550110"})
    create(api, {"userId": "u-1", "email": "e2@example.com", "phone": "4155550111"}, status=200)
    body = create(api, {"email": "e2@example.com", "userId": "u-2"}, status=200)
    assert body["id"] == first["id"]
    assert (body["email"], body["phone"], body["userId"]) == (
        "e2@example.com",
        "4155550111",
        "u-2",
    )
    assert body["emails"] == ["e2@example.com", "e1@example.com"]
    assert body["phones"] == ["4155550111", "4155550110"]
    assert body["userIds"] == ["u-2", "u-1"]
    assert read(api, first["id"]) == body


def test_resolution_write_keeps_the_previous_primary_as_a_secondary_that_still_resolves(api):
    ann = create(api, {"name": "Ann Lee", "userId": "u-ann", "email": "old@example.com"})
    moved = create(api, {"userId": "u-ann", "email": "new@example.com"}, status=200)
    assert moved["id"] == ann["id"]
    assert moved["email"] == "new@example.com"
    assert moved["emails"] == ["new@example.com", "old@example.com"]
    assert ids(listed(api, email="OLD@example.com")) == [ann["id"]]
    assert ids(searched(api, "customers.email", "old@example.com")) == [ann["id"]]
    assert ids(listed(api, email="new@example.com")) == [ann["id"]]
    # Another write naming the old address still finds the person (and promotes it back).
    again = create(api, {"email": "old@example.com", "company": "Acme"}, status=200)
    assert again["id"] == ann["id"]
    assert again["emails"] == ["old@example.com", "new@example.com"]


def test_resolution_write_through_the_partner_api_keeps_the_previous_email_resolving(api):
    first = upsert(api, {"email": "old@example.com", "external_id": "crm-7"}, status=201)
    moved = upsert(api, {"email": "new@example.com", "external_id": "crm-7"}, status=200)
    assert moved["id"] == first["id"] and moved["email"] == "new@example.com"
    [customer] = listed(api, email="old@example.com")
    assert customer["contactId"] == first["id"]
    assert customer["emails"] == ["new@example.com", "old@example.com"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_write_by_id_replaces_the_primary_and_the_old_value_stops_resolving(api, method):
    ann = create(api, {"name": "Ann Lee", "email": "old@example.com", "userId": "u-old"})
    body = write(api, method, ann["id"], {"email": "new@example.com", "userId": "u-new"})
    assert (body["email"], body["emails"]) == ("new@example.com", ["new@example.com"])
    assert (body["userId"], body["userIds"]) == ("u-new", ["u-new"])
    assert listed(api, email="old@example.com") == []
    assert listed(api, userId="u-old") == []
    assert searched(api, "customers.email", "old@example.com") == []
    # They changed address: the old one is free for someone else.
    someone = create(api, {"email": "old@example.com"}, status=201)
    assert someone["id"] != ann["id"]


def test_batch_item_replaces_the_primary_like_a_write_by_id(api):
    ann = create(api, {"name": "Ann Lee", "phone": "4155550112"})
    response = api.request(
        "PUT", f"{URL}/batch", json=[{"customer": ann["id"], "phone": "4155550113"}]
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[0]["phones"] == ["4155550113"]
    assert listed(api, phone="4155550112") == []


def test_write_by_id_promotes_a_value_the_person_already_holds_and_drops_nothing(api):
    ann = create(api, {"userId": "u-ann", "email": "old@example.com"})
    create(api, {"userId": "u-ann", "email": "new@example.com"}, status=200)
    body = write(api, "PUT", ann["id"], {"email": "Old@Example.com"})
    assert body["email"] == "Old@Example.com"
    assert [e.lower() for e in body["emails"]] == ["old@example.com", "new@example.com"]
    assert ids(listed(api, email="new@example.com")) == [ann["id"]]


def test_write_by_id_promotes_a_value_gained_through_the_merge_it_caused(api):
    holder = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": [{"name": "x"}]})
    other = create(api, {"name": "Ann L.", "email": "ann.l@example.com"})
    body = write(api, "PUT", other["id"], {"email": "ann@example.com"})
    assert body["id"] == holder["id"]
    assert body["email"] == "ann@example.com"
    assert sorted(body["emails"]) == ["ann.l@example.com", "ann@example.com"]
    assert ids(listed(api, email="ann.l@example.com")) == [holder["id"]]


def test_null_clears_the_primary_and_secondaries_stay(api):
    ann = create(api, {"userId": "u-ann", "email": "old@example.com"})
    create(api, {"userId": "u-ann", "email": "new@example.com"}, status=200)
    body = write(api, "PATCH", ann["id"], {"email": None})
    assert body["email"] is None
    assert body["emails"] == ["old@example.com"]
    assert ids(listed(api, email="old@example.com")) == [ann["id"]]
    assert listed(api, email="new@example.com") == []
    assert body["userId"] == "u-ann"  # other kinds untouched


# --- placeholders --------------------------------------------------------------------------


def test_placeholder_email_partner_upsert_creates_a_new_contact_each_time(api, database_url):
    body = {"email": "NoEmail@Shop.com", "name": "Walk-in Customer"}
    first = api.post(PARTNER, json=body)
    second = api.post(PARTNER, json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    for response in (first, second):
        assert response.get_json()["email"] == "NoEmail@Shop.com"  # stored as given
    stored = sql_rows(
        database_url,
        "SELECT value, value_norm FROM profile_identifiers WHERE kind = 'email' ORDER BY id",
    )
    assert stored == [("NoEmail@Shop.com", None), ("NoEmail@Shop.com", None)]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"email": "test@test.com"}, id="email-test-at-test"),
        pytest.param({"email": "none@example.org"}, id="email-none-at"),
        pytest.param({"phone": "0000000000"}, id="phone-all-zeros"),
        pytest.param({"phone": "1234567890"}, id="phone-ascending"),
        pytest.param({"userId": "undefined"}, id="user-id-undefined"),
        pytest.param({"userId": "0"}, id="user-id-0"),
    ],
)
def test_placeholder_identifiers_never_merge_two_customers(api, body):
    first = create(api, {"name": "Jane Doe", **body})
    second = create(api, {"name": "Jane Doe", **body}, status=201)
    assert second["id"] != first["id"]
    assert {k: second[k] for k in body} == body  # shown as given
    assert read(api, first["id"])["mergedIds"] == []


def test_placeholder_phone_two_customers_with_0000000000_and_the_same_name_do_not_merge(api):
    first = create(api, {"name": "Jane Doe", "phone": "0000000000"})
    second = create(api, {"name": "Jane Doe", "phone": "0000000000"})
    assert second["id"] != first["id"]
    other = create(api, {"name": "Jane Doe", "email": "jane@example.com"})
    linked = write(api, "PUT", other["id"], {"phone": "000-000-0000"})
    assert linked["id"] == other["id"] and linked["mergedIds"] == []


# --- PHONE_SHARED_LIMIT --------------------------------------------------------------------


@pytest.fixture
def limited_app(clean_db: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": clean_db, "PHONE_SHARED_LIMIT": 2})
    yield app
    app.extensions["db"].close()


def test_phone_shared_limit_a_phone_held_by_many_distinct_people_stops_merging(limited_app, caplog):
    from tests.support import accounts

    with limited_app.app_context():
        account, key = accounts.create_account("front-desk")
    client = limited_app.test_client()

    def post(body: dict):
        response = client.post(URL, json=body, headers={"x-api-key": key})
        assert response.status_code in (200, 201), response.get_json()
        return response

    phone, digits = "+1 628 555 0147", "6285550147"
    caplog.set_level(logging.WARNING, logger="app.services.resolution")
    holders = [
        post({"name": name, "phone": phone}).get_json()
        for name in ("Ann Lee", "Bob Stone", "Carl Diaz")
    ]
    assert len({h["id"] for h in holders}) == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    # "Anne Lee" is 93% like "Ann Lee": below the limit this would merge; now it must not.
    similar = post({"name": "Anne Lee", "phone": "(628) 555-0147"})
    assert similar.status_code == 201
    again = post({"name": "Ann Lee", "phone": digits})
    assert again.status_code == 201
    assert again.get_json()["id"] not in {h["id"] for h in holders}

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert re.search(r"\b[0-9a-f]{12,}\b", message), message  # a hash of the number...
    for form in (digits, "+16285550147", "628", "0147"):
        assert form not in message  # ...never the number itself
    assert re.search(rf"\b{account.id}\b", message), message  # names the account


def test_phone_shared_limit_similar_names_on_one_phone_do_not_count_twice(limited_app):
    from tests.support import accounts

    with limited_app.app_context():
        _, key = accounts.create_account("family")
    client = limited_app.test_client()

    def post(body: dict):
        return client.post(URL, json=body, headers={"x-api-key": key})

    first = post({"name": "Ann Lee", "phone": "6285550148", "email": "a1@example.com"})
    bob = post({"name": "Bob Stone", "phone": "6285550148"})
    assert (first.status_code, bob.status_code) == (201, 201)
    # Two distinct people on the phone (not more than 2): the phone still merges similar names.
    resolved = post({"name": "Anne Lee", "phone": "6285550148", "email": "a2@example.com"})
    assert resolved.status_code == 200
    assert resolved.get_json()["id"] == first.get_json()["id"]


# --- accounts ------------------------------------------------------------------------------


def test_never_across_accounts_the_same_email_in_two_accounts_stays_two_profiles(api):
    ours = create(api, {"name": "Ann Lee", "email": "ann@example.com", "phone": "4155550120"})
    theirs = create(
        api,
        {"name": "Ann Lee", "email": "ANN@example.com", "phone": "4155550120"},
        account="globex",
    )
    assert theirs["id"] != ours["id"]
    contact = upsert(api, {"email": "ann@example.com"}, account="initech", status=201)
    assert contact["id"] not in (ours["contactId"], theirs["contactId"])
    assert read(api, ours["id"])["mergedIds"] == []
    assert read(api, theirs["id"], account="globex")["mergedIds"] == []


def test_never_across_accounts_a_write_naming_another_accounts_identifiers_merges_nothing(api):
    ours = create(api, {"name": "Ann Lee", "userId": "u-1"})
    stranger = create(api, {"name": "Ann Lee", "email": "x@example.com"}, account="globex")
    body = write(api, "PUT", stranger["id"], {"userId": "u-1"}, account="globex")
    assert body["id"] == stranger["id"] and body["mergedIds"] == []
    assert read(api, ours["id"])["userIds"] == ["u-1"]
    response = api.get(f"{URL}/{ours['id']}/merges", account="globex")
    assert response.status_code == 404
