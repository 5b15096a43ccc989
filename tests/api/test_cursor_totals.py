"""Cursor pages (`after`) repeat the total counted on the walk's first page instead of
counting the whole account again: a page deep into a large account costs what its rows cost."""

from __future__ import annotations

import psycopg

URL = "/v1/customers"


def page(api, **params) -> dict:
    response = api.get(URL, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_cursor_pages_repeat_the_total_counted_on_the_first_page(api):
    for i in range(3):
        api.post(URL, json={"name": f"C {i}"})
    first = page(api, limit=1)
    assert first["total"] == 3
    api.post(URL, json={"name": "Late"})
    second = page(api, limit=1, after=first["nextCursor"])
    assert second["total"] == 3  # as counted when the walk started
    assert page(api, limit=1)["total"] == 4  # a new walk counts again
    assert page(api, limit=1, after=second["nextCursor"])["total"] == 3


def test_search_cursor_pages_repeat_the_total_too(api):
    for i in range(3):
        api.post(URL, json={"name": f"Ann {i}"})
    body = {"filter": [{"field": "customers.name", "operator": "~", "value": "ann"}], "limit": 1}
    first = api.post(f"{URL}/search", json=body).get_json()
    api.post(URL, json={"name": "Ann late"})
    second = api.post(f"{URL}/search", json={**body, "after": first["nextCursor"]}).get_json()
    assert (first["total"], second["total"]) == (3, 3)


def test_a_cursor_page_does_not_count_the_account(api, monkeypatch):
    for i in range(3):
        api.post(URL, json={"name": f"C {i}"})
    cursor = page(api, limit=1)["nextCursor"]
    sent: list[str] = []
    original = psycopg.Cursor.execute

    def recording(self, query, params=None, **kwargs):
        sent.append(query if isinstance(query, str) else query.as_string(self.connection))
        return original(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    assert page(api, limit=1, after=cursor)["data"]
    assert sent and not any("count(*)" in statement for statement in sent)
    sent.clear()
    page(api, limit=1)
    assert any("count(*)" in statement for statement in sent)  # the first page counts
