"""Tags, events and custom attributes around customers (HelpCrunch v1 paths plus ours)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

CUSTOMERS = "/v1/customers"
TAGS = "/v1/tags"
EVENTS = "/v1/events"
ATTRIBUTES = "/v1/custom-attributes"
GENERIC = {"code": "invalid_request", "message": "Invalid request"}
DEFAULT_COLOR = "#c377e0"
TYPES = ("string", "text", "number", "boolean", "date", "url")


# --- helpers --------------------------------------------------------------------------------


def create(api, account: str = "acme", **fields: Any) -> dict[str, Any]:
    response = api.post(CUSTOMERS, json=fields, account=account)
    assert response.status_code == 201, response.data
    return response.get_json()


def tag(api, customer_id: int, *tags: dict[str, Any], account: str = "acme"):
    path = f"{CUSTOMERS}/{customer_id}/tags"
    return api.request("PUT", path, json={"tags": list(tags)}, account=account)


def untag(api, customer_id: int, *names: str, account: str = "acme"):
    body = {"tags": [{"name": name} for name in names]}
    return api.request("DELETE", f"{CUSTOMERS}/{customer_id}/tags", json=body, account=account)


def get_customer(api, customer_id: int, account: str = "acme") -> dict[str, Any]:
    response = api.get(f"{CUSTOMERS}/{customer_id}", account=account)
    assert response.status_code == 200, response.data
    return response.get_json()


def tag_colors(customer: dict[str, Any]) -> dict[str, str]:
    return {t["name"]: t["color"] for t in customer["tags"]}


# The CSS named colors these tests send, as #rrggbb (CSS Color Module Level 4).
NAMED_COLORS = {
    "red": "#ff0000",
    "lightgray": "#d3d3d3",
    "cornflowerblue": "#6495ed",
    "rebeccapurple": "#663399",
}


def hex_of(color: str) -> str:
    """A CSS color as lower-case #rrggbb, whether stored by name or as (short) hex."""
    color = color.strip().lower()
    if color in NAMED_COLORS:
        return NAMED_COLORS[color]
    assert re.fullmatch(r"#[0-9a-f]{3}|#[0-9a-f]{6}", color), color
    return "#" + "".join(c * 2 for c in color[1:]) if len(color) == 4 else color


def page(api, path: str, account: str = "acme", **query: Any) -> dict[str, Any]:
    response = api.get(path, query_string=query, account=account)
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert set(body) == {"data", "nextCursor"}
    return body


def walk(api, path: str, limit: int, account: str = "acme") -> list[list[dict[str, Any]]]:
    """Every page of a keyset-paginated list, following nextCursor until it is null."""
    pages = []
    body = page(api, path, account=account, limit=limit)
    while True:
        pages.append(body["data"])
        if body["nextCursor"] is None:
            return pages
        assert len(pages) <= 50, "the cursor walk does not end"
        body = page(api, path, account=account, limit=limit, after=body["nextCursor"])


def error(response, status: int) -> list[dict[str, str]]:
    """The response is ``status`` in the error envelope; returns the specific entries."""
    assert response.status_code == status, response.data
    errors = response.get_json()["errors"]
    assert errors[0] == GENERIC
    assert len(errors) >= 2
    return errors[1:]


def error_fields(response) -> list[str | None]:
    return [entry.get("field") for entry in error(response, 422)]


# --- PUT /v1/customers/{id}/tags ------------------------------------------------------------


