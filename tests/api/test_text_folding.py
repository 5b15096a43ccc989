"""Text is matched by one Python normalization (trim + Unicode case folding), never by the
database's ``lower()``, which under the ``C`` locale lower-cases ASCII only: ``Ärger`` was
acknowledged and never attached, and ``jürgen müller`` did not find ``Jürgen MÜLLER``."""

from __future__ import annotations

from typing import Any

import pytest

CUSTOMERS = "/v1/customers"
SEARCH = "/v1/customers/search"


def create(api, **fields: Any) -> dict[str, Any]:
    response = api.post(CUSTOMERS, json=fields)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def names_of(customer: dict[str, Any]) -> list[str]:
    return [t["name"] for t in customer["tags"]]


def search(api, field: str, operator: str, value: Any) -> set[int]:
    body = {"filter": [{"field": field, "operator": operator, "value": value}]}
    response = api.post(SEARCH, json=body)
    assert response.status_code == 200, response.get_json()
    return {c["id"] for c in response.get_json()["data"]}


def test_a_tag_with_a_non_ascii_capital_is_attached(api) -> None:
    customer = create(api, name="Kim")
    response = api.request(
        "PUT", f"{CUSTOMERS}/{customer['id']}/tags", json={"tags": [{"name": "Ärger"}]}
    )
    assert response.status_code == 200
    assert names_of(response.get_json()) == ["Ärger"]


def test_tag_names_differing_only_in_non_ascii_case_are_one_tag(api) -> None:
    first = create(api, tags=[{"name": "Ärger"}])
    second = create(api, email="b@example.org", tags=[{"name": "ärger"}, {"name": "STRASSE"}])
    third = create(api, email="c@example.org", tags=[{"name": "Straße"}])
    assert names_of(second) == ["Ärger", "STRASSE"]  # the spelling of the first creation
    assert names_of(third) == ["STRASSE"]
    tags = api.get("/v1/tags").get_json()["data"]
    assert sorted(t["name"] for t in tags) == ["STRASSE", "Ärger"]
    assert first["tags"][0]["name"] == "Ärger"


def test_tag_names_are_trimmed_on_write(api) -> None:
    customer = create(api, tags=[{"name": "  vip  "}])
    assert names_of(customer) == ["vip"]
    again = create(api, email="x@example.org", tags=[{"name": "VIP"}])
    assert names_of(again) == ["vip"]


def test_untag_matches_by_folded_name(api) -> None:
    customer = create(api, tags=[{"name": "Ärger"}, {"name": "keep"}])
    body = {"tags": [{"name": " ÄRGER "}]}
    response = api.request("DELETE", f"{CUSTOMERS}/{customer['id']}/tags", json=body)
    assert response.status_code == 200
    assert names_of(response.get_json()) == ["keep"]


def test_search_by_tag_matches_by_folded_name(api) -> None:
    tagged = create(api, tags=[{"name": "Ärger"}])
    create(api, email="other@example.org", tags=[{"name": "other"}])
    assert search(api, "customers.tagsData", "=", [{"name": "ärger"}]) == {tagged["id"]}
    listed = api.get(f"{CUSTOMERS}?tag=%C3%84RGER").get_json()["data"]
    assert [c["id"] for c in listed] == [tagged["id"]]


@pytest.mark.parametrize(
    ("field", "stored", "query"),
    [
        ("name", "Jürgen MÜLLER", "jürgen müller"),
        ("company", "ÉCOLE Straße GmbH", "école strasse gmbh"),
        ("location.city", "MÜNCHEN", "münchen"),
    ],
)
def test_search_text_equality_folds_case_beyond_ascii(
    api, field: str, stored: str, query: str
) -> None:
    if field == "location.city":
        wanted = create(api, location={"city": stored})
        name = "customers.city"
    else:
        wanted = create(api, **{field: stored})
        name = f"customers.{field}"
    create(api, email="someone@example.org", name="Someone Else", company="Other")
    assert search(api, name, "=", query) == {wanted["id"]}
    assert wanted["id"] not in search(api, name, "!=", query)


def test_search_text_containment_folds_case_beyond_ascii(api) -> None:
    wanted = create(api, name="Jürgen MÜLLER")
    create(api, email="o@example.org", name="Otto")
    assert search(api, "customers.name", "~", "müll") == {wanted["id"]}
    assert wanted["id"] not in search(api, "customers.name", "!~", "MÜLL")


def test_merged_profiles_keep_their_folded_text_searchable(api) -> None:
    """The merge writes the survivor's fields through the same path, folds included."""
    create(api, email="p@example.org", name="Ärzte Ölmann")
    create(api, userId="u-1", company="ÖL AG")
    merged = create(api, email="p@example.org", userId="u-1")
    assert len(merged["mergedIds"]) == 1
    assert search(api, "customers.name", "=", "ärzte ölmann") == {merged["id"]}
    assert search(api, "customers.company", "=", "öl ag") == {merged["id"]}
