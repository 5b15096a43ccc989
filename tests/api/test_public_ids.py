"""Event and merge ids tell a tenant nothing about other tenants: they are random, not drawn
from a service-wide sequence whose gaps count everyone else's writes. Customer ids do come
from one sequence (HelpCrunch's are increasing integers), so only creates may draw from it."""

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


def test_customer_ids_count_creates_not_other_accounts_writes(api) -> None:
    """Writes that find their person draw no customer id, whichever API or path they take:
    another account's updates leave no gap between two of ours (the write path reserves ids
    only for writes whose identifiers nobody holds)."""
    first = create(api, email="me1@example.org")["id"]
    theirs = create(api, "globex", email="them@example.org", phone="+14155550100", name="Ann")
    for n in range(3):  # found by email, by phone + name, named by id, by the partner API
        create(api, "globex", email="them@example.org", notes=f"n{n}")
        create(api, "globex", phone="+1 415 555 0100", name="Ann", notes=f"p{n}")
        batch = [{"customer": theirs["id"], "notes": f"b{n}"}]
        assert (
            api.request("PUT", f"{CUSTOMERS}/batch", json=batch, account="globex").status_code
            == 200
        )
        body = {"email": "them@example.org", "name": f"Ann {n}"}
        response = api.request("POST", "/api/v1/partner/contacts", json=body, account="globex")
        assert response.status_code == 200, response.get_json()
    second = create(api, email="me2@example.org")["id"]
    assert second == first + 2  # theirs is the one create between ours
