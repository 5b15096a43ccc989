"""PUT /v1/customers/batch, and the write rules it shares with PUT and PATCH: null clears while
omission keeps, tags set exactly, typed custom data merged per property."""

from __future__ import annotations

import copy
import re

import pytest

from tests.api.test_customers import create, define, error_codes, error_entries, error_fields, read

URL = "/v1/customers"
BATCH = f"{URL}/batch"
DEFAULT_COLOR = "#c377e0"

# The body of the mimicked API's batch page (shared/seeds/001_e415b650e4a372be.txt), verbatim
# but for `customer` (set per test) and the obfuscated email.
SEED_ITEM = {
    "customer": 542335,
    "name": "John Doe",
    "email": "john.doe@example.com",
    "userId": "user_1234567890",
    "company": "Example Inc.",
    "phone": "+10233456781",
    "firstSeen": "1603885746",
    "lastSeen": "1603885746",
    "unsubscribed": False,
    "blocked": False,
    "source": "https://example.com",
    "referer": "https://example.com",
    "lastPage": "https://example.com",
    "locale": "uk",
    "createdFrom": "telegram",
    "integrationId": "465847687",
    "notes": "Lorem ipsum",
    "tags": [{"name": "vip", "color": "#ff0000"}],
    "customData": [
        {"property": "subscription_status", "value": "active"},
        {"property": "number_of_payments", "value": 15},
        {"property": "last_paid_amount", "value": 15.99},
        {"property": "last_payment_date", "value": "1603885746"},
        {"property": "last_invoice_url", "value": "https://example.com/invoice.html"},
        {"property": "last_payment_was_successful", "value": True},
    ],
}
SEED_ATTRIBUTES = {
    "subscription_status": "string",
    "number_of_payments": "number",
    "last_paid_amount": "number",
    "last_payment_date": "date",
    "last_invoice_url": "url",
    "last_payment_was_successful": "boolean",
}
# How each write method names the customer: the batch, PUT and PATCH share the write rules.
WRITES = ("batch", "PUT", "PATCH")


def batch(api, body, *, account: str = "acme"):
    return api.request("PUT", BATCH, json=body, account=account)


