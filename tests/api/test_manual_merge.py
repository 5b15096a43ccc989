"""POST /v1/customers/{id}/merge: manual merges into the survivor the caller picks, and their
preview (?dryRun=true), which writes nothing and shows exactly what the merge then does."""

from __future__ import annotations

import pytest

URL = "/v1/customers"
ANN = {"name": "Ann Lee", "email": "ann@example.com", "phone": "+1 415 555 0100",
       "company": "Acme", "tags": [{"name": "vip"}],
       "customData": [{"property": "plan", "value": "pro"}]}  # fmt: skip
BOB = {"name": "Robert Stone", "email": "bob@example.org", "phone": "+1 415 555 0100",
       "location": {"city": "Oslo"}, "customData": [{"property": "seats", "value": 3}]}  # fmt: skip


def create(api, body, **kwargs) -> dict:
    response = api.post(URL, json=body, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def merge(api, survivor: int, ids: list, *, dry_run: bool = False, **kwargs):
    query = "?dryRun=true" if dry_run else ""
    return api.post(f"{URL}/{survivor}/merge{query}", json={"customers": ids}, **kwargs)


def without_clock(customer: dict) -> dict:
    return {k: v for k, v in customer.items() if k != "updatedAt"}


def test_a_manual_merge_keeps_the_survivor_the_caller_picks(api):
    ann, bob = create(api, ANN), create(api, BOB)
    response = merge(api, bob["id"], [ann["id"]])
    assert response.status_code == 200, response.get_json()
    merged = response.get_json()
    assert merged["id"] == bob["id"]  # though Ann's profile is the more complete one
    assert merged["name"] == "Robert Stone"  # the survivor's non-empty values win
    assert merged["company"] == "Acme"  # empty ones are filled from the others
    assert merged["emails"] == ["bob@example.org", "ann@example.com"]
    assert merged["mergedIds"] == [ann["id"]]
    assert {t["name"] for t in merged["tags"]} == {"vip"}
    assert merged["customData"] == {"plan": "pro", "seats": 3}
    assert api.get(f"{URL}/{ann['id']}").get_json()["id"] == bob["id"]  # the tombstone


def test_a_manual_merge_is_recorded_with_rule_manual(api):
    ann, bob = create(api, ANN), create(api, BOB)
    merge(api, bob["id"], [ann["id"]])
    [record] = api.get(f"{URL}/{bob['id']}/merges").get_json()["data"]
    assert (record["survivor"], record["merged"], record["rule"]) == (bob["id"], ann["id"],
                                                                       "manual")  # fmt: skip
    assert record["snapshot"]["profile"]["name"] == "Ann Lee"


def test_the_preview_writes_nothing(api):
    ann, bob = create(api, ANN), create(api, BOB)
    response = merge(api, bob["id"], [ann["id"]], dry_run=True)
    assert response.status_code == 200, response.get_json()
    assert api.get(f"{URL}/{ann['id']}").get_json() == ann
    assert without_clock(api.get(f"{URL}/{bob['id']}").get_json()) == without_clock(bob)
    assert api.get(f"{URL}/{bob['id']}/merges").get_json()["data"] == []


def test_the_preview_equals_what_the_merge_then_does(api):
    ann, bob = create(api, ANN), create(api, BOB)
    preview = merge(api, bob["id"], [ann["id"]], dry_run=True).get_json()
    merged = merge(api, bob["id"], [ann["id"]]).get_json()
    assert without_clock(preview["customer"]) == without_clock(merged)
    assert (preview["survivor"], preview["merged"]) == (bob["id"], [ann["id"]])


def test_the_preview_says_where_each_value_comes_from_and_what_moves(api):
    ann, bob = create(api, ANN), create(api, BOB)
    preview = merge(api, bob["id"], [ann["id"]], dry_run=True).get_json()
    assert preview["fields"]["name"] == bob["id"]
    assert preview["fields"]["company"] == ann["id"]
    assert preview["fields"]["location.city"] == bob["id"]
    assert preview["fields"]["notes"] is None  # nobody has one
    assert preview["customData"] == {"plan": ann["id"], "seats": bob["id"]}
    [moves] = preview["moves"]
    assert moves["customer"] == ann["id"]
    assert {"kind": "email", "value": "ann@example.com"} in moves["identifiers"]
    assert (moves["tags"], moves["customDataKeys"], moves["events"]) == (["vip"], ["plan"], 0)


def test_the_preview_says_why_the_rules_did_not_merge_the_pair(api):
    ann, bob = create(api, ANN), create(api, BOB)
    [verdict] = merge(api, bob["id"], [ann["id"]], dry_run=True).get_json()["rules"]
    assert verdict["customer"] == ann["id"] and verdict["rule"] is None
    assert verdict["score"] < 80 and "similar" in verdict["reason"]


def test_the_preview_names_the_rule_that_would_merge_a_pair(api):
    """A name edited after the fact: the phone now matches, but no write carried it since."""
    ann = create(api, ANN)
    twin = create(api, {"name": "Zed Quinn", "phone": ANN["phone"]})  # dissimilar: two people
    api.request("PATCH", f"{URL}/{twin['id']}", json={"name": "Lee Ann"})
    [verdict] = merge(api, ann["id"], [twin["id"]], dry_run=True).get_json()["rules"]
    assert (verdict["rule"], verdict["score"]) == ("phone_name", 100.0)


@pytest.mark.parametrize("ids", [[], list(range(1, 12))])
def test_an_empty_list_or_more_than_10_ids_is_422(api, ids):
    bob = create(api, BOB)
    response = merge(api, bob["id"], ids)
    assert response.status_code == 422
    assert response.get_json()["errors"][1]["field"] == "customers"


def test_merging_a_customer_into_itself_is_422(api):
    ann, bob = create(api, ANN), create(api, BOB)
    assert merge(api, bob["id"], [bob["id"]]).status_code == 422
    merge(api, bob["id"], [ann["id"]])
    again = merge(api, bob["id"], [ann["id"]])  # ann's id now stands for bob
    assert again.status_code == 422
    assert "already" in again.get_json()["errors"][1]["message"]


def test_unknown_or_foreign_ids_are_404(api):
    ann, bob = create(api, ANN), create(api, BOB)
    other = create(api, {"name": "Elsewhere", "email": "e@example.com"}, account="other")
    assert merge(api, bob["id"], [ann["id"], 999_999]).status_code == 404
    assert merge(api, bob["id"], [other["id"]]).status_code == 404
    assert merge(api, other["id"], [ann["id"]]).status_code == 404
    assert merge(api, bob["id"], [other["id"]], account="other").status_code == 404
    assert api.get(f"{URL}/{ann['id']}").get_json()["id"] == ann["id"]  # nothing merged


def test_a_merged_away_id_stands_for_its_survivor(api):
    ann, bob = create(api, ANN), create(api, BOB)
    cat = create(api, {"name": "Cat Moe", "email": "cat@example.com"})
    merge(api, bob["id"], [ann["id"]])
    response = merge(api, ann["id"], [cat["id"]])  # ann's id names bob now
    assert response.status_code == 200
    assert response.get_json()["id"] == bob["id"]
    assert sorted(response.get_json()["mergedIds"]) == sorted([ann["id"], cat["id"]])


def test_dry_run_must_be_a_boolean(api):
    ann, bob = create(api, ANN), create(api, BOB)
    response = api.post(f"{URL}/{bob['id']}/merge?dryRun=perhaps", json={"customers": [ann["id"]]})
    assert response.status_code == 422