def test_tagging_adds_the_tags_and_keeps_the_others(api):
    customer = create(api, name="Alex", tags=[{"name": "Paid"}])
    response = tag(api, customer["id"], {"name": "Lead", "color": "#ccc"}, {"name": "Black Friday"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == customer["id"]
    assert body["name"] == "Alex"
    assert set(tag_colors(body)) == {"Paid", "Lead", "Black Friday"}
    assert get_customer(api, customer["id"]) == body


def test_tagging_answers_the_full_customer_object(api):
    customer = create(api, email="alex@example.com")
    body = tag(api, customer["id"], {"name": "vip"}).get_json()
    assert set(body) == set(customer)
    assert {k: v for k, v in body.items() if k not in ("tags", "updatedAt")} == {
        k: v for k, v in customer.items() if k not in ("tags", "updatedAt")
    }


def test_tagging_with_a_tag_the_customer_has_changes_nothing(api):
    customer = create(api, tags=[{"name": "vip"}])
    body = tag(api, customer["id"], {"name": "vip"}).get_json()
    assert body["tags"] == customer["tags"]


def test_unknown_tags_are_created_with_the_default_color(api):
    customer = create(api)
    body = tag(api, customer["id"], {"name": "Lead"}, {"name": "Black Friday"}).get_json()
    assert tag_colors(body) == {"Lead": DEFAULT_COLOR, "Black Friday": DEFAULT_COLOR}
    listed = page(api, TAGS)["data"]
    assert {t["name"]: t["color"] for t in listed} == tag_colors(body)


@pytest.mark.parametrize(
    "color", ["red", "LightGray", "cornflowerblue", "rebeccapurple", "#ccc", "#CCCCCC", "#c377e0"]
)
def test_named_and_hex_css_colors_are_accepted(api, color):
    customer = create(api)
    response = tag(api, customer["id"], {"name": "Lead", "color": color})
    assert response.status_code == 200, response.data
    assert hex_of(tag_colors(response.get_json())["Lead"]) == hex_of(color)


@pytest.mark.parametrize("color", ["notacolor", "#ggg", "#12345", "", "rgb(1,2"])
def test_a_bad_color_is_422_and_creates_nothing(api, color):
    customer = create(api)
    response = tag(api, customer["id"], {"name": "ok"}, {"name": "Lead", "color": color})
    assert error_fields(response) == ["tags[1].color"]
    assert get_customer(api, customer["id"])["tags"] == []
    assert page(api, TAGS)["data"] == []


def test_a_color_sent_for_an_existing_tag_recolors_it_account_wide(api):
    first = create(api, tags=[{"name": "vip"}])
    second = create(api)
    assert tag_colors(first) == {"vip": DEFAULT_COLOR}
    body = tag(api, second["id"], {"name": "vip", "color": "#00ff00"}).get_json()
    assert tag_colors(body) == {"vip": "#00ff00"}
    assert tag_colors(get_customer(api, first["id"])) == {"vip": "#00ff00"}
    assert page(api, TAGS)["data"] == [{"name": "vip", "color": "#00ff00"}]


def test_tagging_without_a_color_keeps_the_tags_color(api):
    customer = create(api, tags=[{"name": "vip", "color": "red"}])
    other = create(api)
    body = tag(api, other["id"], {"name": "vip"}).get_json()
    assert hex_of(tag_colors(body)["vip"]) == "#ff0000"
    assert hex_of(tag_colors(get_customer(api, customer["id"]))["vip"]) == "#ff0000"


def test_tag_names_match_case_insensitively_and_keep_their_first_spelling(api):
    first = create(api)
    second = create(api)
    tag(api, first["id"], {"name": "VIP Client"})
    body = tag(api, second["id"], {"name": "vip client"}).get_json()
    assert [t["name"] for t in body["tags"]] == ["VIP Client"]
    again = tag(api, first["id"], {"name": "vip CLIENT"}).get_json()
    assert [t["name"] for t in again["tags"]] == ["VIP Client"]
    assert [t["name"] for t in page(api, TAGS)["data"]] == ["VIP Client"]


def test_tags_repeated_in_one_request_in_another_case_are_one_tag(api):
    customer = create(api)
    body = tag(api, customer["id"], {"name": "Lead"}, {"name": "LEAD"}).get_json()
    assert [t["name"] for t in body["tags"]] == ["Lead"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "tags"),
        ({"tags": []}, "tags"),
        ({"tags": "vip"}, "tags"),
        ({"tags": [{"color": "red"}]}, "tags[0].name"),
        ({"tags": [{"name": "  "}]}, "tags[0].name"),
        ({"tags": [{"name": "x" * 101}]}, "tags[0].name"),
    ],
)
def test_tagging_with_a_bad_body_is_422_naming_the_field(api, body, field):
    customer = create(api)
    response = api.request("PUT", f"{CUSTOMERS}/{customer['id']}/tags", json=body)
    assert error_fields(response) == [field]


