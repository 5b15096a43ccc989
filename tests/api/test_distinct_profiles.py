"""Customers an unmerge separated are known to be two people: the automatic rules never merge
them again, a write that would make them one is refused, and the pair can be listed and
forgotten (GET/DELETE /v1/customers/{id}/distinct)."""

from __future__ import annotations

from tests.support.identity import URL, codes, create, customer, merge, unmerge, without_clock

ANN = {"name": "Ann Lee", "email": "ann@example.com", "phone": "+1 415 555 0100"}
ANNE = {"name": "Anne Lee", "email": "anne@example.org"}


def separated(api) -> tuple[dict, dict]:
    """Ann and Anne: merged by a write (Anne's email, Ann's phone, a similar name), then
    unmerged."""
    create(api, ANN)
    create(api, ANNE)
    merged = create(api, {"name": "Anne Lee", "email": "anne@example.org",
                          "phone": "+1 415 555 0100"})  # fmt: skip
    [merged_id] = merged["mergedIds"]
    response = unmerge(api, merged["id"], merged_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body["survivor"], body["restored"]


def live_count(api) -> int:
    return api.get(f"{URL}?limit=100").get_json()["total"]


def test_an_unmerged_pair_is_listed_as_distinct_both_ways(api):
    a, b = separated(api)
    [entry] = api.get(f"{URL}/{a['id']}/distinct").get_json()["data"]
    assert entry["customer"]["id"] == b["id"] and entry["since"]
    [entry] = api.get(f"{URL}/{b['id']}/distinct").get_json()["data"]
    assert entry["customer"]["id"] == a["id"]


def test_the_rules_never_merge_a_distinct_pair_again(api):
    a, b = separated(api)
    phone = "+1 415 555 0100"
    for one in (a, b):  # both hold the phone now: writes that name one never take the other
        response = api.request("PATCH", f"{URL}/{one['id']}", json={"phone": phone})
        assert response.status_code == 200 and response.get_json()["mergedIds"] == []
    # The same phone with a name similar to both: one of them, never both.
    landed = create(api, {"name": "Ann Lee", "phone": "+1 415 555 0100"})
    assert landed["id"] in (a["id"], b["id"]) and landed["mergedIds"] == []
    assert live_count(api) == 2
    assert customer(api, a["id"])["id"] == a["id"] and customer(api, b["id"])["id"] == b["id"]


def test_a_write_giving_one_the_others_email_is_409_and_writes_nothing(api):
    a, b = separated(api)
    response = api.request("PATCH", f"{URL}/{a['id']}", json={"email": b["email"],
                                                              "company": "Acme"})  # fmt: skip
    assert response.status_code == 409, response.get_json()
    assert codes(response)[-1] == "distinct_profiles"
    detail = response.get_json()["errors"][-1]
    assert {detail["customer"], detail["other"]} == {a["id"], b["id"]}
    assert without_clock(customer(api, a["id"])) == without_clock(a)
    assert without_clock(customer(api, b["id"])) == without_clock(b)


def test_a_partner_upsert_joining_a_distinct_pair_is_409(api):
    a, b = separated(api)
    api.request("PATCH", f"{URL}/{b['id']}", json={"userId": "crm-7"})
    response = api.post("/api/v1/partner/contacts",
                        json={"email": a["email"], "external_id": "crm-7"})  # fmt: skip
    assert response.status_code == 409 and codes(response)[-1] == "distinct_profiles"
    assert live_count(api) == 2


def test_a_manual_merge_still_can(api):
    a, b = separated(api)
    merged = merge(api, a["id"], [b["id"]])
    assert merged["mergedIds"] == [b["id"]]
    assert api.get(f"{URL}/{a['id']}/distinct").get_json()["data"] == []


def test_forgetting_a_pair_lets_the_rules_merge_them_again(api):
    a, b = separated(api)
    response = api.request("DELETE", f"{URL}/{a['id']}/distinct/{b['id']}")
    assert response.status_code == 204
    assert api.get(f"{URL}/{a['id']}/distinct").get_json()["data"] == []
    again = api.request("PATCH", f"{URL}/{a['id']}", json={"email": b["email"]})
    assert again.status_code == 200 and again.get_json()["mergedIds"] == [b["id"]]


def test_forgetting_an_unknown_pair_is_404(api):
    a, b = separated(api)
    c = create(api, {"name": "Carl", "email": "carl@example.net"})
    assert api.request("DELETE", f"{URL}/{a['id']}/distinct/{c['id']}").status_code == 404
    assert api.request("DELETE", f"{URL}/{a['id']}/distinct/999999").status_code == 404


def test_the_pair_follows_its_people_through_merges(api):
    a, b = separated(api)
    c = create(api, {"name": "Carl Berg", "email": "carl@example.net"})
    merge(api, c["id"], [b["id"]])  # b is now a tombstone of c
    [entry] = api.get(f"{URL}/{a['id']}/distinct").get_json()["data"]
    assert entry["customer"]["id"] == c["id"]
    response = api.request("PATCH", f"{URL}/{a['id']}", json={"email": "carl@example.net"})
    assert response.status_code == 409 and codes(response)[-1] == "distinct_profiles"


def test_erasing_one_forgets_the_pair(api, app):
    a, b = separated(api)
    assert api.request("DELETE", f"{URL}/{b['id']}").status_code in (200, 204)
    assert api.get(f"{URL}/{a['id']}/distinct").get_json()["data"] == []


def test_other_accounts_see_nothing(api):
    a, b = separated(api)
    assert api.get(f"{URL}/{a['id']}/distinct", account="globex").status_code == 404
    response = api.request("DELETE", f"{URL}/{a['id']}/distinct/{b['id']}", account="globex")
    assert response.status_code == 404


def test_the_list_pages(api):
    a = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    others = [create(api, {"name": f"Other {i}", "email": f"o{i}@example.com"}) for i in range(3)]
    for other in others:
        merge(api, a["id"], [other["id"]])
    for other in reversed(others):
        assert unmerge(api, a["id"], other["id"]).status_code == 200
    first = api.get(f"{URL}/{a['id']}/distinct?limit=2").get_json()
    assert len(first["data"]) == 2 and first["nextCursor"]
    rest = api.get(f"{URL}/{a['id']}/distinct?limit=2&after={first['nextCursor']}").get_json()
    seen = [e["customer"]["id"] for e in first["data"] + rest["data"]]
    assert sorted(seen) == sorted(o["id"] for o in others) and rest["nextCursor"] is None
