"""What published HelpCrunch clients send: PHP's `[]` for empty objects, properties nobody
defined, the same customer twice in one batch; and the location object they read."""

from __future__ import annotations

from typing import Any

import pytest

from app import config

CUSTOMERS = "/v1/customers"
NO_LOCATION = {"regionCode": None, "countryCode": None, "city": None}


def create(api, **fields: Any) -> dict[str, Any]:
    response = api.post(CUSTOMERS, json=fields)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def attributes(api) -> dict[str, tuple[str, str]]:
    data = api.get("/v1/custom-attributes").get_json()["data"]
    return {a["name"]: (a["type"], a["defined"]) for a in data}


def fields_of(response) -> list[str | None]:
    return [entry.get("field") for entry in response.get_json()["errors"][1:]]


# --- PHP's empty arrays ---------------------------------------------------------------------


def test_an_empty_list_as_event_data_reads_as_an_empty_object(api) -> None:
    customer = create(api, name="Kim")
    body = {"customer": customer["id"], "name": "Page View", "data": []}
    response = api.post("/v1/events", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"] == {}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_empty_list_as_a_customer_body_reads_as_an_empty_object(api, method: str) -> None:
    customer = create(api, name="Kim")
    response = api.request(method, f"{CUSTOMERS}/{customer['id']}", json=[])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "Kim"


def test_an_empty_list_as_a_create_body_creates_an_empty_customer(api) -> None:
    response = api.post(CUSTOMERS, json=[])
    assert response.status_code == 201, response.get_json()


def test_an_empty_list_as_location_or_custom_data_object_reads_as_empty(api) -> None:
    customer = create(api, name="Kim", location={"city": "Kyiv"}, customData={"planStr": "pro"})
    body = {"location": [], "customData": []}
    response = api.request("PATCH", f"{CUSTOMERS}/{customer['id']}", json=body)
    assert response.status_code == 200, response.get_json()
    # An empty object changes nothing in either: location keys are merged, custom data too.
    assert response.get_json()["location"]["city"] == "Kyiv"
    assert response.get_json()["customData"] == {"planStr": "pro"}


def test_an_empty_list_as_the_search_body_reads_as_an_empty_search(api) -> None:
    create(api, name="Kim")
    response = api.post(f"{CUSTOMERS}/search", json=[])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] == 1


def test_an_empty_list_as_a_batch_item_reads_as_an_empty_object(api) -> None:
    response = api.request("PUT", f"{CUSTOMERS}/batch", json=[[]])
    assert response.status_code == 422
    assert fields_of(response) == ["[0].customer"]  # read as {}: the id is missing


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/events", {"customer": 1, "name": "x", "data": ["a"]}),
        ("PATCH", f"{CUSTOMERS}/1", ["a"]),
        ("PATCH", f"{CUSTOMERS}/1", {"location": ["Kyiv"]}),
        ("POST", f"{CUSTOMERS}/search", [{"field": "customers.name"}]),
    ],
)
def test_a_non_empty_list_where_an_object_belongs_stays_a_422(api, method, path, body) -> None:
    create(api, name="Kim")
    assert api.request(method, path, json=body).status_code == 422


# --- undefined custom attributes ------------------------------------------------------------


def test_an_undefined_property_is_defined_on_first_use_and_the_write_is_kept(api) -> None:
    customer = create(api, name="Kim")
    body = {"customData": [{"property": "viber", "value": "+380501234567"}], "notes": "call"}
    response = api.request("PUT", f"{CUSTOMERS}/{customer['id']}", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["customData"] == {"viber": "+380501234567"}
    assert response.get_json()["notes"] == "call"
    assert attributes(api) == {"viber": ("string", "inferred")}


@pytest.mark.parametrize(
    ("value", "type_"), [("x", "string"), (3, "number"), (2.5, "number"), (True, "boolean")]
)
def test_the_inferred_type_is_the_json_type_of_the_first_value(api, value, type_) -> None:
    create(api, customData=[{"property": "thing", "value": value}])
    assert attributes(api) == {"thing": (type_, "inferred")}


def test_a_suffix_still_decides_the_type_and_counts_as_inferred(api) -> None:
    create(api, customData=[{"property": "renewedAt", "value": "1603885746"}])
    assert attributes(api) == {"renewedAt": ("date", "inferred")}


def test_an_explicit_definition_is_listed_as_explicit(api) -> None:
    response = api.post("/v1/custom-attributes", json={"name": "plan", "type": "string"})
    assert response.status_code == 201
    assert response.get_json()["defined"] == "explicit"
    assert attributes(api) == {"plan": ("string", "explicit")}


def test_a_later_value_of_another_type_is_a_422_naming_the_field_and_the_type(api) -> None:
    customer = create(api, customData=[{"property": "seats", "value": 3}])
    body = {"customData": [{"property": "seats", "value": "three"}], "notes": "n"}
    response = api.request("PUT", f"{CUSTOMERS}/{customer['id']}", json=body)
    assert response.status_code == 422
    [entry] = response.get_json()["errors"][1:]
    assert entry["field"] == "customData[0].value"
    assert "number" in entry["message"]


def test_the_first_value_in_a_batch_decides_and_a_conflicting_later_one_fails_it_all(api) -> None:
    a, b = create(api, email="a@example.org"), create(api, email="b@example.org")
    items = [
        {"customer": a["id"], "customData": [{"property": "level", "value": 1}]},
        {"customer": b["id"], "customData": [{"property": "level", "value": "high"}]},
    ]
    response = api.request("PUT", f"{CUSTOMERS}/batch", json=items)
    assert response.status_code == 422
    assert fields_of(response) == ["[1].customData[0].value"]
    assert attributes(api) == {}  # nothing of the batch stays, definitions included


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2]])
def test_object_and_list_custom_data_values_are_a_422(api, value) -> None:
    response = api.post(CUSTOMERS, json={"customData": [{"property": "thing", "value": value}]})
    assert response.status_code == 422
    assert fields_of(response) == ["customData[0].value"]
    assert attributes(api) == {}