def test_tagging_an_unknown_customer_is_404(api):
    customer = create(api)
    assert error(tag(api, customer["id"] + 1000, {"name": "vip"}), 404)[0]["code"] == "not_found"
    assert page(api, TAGS)["data"] == []


def test_tagging_another_accounts_customer_is_404(api):
    theirs = create(api, account="globex")
    assert error(tag(api, theirs["id"], {"name": "vip"}), 404)[0]["code"] == "not_found"
    assert get_customer(api, theirs["id"], account="globex")["tags"] == []


# --- DELETE /v1/customers/{id}/tags ---------------------------------------------------------


def test_untagging_removes_the_named_tags_and_answers_the_customer(api):
    customer = create(api, name="Alex", tags=[{"name": "Paid"}, {"name": "Lead"}, {"name": "vip"}])
    response = untag(api, customer["id"], "Lead", "vip")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == customer["id"]
    assert body["name"] == "Alex"
    assert [t["name"] for t in body["tags"]] == ["Paid"]
    assert get_customer(api, customer["id"]) == body


def test_untagging_matches_names_case_insensitively(api):
    customer = create(api, tags=[{"name": "Black Friday"}, {"name": "Paid"}])
    body = untag(api, customer["id"], "BLACK friday").get_json()
    assert [t["name"] for t in body["tags"]] == ["Paid"]


def test_untagging_a_tag_the_customer_does_not_have_changes_nothing(api):
    customer = create(api, tags=[{"name": "Paid"}])
    create(api, tags=[{"name": "Lead"}])
    response = untag(api, customer["id"], "Lead", "never-existed")
    assert response.status_code == 200
    assert response.get_json()["tags"] == customer["tags"]


def test_untagging_leaves_other_customers_and_the_accounts_tags_alone(api):
    first = create(api, tags=[{"name": "vip"}])
    second = create(api, tags=[{"name": "vip"}])
    untag(api, first["id"], "vip")
    assert tag_colors(get_customer(api, second["id"])) == {"vip": DEFAULT_COLOR}
    assert page(api, TAGS)["data"] == [{"name": "vip", "color": DEFAULT_COLOR}]


def test_untagging_an_unknown_customer_is_404(api):
    customer = create(api, tags=[{"name": "vip"}])
    assert error(untag(api, customer["id"] + 1000, "vip"), 404)[0]["code"] == "not_found"
    theirs = create(api, account="globex", tags=[{"name": "vip"}])
    assert error(untag(api, theirs["id"], "vip"), 404)[0]["code"] == "not_found"
    assert tag_colors(get_customer(api, theirs["id"], account="globex")) == {"vip": DEFAULT_COLOR}


def test_untagging_needs_a_json_body_naming_the_tags(api):
    customer = create(api, tags=[{"name": "vip"}])
    path = f"{CUSTOMERS}/{customer['id']}/tags"
    assert error_fields(api.request("DELETE", path, json={"tags": []})) == ["tags"]
    assert error_fields(api.request("DELETE", path, json={"tags": [{}]})) == ["tags[0].name"]
    assert get_customer(api, customer["id"])["tags"] == customer["tags"]


def test_untagging_body_is_read_without_a_content_type(api):
    customer = create(api, tags=[{"name": "vip"}, {"name": "Paid"}])
    path = f"{CUSTOMERS}/{customer['id']}/tags"
    response = api.request("DELETE", path, data=b'{"tags": [{"name": "vip"}]}')
    assert response.status_code == 200, response.data
    assert [t["name"] for t in response.get_json()["tags"]] == ["Paid"]


# --- GET /v1/tags -------------------------------------------------------------------------


