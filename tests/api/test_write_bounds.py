"""Every size inside one write is bounded: tag colors, tags per write, custom-data properties
per write and per account. Unbounded, a megabyte color (markup included) was echoed to every
reader, 45,000 tags ran 30 s and 20,000 properties were all defined for the account."""

from __future__ import annotations

import pytest

from app import bounds

CUSTOMERS = "/v1/customers"


def fields_of(response) -> list[str | None]:
    return [entry.get("field") for entry in response.get_json()["errors"][1:]]


def create(api, **fields) -> dict:
    response = api.post(CUSTOMERS, json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    "color",
    [
        "red /* <script>alert(1)</script> */",
        "/**/red",
        "#" + "a" * 64,
        "rgb(1 2 3" + " " * 60 + ")",
        "red; background: url(x)",
    ],
)
def test_a_tag_color_is_one_css_color_of_at_most_64_characters_without_comments(
    api, color: str
) -> None:
    customer = create(api, name="Kim")
    body = {"tags": [{"name": "vip", "color": color}]}
    response = api.request("PUT", f"{CUSTOMERS}/{customer['id']}/tags", json=body)
    assert response.status_code == 422
    assert fields_of(response) == ["tags[0].color"]
    assert api.get("/v1/tags").get_json()["data"] == []


@pytest.mark.parametrize(
    "color", ["#c377e0", "rebeccapurple", "rgb(10 20 30 / 50%)", "hsl(120 50% 50%)"]
)
def test_a_tag_color_is_stored_as_sent(api, color: str) -> None:
    customer = create(api, tags=[{"name": "vip", "color": color}])
    assert customer["tags"] == [{"name": "vip", "color": color}]


def test_a_write_carries_at_most_max_tags(api) -> None:
    tags = [{"name": f"t{i}"} for i in range(bounds.MAX_TAGS_PER_WRITE)]
    assert len(create(api, tags=tags)["tags"]) == bounds.MAX_TAGS_PER_WRITE
    response = api.post(CUSTOMERS, json={"tags": [*tags, {"name": "one-more"}]})
    assert response.status_code == 422
    assert fields_of(response) == ["tags"]


def test_tagging_carries_at_most_max_tags(api) -> None:
    customer = create(api, name="Kim")
    tags = [{"name": f"t{i}"} for i in range(bounds.MAX_TAGS_PER_WRITE + 1)]
    path = f"{CUSTOMERS}/{customer['id']}/tags"
    response = api.request("PUT", path, json={"tags": tags})
    assert response.status_code == 422
    assert fields_of(response) == ["tags"]
    response = api.request("DELETE", path, json={"tags": tags})
    assert response.status_code == 422
    assert fields_of(response) == ["tags"]


def test_a_write_carries_at_most_max_custom_data_properties(api) -> None:
    items = [
        {"property": f"p{i}Str", "value": "x"} for i in range(bounds.MAX_CUSTOM_DATA_PER_WRITE)
    ]
    assert len(create(api, customData=items)["customData"]) == bounds.MAX_CUSTOM_DATA_PER_WRITE
    over = [*items, {"property": "extraStr", "value": "x"}]
    response = api.post(CUSTOMERS, json={"email": "b@example.org", "customData": over})
    assert response.status_code == 422
    assert fields_of(response) == ["customData"]
    # The object form a read returns is bounded the same way.
    as_object = {item["property"]: item["value"] for item in over}
    response = api.post(CUSTOMERS, json={"email": "c@example.org", "customData": as_object})
    assert response.status_code == 422
    assert fields_of(response) == ["customData"]


def test_an_account_defines_at_most_max_custom_attributes(api, monkeypatch) -> None:
    monkeypatch.setattr(bounds, "MAX_CUSTOM_ATTRIBUTES_PER_ACCOUNT", 3)
    create(api, customData=[{"property": "aStr", "value": "x"}, {"property": "bStr", "value": "y"}])
    over = [
        {"property": "aStr", "value": "x"},
        {"property": "cStr", "value": "z"},
        {"property": "dStr", "value": "w"},
    ]
    response = api.post(CUSTOMERS, json={"email": "b@example.org", "customData": over})
    assert response.status_code == 422
    [entry] = response.get_json()["errors"][1:]
    assert entry["code"] == "too_many_attributes"
    assert entry["field"] == "customData[2].property"
    names = {a["name"] for a in api.get("/v1/custom-attributes").get_json()["data"]}
    assert names == {"aStr", "bStr"}  # nothing of the refused write was defined
    # One more fits; an explicit definition past the cap is refused too.
    create(api, email="c@example.org", customData=[{"property": "cStr", "value": "z"}])
    response = api.post("/v1/custom-attributes", json={"name": "plan", "type": "string"})
    assert response.status_code == 422
    assert fields_of(response) == ["name"]
    response = api.post("/v1/custom-attributes", json={"name": "aStr", "type": "string"})
    assert response.status_code == 409
