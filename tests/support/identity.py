"""Customers, merges and unmerges through the API, for the identity-tool tests."""

from __future__ import annotations

from typing import Any

URL = "/v1/customers"
EVENTS = "/v1/events"


def create(api: Any, body: dict, **kwargs: Any) -> dict:
    response = api.post(URL, json=body, **kwargs)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def merge(api: Any, survivor: int, ids: list[int], **kwargs: Any) -> dict:
    response = api.post(f"{URL}/{survivor}/merge", json={"customers": ids}, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def unmerge(api: Any, survivor: int, merged: int, **kwargs: Any):
    return api.post(f"{URL}/{survivor}/unmerge", json={"customer": merged}, **kwargs)


def customer(api: Any, customer_id: int, **kwargs: Any) -> dict:
    response = api.get(f"{URL}/{customer_id}", **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def history(api: Any, customer_id: int) -> list[dict]:
    response = api.get(f"{URL}/{customer_id}/merges")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def without_clock(c: dict) -> dict:
    """A customer object without the time it was last written."""
    return {k: v for k, v in c.items() if k != "updatedAt"}


def codes(response: Any) -> list[str]:
    return [e["code"] for e in response.get_json()["errors"]]


def add_event(api: Any, customer_id: int, name: str, **kwargs: Any) -> dict:
    """POST /v1/events for the customer (its data names the event), asserting 200."""
    body = {"name": name, "data": {"n": name}, "customer": customer_id}
    response = api.post(EVENTS, json=body, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()