def test_tags_list_answers_the_accounts_tags_with_colors(api):
    create(api, tags=[{"name": "vip", "color": "#ccc"}, {"name": "Lead"}])
    body = page(api, TAGS)
    assert body["nextCursor"] is None
    assert sorted(body["data"], key=lambda t: t["name"]) == [
        {"name": "Lead", "color": DEFAULT_COLOR},
        {"name": "vip", "color": "#ccc"},
    ]


def test_tags_list_is_paginated_with_limit_and_after(api):
    wanted = [f"tag-{i}" for i in range(7)]
    create(api, tags=[{"name": name} for name in wanted])
    pages = walk(api, TAGS, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    walked = [t["name"] for p in pages for t in p]
    assert sorted(walked) == wanted
    assert walked == [t["name"] for t in page(api, TAGS, limit=100)["data"]]


def test_tags_list_next_cursor_is_null_when_the_last_page_is_exactly_full(api):
    create(api, tags=[{"name": f"tag-{i}"} for i in range(4)])
    first = page(api, TAGS, limit=2)
    second = page(api, TAGS, limit=2, after=first["nextCursor"])
    assert len(second["data"]) == 2
    assert second["nextCursor"] is None


def test_tags_list_never_shows_another_accounts_tags(api):
    create(api, tags=[{"name": "mine"}])
    create(api, account="globex", tags=[{"name": "theirs"}, {"name": "Mine", "color": "red"}])
    assert page(api, TAGS)["data"] == [{"name": "mine", "color": DEFAULT_COLOR}]
    theirs = page(api, TAGS, account="globex")["data"]
    assert {t["name"] for t in theirs} == {"Mine", "theirs"}


@pytest.mark.parametrize("path", [TAGS, ATTRIBUTES])
@pytest.mark.parametrize(("key", "value"), [("limit", 0), ("limit", 101), ("after", "%%%")])
def test_our_lists_reject_bad_paging_naming_the_parameter(api, path, key, value):
    assert error_fields(api.get(path, query_string={key: value})) == [key]


def b64(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", [TAGS, ATTRIBUTES])
@pytest.mark.parametrize(
    "position",
    [{"name": "\u0000"}, {"name": 5}, {"name": True}, {"id": 5}, ["a"]],
    ids=["name-with-NUL", "name-a-number", "name-a-boolean", "no-name", "a-list"],
)
def test_our_lists_reject_a_tampered_cursor_naming_after(api, path, position):
    create(api, tags=[{"name": "vip"}])
    assert error_fields(api.get(path, query_string={"after": b64(position)})) == ["after"]


# --- POST /v1/events ----------------------------------------------------------------------


def test_an_event_is_recorded_and_answered_with_id_name_data_customer_and_created_at(api):
    customer = create(api)
    data = {"button": "buy", "count": 3, "price": 15.99, "paid": True, "coupon": None}
    body = {"name": "Button Click", "data": data, "customer": customer["id"]}
    response = api.post(EVENTS, json=body)
    assert response.status_code == 200
    event = response.get_json()
    assert set(event) == {"id", "name", "data", "customer", "createdAt"}
    assert isinstance(event["id"], int)
    assert event["name"] == "Button Click"
    assert event["data"] == data
    assert event["customer"] == customer["id"]
    assert isinstance(event["createdAt"], str) and event["createdAt"].isdigit()
    assert int(event["createdAt"]) >= int(customer["createdAt"])


def test_an_event_accepts_the_customer_id_as_a_string_and_no_data(api):
    customer = create(api)
    response = api.post(EVENTS, json={"name": "Signed up", "customer": str(customer["id"])})
    assert response.status_code == 200, response.data
    assert response.get_json()["data"] == {}
    assert response.get_json()["customer"] == customer["id"]


@pytest.mark.parametrize(
    "value", [{"nested": "object"}, ["a", "list"], [], {}], ids=["object", "list", "[]", "{}"]
)
def test_an_event_with_nested_data_values_is_422(api, value):
    customer = create(api)
    body = {"name": "Click", "data": {"fine": 1, "bad": value}, "customer": customer["id"]}
    fields = error_fields(api.post(EVENTS, json=body))
    assert len(fields) == 1 and fields[0].startswith("data")
    assert page(api, f"{CUSTOMERS}/{customer['id']}/events")["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": {}}, "name"),
        ({"name": ""}, "name"),
        ({"name": "Click", "data": ["a"]}, "data"),
        ({"name": "Click", "data": "flat"}, "data"),
    ],
)
def test_an_event_with_a_bad_name_or_data_is_422_naming_the_field(api, body, field):
    customer = create(api)
    assert error_fields(api.post(EVENTS, json={"customer": customer["id"], **body})) == [field]