def test_null_for_an_undefined_property_defines_nothing(api) -> None:
    customer = create(api, customData=[{"property": "thing", "value": None}])
    assert customer["customData"] == {}
    assert attributes(api) == {}


def test_strict_mode_refuses_undefined_properties_without_a_suffix(strict_api) -> None:
    body = {"customData": [{"property": "viber", "value": "x"}], "notes": "n"}
    response = strict_api.post(CUSTOMERS, json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"][1]["code"] == "unknown_attribute"
    response = strict_api.post(CUSTOMERS, json={"customData": [{"property": "vStr", "value": "x"}]})
    assert response.status_code == 201  # suffixes still define


def test_custom_attributes_setting_is_validated(make_app, monkeypatch) -> None:
    monkeypatch.setenv("CUSTOM_ATTRIBUTES", "lenient")
    with pytest.raises(config.ConfigError, match="CUSTOM_ATTRIBUTES='lenient' is not valid"):
        make_app()


# --- the same customer twice in one batch ---------------------------------------------------


def test_the_same_customer_twice_in_a_batch_is_applied_in_order(api) -> None:
    customer = create(api, name="Kim", email="kim@example.org")
    other = create(api, name="Lee", email="lee@example.org")
    items = [
        {"customer": customer["id"], "name": "Kim One", "notes": "first"},
        {"customer": other["id"], "notes": "other"},
        {"customer": customer["id"], "name": "Kim Two", "tags": [{"name": "vip"}]},
    ]
    response = api.request("PUT", f"{CUSTOMERS}/batch", json=items)
    assert response.status_code == 200, response.get_json()
    first, middle, last = response.get_json()
    assert [first["id"], middle["id"], last["id"]] == [customer["id"], other["id"], customer["id"]]
    # Each entry shows the customer after its own item.
    assert (first["name"], first["notes"], first["tags"]) == ("Kim One", "first", [])
    assert (last["name"], last["notes"]) == ("Kim Two", "first")
    assert [t["name"] for t in last["tags"]] == ["vip"]
    assert api.get(f"{CUSTOMERS}/{customer['id']}").get_json() == last


def test_a_repeated_customer_is_still_all_or_nothing(api) -> None:
    customer = create(api, name="Kim")
    items = [
        {"customer": customer["id"], "name": "Changed"},
        {"customer": customer["id"], "email": "not an email"},
    ]
    response = api.request("PUT", f"{CUSTOMERS}/batch", json=items)
    assert response.status_code == 422
    assert fields_of(response) == ["[1].email"]
    assert api.get(f"{CUSTOMERS}/{customer['id']}").get_json()["name"] == "Kim"


def test_a_customer_and_its_merged_away_id_in_one_batch_are_applied_in_order(api) -> None:
    create(api, email="p@example.org", name="Ann")
    create(api, userId="u-1")
    merged = create(api, email="p@example.org", userId="u-1")
    [tombstone] = merged["mergedIds"]
    items = [
        {"customer": tombstone, "notes": "via tombstone"},
        {"customer": merged["id"], "company": "Acme"},
    ]
    first, second = api.request("PUT", f"{CUSTOMERS}/batch", json=items).get_json()
    assert first["id"] == second["id"] == merged["id"]
    assert (first["notes"], first["company"]) == ("via tombstone", None)
    assert (second["notes"], second["company"]) == ("via tombstone", "Acme")


# --- the location object --------------------------------------------------------------------


def test_location_is_an_object_of_nulls_when_unknown_everywhere(api) -> None:
    customer = create(api, name="Kim")
    assert customer["location"] == NO_LOCATION
    assert api.get(f"{CUSTOMERS}/{customer['id']}").get_json()["location"] == NO_LOCATION
    listed = api.get(CUSTOMERS).get_json()["data"]
    assert listed[0]["location"] == NO_LOCATION