def write(api, how: str, customer_id: int, body: dict) -> dict:
    """Write ``body`` to one customer by id with ``how``; the customer object written."""
    if how == "batch":
        response = batch(api, [{"customer": customer_id, **body}])
        assert response.status_code == 200, response.get_json()
        [customer] = response.get_json()
        return customer
    response = api.request(how, f"{URL}/{customer_id}", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def write_response(api, how: str, customer_id: int, body: dict):
    if how == "batch":
        return batch(api, [{"customer": customer_id, **body}])
    return api.request(how, f"{URL}/{customer_id}", json=body)


def prefix(how: str) -> str:
    return "[0]." if how == "batch" else ""


def tag_names(customer: dict) -> list[str]:
    return sorted(tag["name"] for tag in customer["tags"])


# --- the mimicked API's own example --------------------------------------------------------


def test_seed_example_body_succeeds_end_to_end(api):
    for name, type_ in SEED_ATTRIBUTES.items():
        define(api, name, type_)
    customer_id = create(api)["id"]
    body = copy.deepcopy([{**SEED_ITEM, "customer": customer_id}])

    response = batch(api, body)

    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert isinstance(result, list) and len(result) == 1
    [customer] = result
    expected = {k: v for k, v in SEED_ITEM.items() if k not in ("customer", "customData")}
    assert {k: customer[k] for k in expected} == expected
    assert customer["id"] == customer_id
    assert customer["device"] is None
    assert customer["location"] == {"regionCode": None, "countryCode": None, "city": None}
    assert customer["customData"] == {
        "subscription_status": "active",
        "number_of_payments": 15,
        "last_paid_amount": 15.99,
        "last_payment_date": 1603885746,
        "last_invoice_url": "https://example.com/invoice.html",
        "last_payment_was_successful": True,
    }
    assert isinstance(customer["customData"]["last_payment_date"], int)
    assert customer["tags"] == [{"name": "vip", "color": "#ff0000"}]
    assert read(api, customer_id) == customer


def test_strict_seed_example_body_without_the_attributes_is_422_unknown_attribute(strict_api):
    customer = create(strict_api)
    response = batch(strict_api, [{**SEED_ITEM, "customer": customer["id"]}])
    assert response.status_code == 422
    assert set(error_codes(response)) == {"unknown_attribute"}
    assert error_fields(response) == [f"[0].customData[{j}].property" for j in range(6)]
    assert read(strict_api, customer["id"]) == customer


# --- shape of the batch --------------------------------------------------------------------


def test_batch_of_10_items_is_accepted(api):
    ids = [create(api)["id"] for _ in range(10)]
    response = batch(api, [{"customer": i, "name": f"n{i}"} for i in ids])
    assert response.status_code == 200
    assert [(c["id"], c["name"]) for c in response.get_json()] == [(i, f"n{i}") for i in ids]


def test_batch_of_11_items_is_rejected(api):
    ids = [create(api)["id"] for _ in range(11)]
    response = batch(api, [{"customer": i, "name": "changed"} for i in ids])
    assert response.status_code == 422
    assert error_codes(response) == ["invalid_field"]
    assert all(read(api, i)["name"] is None for i in ids)


def test_empty_batch_is_422(api):
    response = batch(api, [])
    assert response.status_code == 422
    assert error_codes(response) == ["invalid_field"]


@pytest.mark.parametrize("body", [{"customer": 1, "name": "Ann"}, {}, "Ann", 5, None])
def test_batch_body_that_is_not_an_array_is_422(api, body):
    customer = create(api)
    if isinstance(body, dict) and body:
        body = {**body, "customer": customer["id"]}
    response = batch(api, body)
    assert response.status_code == 422
    assert read(api, customer["id"]) == customer


def test_batch_repeated_customer_is_applied_in_order(api):
    first, second = create(api)["id"], create(api)["id"]
    body = [
        {"customer": first, "name": "a"},
        {"customer": second, "name": "b"},
        {"customer": first, "name": "c"},
    ]
    response = batch(api, body)
    assert response.status_code == 200
    assert [c["name"] for c in response.get_json()] == ["a", "b", "c"]
    assert read(api, first)["name"] == "c"


def test_batch_unknown_field_is_422_naming_it(api):
    first, second = create(api)["id"], create(api)["id"]
    body = [{"customer": first, "name": "a"}, {"customer": second, "nickname": "b"}]
    response = batch(api, body)
    assert response.status_code == 422
    assert error_fields(response) == ["[1].nickname"]
    assert error_codes(response) == ["invalid_field"]


@pytest.mark.parametrize(
    "item",
    [
        {"name": "Ann"},
        {"customer": None},
        {"customer": "abc"},
        {"customer": True},
        {"customer": []},
    ],
)
def test_batch_item_without_a_customer_id_is_422_naming_it(api, item):
    customer = create(api)
    response = batch(api, [{**item, "notes": "written"}])
    assert response.status_code == 422
    assert error_fields(response) == ["[0].customer"]
    assert read(api, customer["id"]) == customer


@pytest.mark.parametrize("kind", ["number", "string"])
def test_batch_customer_id_that_is_not_an_integer_is_422(api, kind):
    customer = create(api)
    fractional = customer["id"] + 0.5 if kind == "number" else f"{customer['id']}.5"
    response = batch(api, [{"customer": fractional, "notes": "written"}])
    assert response.status_code == 422
    assert error_fields(response) == ["[0].customer"]
    assert read(api, customer["id"]) == customer


def test_batch_customer_id_as_a_string_of_digits_is_accepted(api):
    customer = create(api)
    response = batch(api, [{"customer": str(customer["id"]), "name": "Ann"}])
    assert response.status_code == 200
    assert response.get_json()[0]["name"] == "Ann"


def test_batch_ignores_echoed_read_only_keys(api):
    customer = create(api, {"name": "Ann"})
    echoed = {
        **{k: v for k, v in customer.items() if k != "customData"},
        "customer": customer["id"],
        "name": "Anna",
        "emails": [],
        "phones": [],
        "userIds": [],
        "mergedIds": [],
    }
    response = batch(api, [echoed])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[0]["name"] == "Anna"


def test_batch_empty_string_in_nullable_text_field_means_null(api):
    customer = create(api, {"name": "Ann", "company": "Acme", "email": "ann@example.com"})
    response = batch(api, [{"customer": customer["id"], "name": "", "company": "", "email": ""}])
    assert response.status_code == 200
    [body] = response.get_json()
    assert (body["name"], body["company"], body["email"]) == (None, None, None)


def test_batch_accepts_flat_location(api):
    customer = create(api)
    response = batch(api, [{"customer": customer["id"], "city": "Kyiv", "countryCode": "UA"}])
    assert response.status_code == 200
    assert response.get_json()[0]["location"] == {
        "regionCode": None,
        "countryCode": "UA",
        "city": "Kyiv",
    }


# --- results and all-or-nothing ------------------------------------------------------------


def test_batch_results_are_in_request_order(api):
    ids = [create(api, {"name": f"c{n}"})["id"] for n in range(4)]
    order = [ids[2], ids[0], ids[3], ids[1]]
    response = batch(api, [{"customer": i, "notes": str(i)} for i in order])
    assert response.status_code == 200
    assert [c["id"] for c in response.get_json()] == order
    assert [c["notes"] for c in response.get_json()] == [str(i) for i in order]


def test_one_bad_item_leaves_the_database_untouched(api):
    ids = [create(api, {"name": f"c{n}", "tags": [{"name": "old"}]})["id"] for n in range(4)]
    before = [read(api, i) for i in ids]
    body = [
        {"customer": i, "name": "changed", "tags": [{"name": "new"}], "locale": "en"} for i in ids
    ]
    body[3]["email"] = "not-an-email"
    response = batch(api, body)
    assert response.status_code == 422
    assert error_fields(response) == ["[3].email"]
    assert [read(api, i) for i in ids] == before
    tags = api.get("/v1/tags").get_json()["data"]
    assert [t["name"] for t in tags] == ["old"]


def test_batch_unknown_customer_id_is_404_naming_it_and_nothing_written(api):
    known = create(api, {"name": "Ann"})
    theirs = create(api, {"name": "Globex"}, account="globex")
    missing = known["id"] + 1000
    body = [
        {"customer": known["id"], "name": "changed"},
        {"customer": missing, "name": "x"},
        {"customer": theirs["id"], "name": "y"},
    ]
    response = batch(api, body)
    assert response.status_code == 404
    [entry] = error_entries(response)
    assert entry["code"] == "not_found"
    named = {int(n) for n in re.findall(r"\d+", entry["message"])}
    assert named == {missing, theirs["id"]}
    assert read(api, known["id"]) == known
    assert read(api, theirs["id"], account="globex") == theirs


def test_batch_is_validated_before_customer_ids_are_looked_up(api):
    known = create(api)
    body = [
        {"customer": known["id"] + 1000, "name": "x"},
        {"customer": known["id"], "customData": [{"property": "undefined", "value": {"a": 1}}]},
    ]
    response = batch(api, body)
    assert response.status_code == 422
    assert error_fields(response) == ["[1].customData[0].value"]


def test_batch_customer_id_beyond_bigint_range_is_404(api):
    known = create(api, {"name": "Ann"})
    response = batch(
        api, [{"customer": known["id"], "name": "x"}, {"customer": 99999999999999999999}]
    )
    assert response.status_code == 404
    assert "99999999999999999999" in error_entries(response)[0]["message"]
    assert read(api, known["id"]) == known


@pytest.mark.parametrize("field", ["email", "userId"])
def test_batch_identifier_of_another_customer_merges_them(api, field):
    ann = create(api, {"email": "ann@example.com", "userId": "u-ann"})
    bob = create(api, {"email": "bob@example.com", "userId": "u-bob"})
    body = [{"customer": ann["id"], "name": "Ann"}, {"customer": bob["id"], field: ann[field]}]
    response = batch(api, body)
    assert response.status_code == 200
    first, second = response.get_json()
    assert first == second  # both items name the same person now: the survivor
    assert {first["id"], *first["mergedIds"]} == {ann["id"], bob["id"]}
    assert first["name"] == "Ann" and first[field] == ann[field]


@pytest.mark.parametrize(("field", "value"), [("email", "new@example.com"), ("userId", "u-new")])
def test_batch_giving_one_identifier_to_two_customers_merges_them(api, field, value):
    first, second = create(api), create(api)
    body = [{"customer": first["id"], field: value}, {"customer": second["id"], field: value}]
    response = batch(api, body)
    assert response.status_code == 200
    one, two = response.get_json()
    assert one == two and one[field] == value
    assert {one["id"], *one["mergedIds"]} == {first["id"], second["id"]}
    assert api.post(URL, json={field: value}).status_code == 200


def test_batch_moving_an_identifier_released_earlier_in_the_batch_is_fine(api):
    ann = create(api, {"email": "ann@example.com"})
    bob = create(api)
    body = [
        {"customer": ann["id"], "email": "ann.new@example.com"},
        {"customer": bob["id"], "email": "ann@example.com"},
    ]
    response = batch(api, body)
    assert response.status_code == 200
    assert [c["email"] for c in response.get_json()] == ["ann.new@example.com", "ann@example.com"]


# --- null clears, omission keeps -----------------------------------------------------------


@pytest.mark.parametrize("how", WRITES)
def test_null_clears_while_omission_keeps(api, how):
    define(api, "plan", "string")
    define(api, "seats", "number")
    customer = create(
        api,
        {
            "name": "Ann",
            "company": "Acme",
            "email": "ann@example.com",
            "userId": "u-ann",
            "phone": "+14155552671",
            "firstSeen": 1603885746,
            "location": {"city": "Kyiv", "countryCode": "UA"},
            "unsubscribed": True,
            "blocked": True,
            "tags": [{"name": "vip"}],
            "customData": [
                {"property": "plan", "value": "pro"},
                {"property": "seats", "value": 3},
            ],
        },
    )
    body = write(
        api,
        how,
        customer["id"],
        {
            "company": None,
            "userId": None,
            "firstSeen": None,
            "location": None,
            "unsubscribed": None,
            "tags": None,
            "customData": [{"property": "plan", "value": None}],
        },
    )
    cleared = ("company", "userId", "firstSeen")
    assert {k: body[k] for k in cleared} == dict.fromkeys(cleared)
    assert body["location"] == {"regionCode": None, "countryCode": None, "city": None}
    assert body["unsubscribed"] is False and body["tags"] == []
    kept = ("name", "email", "phone", "blocked", "lastSeen", "id", "contactId", "createdAt")
    assert {k: body[k] for k in kept} == {k: customer[k] for k in kept}
    assert body["customData"] == {"seats": 3}
    assert read(api, customer["id"]) == body


# --- tags in a write -----------------------------------------------------------------------


@pytest.mark.parametrize("how", WRITES)
def test_tags_in_a_write_set_exactly_that_list(api, how):
    customer = create(api, {"tags": [{"name": "a"}, {"name": "b"}]})
    body = write(api, how, customer["id"], {"tags": [{"name": "B"}, {"name": "c"}]})
    assert tag_names(body) == ["b", "c"]  # names keep the spelling they were created with
    assert tag_names(write(api, how, customer["id"], {"name": "kept"})) == ["b", "c"]
    assert write(api, how, customer["id"], {"tags": []})["tags"] == []


@pytest.mark.parametrize("how", WRITES)
def test_unknown_tag_is_created_with_the_default_color(api, how):
    customer = create(api)
    body = write(api, how, customer["id"], {"tags": [{"name": "Black Friday"}]})
    assert body["tags"] == [{"name": "Black Friday", "color": DEFAULT_COLOR}]
    tags = api.get("/v1/tags").get_json()["data"]
    assert tags == [{"name": "Black Friday", "color": DEFAULT_COLOR}]


@pytest.mark.parametrize("how", WRITES)
def test_color_for_an_existing_tag_recolors_it(api, how):
    other = create(api, {"tags": [{"name": "vip", "color": "#ff0000"}]})
    customer = create(api)
    body = write(api, how, customer["id"], {"tags": [{"name": "VIP", "color": "#00ff00"}]})
    assert body["tags"] == [{"name": "vip", "color": "#00ff00"}]
    assert read(api, other["id"])["tags"] == [{"name": "vip", "color": "#00ff00"}]
    # Naming the tag without a color keeps its color.
    again = write(api, how, other["id"], {"tags": [{"name": "vip"}]})
    assert again["tags"] == [{"name": "vip", "color": "#00ff00"}]


@pytest.mark.parametrize(
    ("color", "ok"),
    [
        ("#ccc", True),
        ("#C377E0", True),
        ("red", True),
        ("DarkSlateGray", True),
        ("#12345", False),
        ("not-a-color", False),
        ("", False),
    ],
)
def test_tag_color_is_any_css_color(api, color, ok):
    customer = create(api)
    response = batch(api, [{"customer": customer["id"], "tags": [{"name": "t", "color": color}]}])
    if ok:
        assert response.status_code == 200
        assert response.get_json()[0]["tags"] == [{"name": "t", "color": color}]
    else:
        assert response.status_code == 422
        assert error_fields(response) == ["[0].tags[0].color"]


@pytest.mark.parametrize("color", ["rebeccapurple", "transparent", "#ff000080", "#c37e"])
def test_tag_color_accepts_css_color_level_4_names_and_hex(api, color):
    """Current CSS (Color Module Level 4) names and 4/8-digit hex are CSS colors too."""
    customer = create(api)
    response = batch(api, [{"customer": customer["id"], "tags": [{"name": "t", "color": color}]}])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[0]["tags"] == [{"name": "t", "color": color}]


# --- customData ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", WRITES)
def test_custom_data_is_merged_per_property(api, how):
    define(api, "plan", "string")
    define(api, "seats", "number")
    customer = create(api, {"customData": [{"property": "plan", "value": "pro"}]})
    body = write(api, how, customer["id"], {"customData": [{"property": "seats", "value": 3}]})
    assert body["customData"] == {"plan": "pro", "seats": 3}
    body = write(api, how, customer["id"], {"customData": [{"property": "plan", "value": "free"}]})
    assert body["customData"] == {"plan": "free", "seats": 3}


@pytest.mark.parametrize("how", WRITES)
def test_custom_data_null_value_removes_the_property(api, how):
    define(api, "plan", "string")
    define(api, "seats", "number")
    customer = create(
        api,
        {
            "customData": [
                {"property": "plan", "value": "pro"},
                {"property": "seats", "value": 3},
            ]
        },
    )
    body = write(api, how, customer["id"], {"customData": [{"property": "plan", "value": None}]})
    assert body["customData"] == {"seats": 3}
    assert read(api, customer["id"])["customData"] == {"seats": 3}


@pytest.mark.parametrize("how", WRITES)
def test_custom_data_null_clears_all_custom_data(api, how):
    define(api, "plan", "string")
    customer = create(api, {"customData": [{"property": "plan", "value": "pro"}]})
    assert write(api, how, customer["id"], {"customData": None})["customData"] == {}
    assert read(api, customer["id"])["customData"] == {}


def test_strict_custom_data_undefined_property_is_422_unknown_attribute_naming_it(strict_api):
    define(strict_api, "plan", "string")
    first, second = create(strict_api), create(strict_api)
    body = [
        {"customer": first["id"], "name": "a", "customData": [{"property": "plan", "value": "x"}]},
        {
            "customer": second["id"],
            "customData": [
                {"property": "plan", "value": "pro"},
                {"property": "favourite_colour", "value": "red"},
            ],
        },
    ]
    response = batch(strict_api, body)
    assert response.status_code == 422
    [entry] = error_entries(response)
    assert entry["code"] == "unknown_attribute"
    assert entry["field"] == "[1].customData[1].property"
    assert read(strict_api, first["id"]) == first
    assert read(strict_api, second["id"]) == second


@pytest.mark.parametrize("how", ["POST", "PUT", "PATCH"])
def test_strict_custom_data_undefined_property_is_422_in_single_writes(strict_api, how):
    if how == "POST":
        response = strict_api.post(URL, json={"customData": [{"property": "nope", "value": 1}]})
    else:
        customer = create(strict_api)
        response = write_response(
            strict_api, how, customer["id"], {"customData": [{"property": "nope", "value": 1}]}
        )
    assert response.status_code == 422
    assert error_codes(response) == ["unknown_attribute"]
    assert error_fields(response) == ["customData[0].property"]


@pytest.mark.parametrize(
    ("name", "value", "type_", "stored"),
    [
        ("planNameStr", "Pro", "string", "Pro"),
        ("bioTxt", "Long text", "text", "Long text"),
        ("seatsNum", 3, "number", 3),
        ("renewedAt", "1603885746", "date", 1603885746),
        ("trial2Bool", True, "boolean", True),
        ("homeUrl", "https://example.com/home", "url", "https://example.com/home"),
    ],
)
def test_property_with_a_typed_suffix_is_auto_defined_with_its_type(
    api, name, value, type_, stored
):
    customer = create(api)
    response = batch(
        api, [{"customer": customer["id"], "customData": [{"property": name, "value": value}]}]
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[0]["customData"] == {name: stored}
    attributes = api.get("/v1/custom-attributes").get_json()["data"]
    assert [(a["name"], a["type"]) for a in attributes] == [(name, type_)]


def test_auto_defined_attribute_keeps_its_type_for_later_writes(api):
    customer = create(api, {"customData": [{"property": "renewedAt", "value": 1603885746}]})
    response = batch(
        api, [{"customer": customer["id"], "customData": [{"property": "renewedAt", "value": "x"}]}]
    )
    assert response.status_code == 422
    assert error_fields(response) == ["[0].customData[0].value"]


@pytest.mark.parametrize("name", ["Str", "URLStr", "renewed_at", "plan_str", "planstr"])
def test_strict_suffix_must_follow_a_lower_case_letter_or_digit(strict_api, name):
    customer = create(strict_api)
    response = batch(
        strict_api, [{"customer": customer["id"], "customData": [{"property": name, "value": "x"}]}]
    )
    assert response.status_code == 422
    assert error_codes(response) == ["unknown_attribute"]
    assert strict_api.get("/v1/custom-attributes").get_json()["data"] == []


def test_auto_definition_is_undone_when_the_batch_fails(api):
    customer = create(api)
    body = [
        {
            "customer": customer["id"],
            "email": "not-an-email",
            "customData": [{"property": "planNameStr", "value": "Pro"}],
        }
    ]
    assert batch(api, body).status_code == 422
    body[0]["email"] = "ann@example.com"
    body[0]["customData"].append({"property": "seatsNum", "value": "three"})
    response = batch(api, body)
    assert response.status_code == 422
    assert error_fields(response) == ["[0].customData[1].value"]
    assert api.get("/v1/custom-attributes").get_json()["data"] == []


# type -> (accepted values with what is stored, rejected values)
TYPE_CASES = {
    "string": (
        [("active", "active"), ("", ""), ("x" * 1024, "x" * 1024)],
        ["x" * 1025, 5, True, ["a"]],
    ),
    "text": (
        [("Lorem ipsum\ndolor", "Lorem ipsum\ndolor"), ("y" * 1024, "y" * 1024)],
        ["y" * 1025, {"a": 1}, 3.5],
    ),
    "number": (
        [(15, 15), (15.99, 15.99), (-3, -3), (0, 0)],
        ["15", True, [1], {"n": 1}],
    ),
    "boolean": (
        [(True, True), (False, False)],
        ["true", 1, 0, "yes"],
    ),
    "date": (
        [
            ("1603885746", 1603885746),
            (1603885746, 1603885746),
            ("2020-10-28T11:49:06Z", 1603885746),
            ("2020-10-28T13:49:06+02:00", 1603885746),
            ("2020-10-28T11:49:06", 1603885746),
            ("2020-10-28", 1603843200),
        ],
        ["18 Jun 2020", "yesterday", -1, 1.5, True, ""],
    ),
    "url": (
        [
            ("https://example.com/invoice.html", "https://example.com/invoice.html"),
            ("http://example.com", "http://example.com"),
        ],
        ["ftp://example.com/file", "example.com", "/invoice.html", "https://", 5],
    ),
}


def custom_value(api, customer_id: int, value):
    """Write ``attr: value`` in a batch; the stored value, or the error (code, field)."""
    item = {"customer": customer_id, "customData": [{"property": "attr", "value": value}]}
    response = batch(api, [item])
    if response.status_code == 200:
        return ("stored", response.get_json()[0]["customData"]["attr"])
    assert response.status_code == 422, response.get_json()
    [entry] = error_entries(response)
    return (entry["code"], entry["field"])


@pytest.mark.parametrize("type_", list(TYPE_CASES))
def test_custom_attribute_type_accepts_fitting_values(api, type_):
    define(api, "attr", type_)
    customer_id = create(api)["id"]
    accepted, _ = TYPE_CASES[type_]
    found = {repr(value): custom_value(api, customer_id, value) for value, _ in accepted}
    assert found == {repr(value): ("stored", stored) for value, stored in accepted}
    for value, stored in accepted:  # 1603885746 is an int, not a str, and 15 not 15.0
        assert type(custom_value(api, customer_id, value)[1]) is type(stored)


@pytest.mark.parametrize("type_", list(TYPE_CASES))
def test_custom_attribute_type_rejects_other_values(api, type_):
    define(api, "attr", type_)
    customer = create(api)
    _, rejected = TYPE_CASES[type_]
    found = {repr(value): custom_value(api, customer["id"], value) for value in rejected}
    field = "[0].customData[0].value"
    assert found == {repr(value): ("invalid_field", field) for value in rejected}
    assert read(api, customer["id"]) == customer