@pytest.mark.parametrize("value", [None, "abc", "", True])
def test_an_event_without_a_numeric_customer_is_422_naming_customer(api, value):
    body = {"name": "Click", "customer": value}
    assert error_fields(api.post(EVENTS, json=body)) == ["customer"]


def test_an_event_customer_that_is_not_a_whole_number_is_422_not_another_customer(api):
    customer = create(api)
    body = {"name": "Click", "customer": customer["id"] + 0.5}
    assert error_fields(api.post(EVENTS, json=body)) == ["customer"]
    assert page(api, f"{CUSTOMERS}/{customer['id']}/events")["data"] == []


def test_an_event_for_an_unknown_customer_is_404(api):
    customer = create(api)
    response = api.post(EVENTS, json={"name": "Click", "customer": customer["id"] + 1000})
    assert error(response, 404)[0]["code"] == "not_found"
    theirs = create(api, account="globex")
    response = api.post(EVENTS, json={"name": "Click", "customer": theirs["id"]})
    assert error(response, 404)[0]["code"] == "not_found"
    assert page(api, f"{CUSTOMERS}/{theirs['id']}/events", account="globex")["data"] == []


# --- GET /v1/customers/{id}/events ----------------------------------------------------------


def record(api, customer_id: int, name: str, account: str = "acme") -> dict[str, Any]:
    body = {"name": name, "data": {"n": name}, "customer": customer_id}
    response = api.post(EVENTS, json=body, account=account)
    assert response.status_code == 200, response.data
    return response.get_json()


def test_a_customers_events_are_listed_newest_first(api):
    customer = create(api)
    other = create(api)
    made = [record(api, customer["id"], f"event-{i}") for i in range(3)]
    record(api, other["id"], "someone else's")
    body = page(api, f"{CUSTOMERS}/{customer['id']}/events")
    assert body["data"] == made[::-1]
    assert body["nextCursor"] is None


def test_a_customers_events_are_keyset_paginated(api):
    customer = create(api)
    made = [record(api, customer["id"], f"event-{i}") for i in range(5)]
    pages = walk(api, f"{CUSTOMERS}/{customer['id']}/events", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e for p in pages for e in p] == made[::-1]


def test_a_customers_events_next_cursor_is_null_when_the_last_page_is_exactly_full(api):
    customer = create(api)
    for i in range(4):
        record(api, customer["id"], f"event-{i}")
    path = f"{CUSTOMERS}/{customer['id']}/events"
    first = page(api, path, limit=2)
    second = page(api, path, limit=2, after=first["nextCursor"])
    assert len(second["data"]) == 2
    assert second["nextCursor"] is None


def test_events_recorded_while_paging_do_not_shift_the_pages(api):
    customer = create(api)
    made = [record(api, customer["id"], f"event-{i}") for i in range(4)]
    path = f"{CUSTOMERS}/{customer['id']}/events"
    first = page(api, path, limit=2)
    record(api, customer["id"], "newer")
    second = page(api, path, limit=2, after=first["nextCursor"])
    assert first["data"] + second["data"] == made[::-1]


def test_listing_events_of_an_unknown_customer_is_404(api):
    customer = create(api)
    response = api.get(f"{CUSTOMERS}/{customer['id'] + 1000}/events")
    assert error(response, 404)[0]["code"] == "not_found"
    theirs = create(api, account="globex")
    record(api, theirs["id"], "private", account="globex")
    response = api.get(f"{CUSTOMERS}/{theirs['id']}/events")
    assert error(response, 404)[0]["code"] == "not_found"


