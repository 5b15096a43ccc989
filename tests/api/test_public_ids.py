"""Event and merge ids tell a tenant nothing about other tenants: they are random, not drawn
from a service-wide sequence whose gaps count everyone else's writes."""

from __future__ import annotations

CUSTOMERS = "/v1/customers"
JS_SAFE = 2**53 - 1


def create(api, account: str = "acme", **fields) -> dict:
    response = api.request("POST", CUSTOMERS, json=fields, account=account)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def event(api, customer: int, account: str = "acme") -> int:
    body = {"customer": customer, "name": "Visit"}
    response = api.request("POST", "/v1/events", json=body, account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def test_event_ids_do_not_count_other_accounts_events(api) -> None:
    mine, theirs = create(api, name="Me")["id"], create(api, "globex", name="Them")["id"]
    first = event(api, mine)
    others = [event(api, theirs, "globex") for _ in range(20)]
    second = event(api, mine)
    ids = [first, *others, second]
    assert all(0 < i <= JS_SAFE for i in ids)
    # A sequence would make these 21 apart and the others fill the gap in order.
    assert second - first != len(others) + 1
    assert others != sorted(others)
    listed = api.get(f"{CUSTOMERS}/{mine}/events").get_json()["data"]
    assert [e["id"] for e in listed] == [second, first]  # newest first, whatever the ids


def test_merge_ids_do_not_count_other_accounts_merges(api) -> None:
    def merge(account: str, n: int) -> int:
        create(api, account, email=f"{n}@example.org")
        create(api, account, userId=f"u{n}")
        merged = create(api, account, email=f"{n}@example.org", userId=f"u{n}")
        path = f"{CUSTOMERS}/{merged['id']}/merges"
        [record] = api.request("GET", path, account=account).get_json()["data"]
        return record["id"]

    first = merge("acme", 0)
    others = [merge("globex", n) for n in range(1, 6)]
    second = merge("acme", 6)
    assert all(0 < i <= JS_SAFE for i in [first, *others, second])
    assert second - first != len(others) + 1
