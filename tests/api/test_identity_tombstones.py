"""Merged-away profiles are tombstones: every endpoint of both APIs that takes an id resolves
one to its survivor, and a chain of merges resolves in one step."""

from __future__ import annotations

import pytest

from tests.api.test_identity import (
    EVENTS,
    PARTNER,
    URL,
    create,
    events_of,
    link_by_email,
    merged_pair,
    merges,
    read,
    sql_rows,
)
from tests.support.identity import add_event

# --- /v1/customers/{id} --------------------------------------------------------------------


def test_tombstone_get_customer_answers_the_survivor(api):
    survivor, gone = merged_pair(api)
    body = read(api, gone["id"])
    assert body == read(api, survivor["id"])
    assert body["id"] == survivor["id"] and body["mergedIds"] == [gone["id"]]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_tombstone_update_customer_writes_the_survivor(api, method):
    survivor, gone = merged_pair(api)
    response = api.request(method, f"{URL}/{gone['id']}", json={"company": "Acme"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == survivor["id"]
    assert read(api, survivor["id"])["company"] == "Acme"
    rows = sql_rows(
        api.app.config["DATABASE_URL"],
        "SELECT id, company, merged_into FROM profiles ORDER BY id",
    )
    assert rows == [(survivor["id"], "Acme", None), (gone["id"], None, survivor["id"])]


def test_tombstone_delete_customer_erases_the_survivor(api):
    survivor, gone = merged_pair(api)
    response = api.request("DELETE", f"{URL}/{gone['id']}")
    assert response.status_code == 200 and response.get_json() == "Ok"
    assert api.get(f"{URL}/{survivor['id']}").status_code == 404
    assert api.get(f"{URL}/{gone['id']}").status_code == 404


# --- tags ----------------------------------------------------------------------------------


def test_tombstone_put_tags_tags_the_survivor(api):
    survivor, gone = merged_pair(api)
    response = api.request("PUT", f"{URL}/{gone['id']}/tags", json={"tags": [{"name": "lead"}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == survivor["id"]
    assert "lead" in {t["name"] for t in read(api, survivor["id"])["tags"]}


def test_tombstone_delete_tags_untags_the_survivor(api):
    survivor, gone = merged_pair(api)
    response = api.request("DELETE", f"{URL}/{gone['id']}/tags", json={"tags": [{"name": "vip"}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == survivor["id"]
    assert {t["name"] for t in read(api, survivor["id"])["tags"]} == {"b2b"}


# --- events and merges ---------------------------------------------------------------------


def test_tombstone_get_events_lists_the_survivors_events(api):
    survivor, gone = merged_pair(api)
    made = [add_event(api, survivor["id"], f"e{i}") for i in range(2)]
    assert events_of(api, gone["id"]) == made[::-1]


def test_tombstone_post_event_customer_records_the_event_on_the_survivor(api):
    survivor, gone = merged_pair(api)
    response = api.post(EVENTS, json={"name": "Paid", "customer": gone["id"]})
    assert response.status_code == 200, response.get_json()
    event = response.get_json()
    assert event["customer"] == survivor["id"]
    assert events_of(api, survivor["id"]) == [event]


def test_tombstone_get_merges_lists_the_survivors_history(api):
    survivor, gone = merged_pair(api)
    history = merges(api, gone["id"])
    assert history == merges(api, survivor["id"])
    assert [(m["survivor"], m["merged"]) for m in history["data"]] == [(survivor["id"], gone["id"])]


# --- batch ---------------------------------------------------------------------------------


def test_tombstone_batch_item_updates_the_survivor(api):
    survivor, gone = merged_pair(api)
    bystander = create(api, {"name": "Bob"})
    items = [{"customer": gone["id"], "company": "Acme"}, {"customer": bystander["id"]}]
    response = api.request("PUT", f"{URL}/batch", json=items)
    assert response.status_code == 200, response.get_json()
    assert [c["id"] for c in response.get_json()] == [survivor["id"], bystander["id"]]
    assert read(api, survivor["id"])["company"] == "Acme"


def test_tombstone_batch_items_of_one_person_are_applied_in_order_to_the_survivor(api):
    survivor, gone = merged_pair(api)
    items = [
        {"customer": gone["id"], "company": "First", "notes": "from the tombstone"},
        {"customer": survivor["id"], "company": "Second"},
    ]
    response = api.request("PUT", f"{URL}/batch", json=items)
    assert response.status_code == 200, response.get_json()
    answered = response.get_json()
    assert [c["id"] for c in answered] == [survivor["id"], survivor["id"]]
    final = read(api, survivor["id"])
    assert (final["company"], final["notes"]) == ("Second", "from the tombstone")


def test_batch_items_that_turn_out_to_be_one_person_are_applied_in_order_to_the_survivor(api):
    holder = create(api, {"name": "Ann Lee", "email": "ann@example.com", "tags": [{"name": "x"}]})
    other = create(api, {"name": "Ann L.", "email": "al@example.com"})
    items = [
        {"customer": other["id"], "email": "ann@example.com", "company": "First", "notes": "1"},
        {"customer": holder["id"], "company": "Second"},
    ]
    response = api.request("PUT", f"{URL}/batch", json=items)
    assert response.status_code == 200, response.get_json()
    assert [c["id"] for c in response.get_json()] == [holder["id"], holder["id"]]
    final = read(api, holder["id"])
    assert (final["company"], final["notes"]) == ("Second", "1")
    assert final["mergedIds"] == [other["id"]]


# --- the partner API -----------------------------------------------------------------------


def test_tombstone_partner_get_contact_by_a_merged_away_uuid_answers_the_survivor(api):
    survivor, gone = merged_pair(api)
    response = api.get(f"{PARTNER}/{gone['contactId']}")
    assert response.status_code == 200, response.get_json()
    contact = response.get_json()
    assert contact["id"] == survivor["contactId"]
    assert contact == api.get(f"{PARTNER}/{survivor['contactId']}").get_json()


def test_tombstone_of_another_account_is_not_found(api):
    _, gone = merged_pair(api)
    assert api.get(f"{URL}/{gone['id']}", account="globex").status_code == 404
    assert api.get(f"{PARTNER}/{gone['contactId']}", account="globex").status_code == 404


# --- chains --------------------------------------------------------------------------------


def test_tombstone_chain_resolves_in_one_step(api, database_url):
    a = create(api, {"name": "Ann Lee", "email": "a@example.com", "tags": [{"name": "t1"}]})
    b = create(api, {"name": "Ann L.", "email": "b@example.com"})
    assert link_by_email(api, b["id"], "a@example.com")["id"] == a["id"]  # A <- B
    c = create(
        api,
        {
            "name": "Ann Lee",
            "email": "c@example.com",
            "userId": "u-c",
            "tags": [{"name": n} for n in ("t1", "t2", "t3", "t4", "t5")],
        },
    )
    assert link_by_email(api, a["id"], "c@example.com")["id"] == c["id"]  # C absorbs A
    # Every tombstone points straight at the live survivor: no chain to walk.
    pointers = sql_rows(
        database_url,
        "SELECT id, merged_into FROM profiles WHERE id = ANY(%(ids)s) ORDER BY id",
        {"ids": [a["id"], b["id"], c["id"]]},
    )
    assert pointers == [(a["id"], c["id"]), (b["id"], c["id"]), (c["id"], None)]
    assert read(api, b["id"])["id"] == c["id"]
    assert api.get(f"{PARTNER}/{b['contactId']}").get_json()["id"] == c["contactId"]
    event = api.post(EVENTS, json={"name": "Paid", "customer": b["id"]}).get_json()
    assert event["customer"] == c["id"]
