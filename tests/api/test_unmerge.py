"""POST /v1/customers/{id}/unmerge: a merged-away customer lives again as its snapshot shows
it, and the survivor is left as it would have been without the merge."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.identity import (
    URL,
    codes,
    create,
    customer,
    history,
    merge,
    unmerge,
    without_clock,
)

ANN = {"name": "Ann Lee", "email": "ann@example.com", "phone": "+1 415 555 0100",
       "company": "Acme", "userId": "ann-1", "tags": [{"name": "vip"}],
       "customData": [{"property": "plan", "value": "pro"},
                      {"property": "seats", "value": 1}]}  # fmt: skip
BOB = {"name": "Robert Stone", "email": "bob@example.org", "location": {"city": "Oslo"},
       "customData": [{"property": "seats", "value": 3}]}  # fmt: skip
CARL = {"name": "Carl Berg", "email": "carl@example.net", "company": "Berg AS"}


def event(api, customer_id: int, name: str = "Order") -> int:
    response = api.post("/v1/events", json={"name": name, "data": {}, "customer": customer_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def event_ids(api, customer_id: int) -> set[int]:
    return {e["id"] for e in api.get(f"{URL}/{customer_id}/events").get_json()["data"]}


def test_unmerge_restores_the_merged_customer_and_the_survivor(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    response = unmerge(api, bob["id"], ann["id"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert without_clock(body["restored"]) == without_clock(ann)
    assert without_clock(body["survivor"]) == without_clock(bob)
    assert without_clock(customer(api, ann["id"])) == without_clock(ann)  # its id lives again
    assert without_clock(customer(api, bob["id"])) == without_clock(bob)


def test_unmerge_restores_exactly_the_snapshot(api, app):
    ann, bob = create(api, ANN), create(api, BOB)
    event(api, ann["id"])
    merge(api, bob["id"], [ann["id"]])
    [record] = history(api, bob["id"])
    unmerge(api, bob["id"], ann["id"])
    from app.repositories import merges

    with psycopg.connect(app.config["DATABASE_URL"]) as conn:
        account_id = conn.execute("SELECT account_id FROM profiles LIMIT 1").fetchone()[0]
        [after] = merges.load_snapshots(conn, account_id, [ann["id"]]).values()
    before = record["snapshot"]
    ignored = {"updated_at"}
    assert {k: v for k, v in after["profile"].items() if k not in ignored} == {
        k: v for k, v in before["profile"].items() if k not in ignored
    }
    for key in ("identifiers", "tags", "event_ids", "tombstones", "history"):
        assert after[key] == before[key], key


def test_the_partner_api_sees_the_restored_contact_again(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    unmerge(api, bob["id"], ann["id"])
    contact = api.get(f"/api/v1/partner/contacts/{ann['contactId']}").get_json()
    assert contact["id"] == ann["contactId"] and contact["email"] == "ann@example.com"


def test_identifiers_tags_custom_data_and_events_go_back(api):
    ann, bob = create(api, ANN), create(api, BOB)
    ann_event, bob_event = event(api, ann["id"]), event(api, bob["id"])
    merged = merge(api, bob["id"], [ann["id"]])
    assert merged["company"] == "Acme" and merged["customData"] == {"plan": "pro", "seats": 3}
    body = unmerge(api, bob["id"], ann["id"]).get_json()
    survivor, restored = body["survivor"], body["restored"]
    assert survivor["emails"] == ["bob@example.org"] and survivor["company"] is None
    assert survivor["customData"] == {"seats": 3} and survivor["tags"] == []
    assert restored["emails"] == ["ann@example.com"] and restored["userIds"] == ["ann-1"]
    assert restored["customData"] == {"plan": "pro", "seats": 1}
    assert [t["name"] for t in restored["tags"]] == ["vip"]
    assert event_ids(api, ann["id"]) == {ann_event} and event_ids(api, bob["id"]) == {bob_event}


def test_what_came_later_stays_with_the_survivor(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    # After the merge: the company Ann brought is overwritten, an event and a tag are added.
    api.request("PATCH", f"{URL}/{bob['id']}", json={"company": "Stone Ltd"})
    later = event(api, bob["id"], "Later")
    api.request("PUT", f"{URL}/{bob['id']}/tags", json={"tags": [{"name": "new"}]})
    survivor = unmerge(api, bob["id"], ann["id"]).get_json()["survivor"]
    assert survivor["company"] == "Stone Ltd"  # something later overwrote it: it stays
    assert later in event_ids(api, bob["id"])
    assert [t["name"] for t in survivor["tags"]] == ["new"]


def test_an_automatic_merge_is_undone_too(api):
    ann = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    other = create(api, {"name": "A. Lee", "userId": "ann-1", "company": "Acme"})
    merged = create(api, {"email": "ann@example.com", "userId": "ann-1"})
    assert merged["mergedIds"], merged
    survivor_id, [gone] = merged["id"], merged["mergedIds"]
    body = unmerge(api, survivor_id, gone).get_json()
    restored = body["restored"]
    original = ann if gone == ann["id"] else other
    assert without_clock(restored) == without_clock(original)
    assert body["survivor"]["mergedIds"] == []


def test_the_merged_customers_own_tombstones_go_back_with_it(api):
    ann, bob, carl = create(api, ANN), create(api, BOB), create(api, CARL)
    merge(api, ann["id"], [carl["id"]])  # Carl into Ann, then Ann into Bob
    merge(api, bob["id"], [ann["id"]])
    restored = unmerge(api, bob["id"], ann["id"]).get_json()["restored"]
    assert restored["mergedIds"] == [carl["id"]]
    assert customer(api, carl["id"])["id"] == ann["id"]  # Carl's id stands for Ann again
    assert [m["merged"] for m in history(api, ann["id"])] == [carl["id"]]


def test_a_shared_phone_stays_with_both(api):
    ann = create(api, ANN)
    bob = create(api, {**BOB, "phone": "+1 415 555 0100"})
    merge(api, bob["id"], [ann["id"]])
    body = unmerge(api, bob["id"], ann["id"]).get_json()
    assert body["survivor"]["phones"] == ["+1 415 555 0100"]
    assert body["restored"]["phones"] == ["+1 415 555 0100"]


def test_the_unmerge_is_recorded_in_the_history(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]], headers={"X-Request-Id": "merge-1"})
    unmerge(api, bob["id"], ann["id"], headers={"X-Request-Id": "unmerge-1"})
    undo, merged = history(api, bob["id"])  # newest first
    assert (undo["rule"], undo["merged"], undo["undoes"]) == ("unmerge", ann["id"], merged["id"])
    assert undo["requestId"] == "unmerge-1" and undo["snapshot"]["profile"]["company"] == "Acme"
    assert merged["rule"] == "manual" and merged["undoneAt"] is not None


def test_a_later_merge_blocks_the_unmerge_until_it_is_undone(api):
    ann, bob, carl = create(api, ANN), create(api, BOB), create(api, CARL)
    merge(api, bob["id"], [ann["id"]])
    merge(api, bob["id"], [carl["id"]])
    carl_merge = history(api, bob["id"])[0]
    response = unmerge(api, bob["id"], ann["id"])
    assert response.status_code == 409
    assert codes(response)[-1] == "unmerge_blocked"
    detail = response.get_json()["errors"][1]
    assert (detail["merge"], detail["customer"]) == (carl_merge["id"], carl["id"])
    assert unmerge(api, bob["id"], carl["id"]).status_code == 200
    body = unmerge(api, bob["id"], ann["id"]).get_json()
    assert without_clock(body["survivor"]) == without_clock(bob)


def test_a_merge_of_the_survivor_into_another_blocks_the_unmerge(api):
    ann, bob, carl = create(api, ANN), create(api, BOB), create(api, CARL)
    merge(api, bob["id"], [ann["id"]])
    merge(api, carl["id"], [bob["id"]])
    response = unmerge(api, carl["id"], ann["id"])
    assert response.status_code == 409 and response.get_json()["errors"][1]["customer"] == bob["id"]


def test_merges_of_one_request_are_undone_last_first(api):
    ann, bob, carl = create(api, ANN), create(api, BOB), create(api, CARL)
    merge(api, bob["id"], [ann["id"], carl["id"]])
    first, second = reversed([m["merged"] for m in history(api, bob["id"])])
    assert unmerge(api, bob["id"], first).status_code == 409
    assert unmerge(api, bob["id"], second).status_code == 200
    assert unmerge(api, bob["id"], first).status_code == 200
    assert without_clock(customer(api, bob["id"])) == without_clock(bob)


def test_a_tombstone_id_stands_for_the_survivor(api):
    ann, bob, carl = create(api, ANN), create(api, BOB), create(api, CARL)
    merge(api, bob["id"], [carl["id"]])
    merge(api, bob["id"], [ann["id"]])
    response = unmerge(api, carl["id"], ann["id"])  # Carl's id names Bob's person
    assert response.status_code == 200 and response.get_json()["survivor"]["id"] == bob["id"]


@pytest.mark.parametrize("which", ["live", "other person", "itself"])
def test_a_customer_not_merged_into_this_one_is_422(api, which):
    ann, bob, carl = create(api, ANN), create(api, BOB), create(api, CARL)
    dora = create(api, {"name": "Dora", "email": "dora@example.com"})
    merge(api, carl["id"], [dora["id"]])
    target = {"live": ann["id"], "other person": dora["id"], "itself": bob["id"]}[which]
    response = unmerge(api, bob["id"], target)
    assert response.status_code == 422 and codes(response)[-1] == "invalid_field"


def test_unknown_or_foreign_ids_are_404(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    assert unmerge(api, bob["id"], ann["id"], account="globex").status_code == 404
    assert unmerge(api, 999_999, ann["id"]).status_code == 404
    assert unmerge(api, bob["id"], 999_999).status_code == 404


@pytest.mark.parametrize("body", [{}, {"customer": "x"}, {"customer": None}, {"customers": [1]}])
def test_the_body_is_validated(api, body):
    bob = create(api, BOB)
    response = api.post(f"{URL}/{bob['id']}/unmerge", json=body)
    assert response.status_code == 422


def test_an_undone_merge_can_be_merged_again_and_undone_again(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    unmerge(api, bob["id"], ann["id"])
    merge(api, bob["id"], [ann["id"]])  # a manual merge still can
    assert customer(api, ann["id"])["id"] == bob["id"]
    body = unmerge(api, bob["id"], ann["id"]).get_json()
    assert without_clock(body["restored"]) == without_clock(ann)


def test_the_survivor_forgets_the_names_the_merge_brought(api, app):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    with psycopg.connect(app.config["DATABASE_URL"]) as conn:
        query = "SELECT names FROM profiles WHERE id = %s"
        assert conn.execute(query, [bob["id"]]).fetchone()[0] == ["robert stone", "ann lee"]
        unmerge(api, bob["id"], ann["id"])
        assert conn.execute(query, [bob["id"]]).fetchone()[0] == ["robert stone"]
        assert conn.execute(query, [ann["id"]]).fetchone()[0] == ["ann lee"]