@pytest.mark.parametrize(("key", "value"), [("limit", 0), ("limit", 101), ("after", "%%%")])
def test_listing_events_with_bad_paging_is_422_naming_the_parameter(api, key, value):
    customer = create(api)
    response = api.get(f"{CUSTOMERS}/{customer['id']}/events", query_string={key: value})
    assert error_fields(response) == [key]


@pytest.mark.parametrize(
    "position",
    [{"id": 2**70}, {"id": -(2**70)}, {"id": True}, {"id": "5"}, {"name": "x"}],
    ids=["id-too-large", "id-too-small", "id-a-boolean", "id-a-string", "no-id"],
)
def test_listing_events_with_a_tampered_cursor_is_422_naming_after(api, position):
    customer = create(api)
    record(api, customer["id"], "click")
    path = f"{CUSTOMERS}/{customer['id']}/events"
    assert error_fields(api.get(path, query_string={"after": b64(position)})) == ["after"]


# --- custom attributes --------------------------------------------------------------------


@pytest.mark.parametrize("type_", TYPES)
def test_a_custom_attribute_of_each_type_is_created_with_201(api, type_):
    response = api.post(ATTRIBUTES, json={"name": f"plan_{type_}", "type": type_})
    assert response.status_code == 201, response.data
    body = response.get_json()
    assert set(body) == {"name", "type", "defined", "createdAt"}
    assert body["defined"] == "explicit"
    assert (body["name"], body["type"]) == (f"plan_{type_}", type_)
    assert body["createdAt"].isdigit()
    assert page(api, ATTRIBUTES)["data"] == [body]


def test_a_duplicate_custom_attribute_name_is_409_already_exists(api):
    first = api.post(ATTRIBUTES, json={"name": "plan", "type": "string"})
    assert first.status_code == 201
    response = api.post(ATTRIBUTES, json={"name": "plan", "type": "number"})
    assert error(response, 409)[0]["code"] == "already_exists"
    assert page(api, ATTRIBUTES)["data"] == [first.get_json()]


def test_the_same_custom_attribute_name_may_exist_in_two_accounts(api):
    assert api.post(ATTRIBUTES, json={"name": "plan", "type": "string"}).status_code == 201
    response = api.post(ATTRIBUTES, json={"name": "plan", "type": "url"}, account="globex")
    assert response.status_code == 201


@pytest.mark.parametrize("type_", ["integer", "String", "", "json", None, 5])
def test_a_custom_attribute_with_a_bad_type_is_422_naming_type(api, type_):
    assert error_fields(api.post(ATTRIBUTES, json={"name": "plan", "type": type_})) == ["type"]
    assert page(api, ATTRIBUTES)["data"] == []


@pytest.mark.parametrize("body", [{"type": "string"}, {"name": "", "type": "string"}])
def test_a_custom_attribute_without_a_name_is_422_naming_name(api, body):
    assert error_fields(api.post(ATTRIBUTES, json=body)) == ["name"]


def test_custom_attributes_are_listed_and_paginated(api):
    made = [
        api.post(ATTRIBUTES, json={"name": f"attr_{type_}", "type": type_}).get_json()
        for type_ in TYPES
    ]
    pages = walk(api, ATTRIBUTES, 4)
    assert [len(p) for p in pages] == [4, 2]
    walked = [a for p in pages for a in p]
    assert sorted(walked, key=lambda a: a["name"]) == sorted(made, key=lambda a: a["name"])
    assert walked == page(api, ATTRIBUTES, limit=100)["data"]
    assert page(api, ATTRIBUTES, limit=6)["nextCursor"] is None


def test_custom_attributes_list_never_shows_another_accounts(api):
    mine = api.post(ATTRIBUTES, json={"name": "plan", "type": "string"}).get_json()
    api.post(ATTRIBUTES, json={"name": "tier", "type": "number"}, account="globex")
    assert page(api, ATTRIBUTES)["data"] == [mine]
    assert [a["name"] for a in page(api, ATTRIBUTES, account="globex")["data"]] == ["tier"]
