"""/v1/customers: the customer object, create, read, update (PUT/PATCH), erase, and the
same people seen through the partner contacts API. The batch lives in test_customers_batch.py.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

URL = "/v1/customers"
NO_LOCATION = {"regionCode": None, "countryCode": None, "city": None}
PARTNER = "/api/v1/partner/contacts"
CUSTOMER_KEYS = {
    "id", "name", "email", "userId", "company", "phone", "firstSeen", "lastSeen", "location",
    "device", "unsubscribed", "blocked", "source", "referer", "lastPage", "locale", "createdFrom",
    "integrationId", "notes", "tags", "customData", "createdAt", "updatedAt", "contactId",
    "emails", "phones", "userIds", "mergedIds",
}  # fmt: skip
NULLABLE_TEXT = (
    "name", "email", "userId", "company", "phone", "source", "referer", "lastPage", "locale",
    "createdFrom", "integrationId", "notes",
)  # fmt: skip
FULL = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "userId": "user_1234567890",
    "company": "Example Inc.",
    "phone": "+10233456781",
    "firstSeen": "1603885746",
    "lastSeen": "1603885746",
    "location": {"regionCode": "Kyyivs'ka Oblast", "countryCode": "UA", "city": "Kyiv"},
    "unsubscribed": True,
    "blocked": True,
    "source": "https://example.com/source",
    "referer": "https://example.com/referer",
    "lastPage": "https://example.com/last",
    "locale": "uk",
    "createdFrom": "telegram",
    "integrationId": "465847687",
    "notes": "Lorem ipsum",
    "tags": [{"name": "vip", "color": "#ff0000"}],
}
UPDATE_METHODS = ("PUT", "PATCH")


# --- helpers -------------------------------------------------------------------------------


def create(api, body: dict | None = None, *, account: str = "acme") -> dict:
    response = api.post(URL, json=body or {}, account=account)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def update(api, method: str, customer_id: int, body: dict, *, account: str = "acme"):
    return api.request(method, f"{URL}/{customer_id}", json=body, account=account)


def read(api, customer_id: int, *, account: str = "acme") -> dict:
    response = api.get(f"{URL}/{customer_id}", account=account)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def define(api, name: str, type_: str) -> None:
    response = api.post("/v1/custom-attributes", json={"name": name, "type": type_})
    assert response.status_code == 201, response.get_json()


def error_entries(response) -> list[dict]:
    """The specific entries of the error envelope (after the generic first one)."""
    errors = response.get_json()["errors"]
    assert errors[0] == {"code": "invalid_request", "message": "Invalid request"}
    return errors[1:]


def error_fields(response) -> list[str | None]:
    return [entry.get("field") for entry in error_entries(response)]


def error_codes(response) -> list[str]:
    return [entry["code"] for entry in error_entries(response)]


def rows(url: str, query: str, params: dict) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def count_rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def find_by_email(api, email: str) -> dict:
    response = api.get(URL, query_string={"email": email})
    assert response.status_code == 200, response.get_json()
    [found] = response.get_json()["data"]
    return found


# --- the customer object -------------------------------------------------------------------


def test_customer_object_has_exactly_the_documented_keys(api):
    created = create(api, FULL)
    assert set(created) == CUSTOMER_KEYS
    assert set(read(api, created["id"])) == CUSTOMER_KEYS
    assert set(create(api)) == CUSTOMER_KEYS


def test_customer_object_values_have_the_documented_types(api):
    body = create(api, FULL)
    assert isinstance(body["id"], int) and not isinstance(body["id"], bool)
    assert {k: body[k] for k in FULL} == FULL
    assert uuid.UUID(body["contactId"])
    assert body["customData"] == {}


def test_timestamps_are_unix_timestamp_strings(api):
    body = create(api, {"firstSeen": "1603885746", "lastSeen": 1593547200})
    assert body["firstSeen"] == "1603885746"
    assert body["lastSeen"] == "1593547200"
    for key in ("createdAt", "updatedAt"):
        assert isinstance(body[key], str) and body[key].isdigit()
    assert int(body["createdAt"]) <= int(body["updatedAt"])


def test_first_seen_and_last_seen_are_null_unless_sent(api):
    body = create(api, {"name": "Ann", "email": "ann@example.com"})
    assert body["firstSeen"] is None and body["lastSeen"] is None
    again = read(api, body["id"])
    assert again["firstSeen"] is None and again["lastSeen"] is None


def test_device_is_always_null(api):
    body = create(api, {"name": "Ann", "device": {"id": 1, "ip": "192.168.1.1"}})
    assert body["device"] is None
    assert read(api, body["id"])["device"] is None


def test_location_is_an_object_of_nulls_when_unknown(api):
    """Not null: the mimicked API documents an object, and clients read location.city."""
    assert create(api, {"name": "Ann"})["location"] == NO_LOCATION


def test_location_is_an_object_of_region_country_and_city(api):
    body = create(api, {"location": {"city": "Kyiv"}})
    assert body["location"] == {"regionCode": None, "countryCode": None, "city": "Kyiv"}
    full = create(api, {"location": FULL["location"]})
    assert full["location"] == FULL["location"]


def test_location_is_an_object_of_nulls_again_once_every_part_is_cleared(api):
    created = create(api, {"city": "Kyiv", "countryCode": "UA"})
    response = update(api, "PATCH", created["id"], {"city": None})
    location = response.get_json()["location"]
    assert location == {"regionCode": None, "countryCode": "UA", "city": None}
    response = update(api, "PATCH", created["id"], {"countryCode": ""})
    assert response.get_json()["location"] == NO_LOCATION


def test_new_customer_defaults(api):
    body = create(api)
    assert body["unsubscribed"] is False and body["blocked"] is False
    assert body["tags"] == [] and body["customData"] == {}
    nullable = set(NULLABLE_TEXT) | {"firstSeen", "lastSeen", "device"}
    assert {k: body[k] for k in nullable} == dict.fromkeys(nullable)
    assert body["location"] == NO_LOCATION


# --- POST /v1/customers --------------------------------------------------------------------


def test_create_with_empty_body_answers_201(api, database_url):
    response = api.post(URL, json={})
    assert response.status_code == 201
    assert response.get_json()["id"] > 0
    assert count_rows(database_url, "profiles") == 1


def test_create_with_every_writable_field_answers_201(api):
    define(api, "plan", "string")
    response = api.post(URL, json={**FULL, "customData": [{"property": "plan", "value": "pro"}]})
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in FULL} == FULL
    assert body["customData"] == {"plan": "pro"}


def test_create_resolving_by_user_id_answers_200_with_the_same_customer_updated(api):
    first = create(api, {"userId": "u-1", "email": "old@example.com", "name": "Old"})
    response = api.post(URL, json={"userId": "u-1", "name": "New", "company": "Acme"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == first["id"] and body["contactId"] == first["contactId"]
    assert (body["name"], body["company"], body["email"]) == ("New", "Acme", "old@example.com")
    assert read(api, first["id"]) == body


def test_create_resolving_by_email_answers_200_with_the_same_customer_updated(api):
    first = create(api, {"email": "Ann@Example.com", "name": "Ann"})
    response = api.post(URL, json={"email": "ann@example.com", "userId": "u-9", "notes": "hi"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == first["id"]
    assert (body["userId"], body["notes"], body["name"]) == ("u-9", "hi", "Ann")


def test_create_resolving_user_id_wins_over_a_new_email(api, database_url):
    first = create(api, {"userId": "u-1", "email": "old@example.com"})
    response = api.post(URL, json={"userId": "u-1", "email": "new@example.com"})
    assert response.status_code == 200
    assert response.get_json()["id"] == first["id"]
    assert response.get_json()["email"] == "new@example.com"
    assert count_rows(database_url, "profiles") == 1


def test_resolving_create_joins_tags(api):
    first = create(api, {"email": "ann@example.com", "tags": [{"name": "vip"}]})
    response = api.post(URL, json={"email": "ann@example.com", "tags": [{"name": "lead"}]})
    assert response.status_code == 200
    assert sorted(t["name"] for t in response.get_json()["tags"]) == ["lead", "vip"]
    again = api.post(URL, json={"email": "ann@example.com", "tags": []})
    assert sorted(t["name"] for t in again.get_json()["tags"]) == ["lead", "vip"]
    assert again.get_json()["id"] == first["id"]


def test_resolving_create_never_clears_unsubscribed_or_blocked(api):
    create(api, {"email": "ann@example.com", "unsubscribed": True, "blocked": True})
    for value in (False, None):
        response = api.post(
            URL, json={"email": "ann@example.com", "unsubscribed": value, "blocked": value}
        )
        assert response.status_code == 200
        body = response.get_json()
        assert (body["unsubscribed"], body["blocked"]) == (True, True)


def test_resolving_create_can_set_unsubscribed_and_blocked(api):
    create(api, {"email": "ann@example.com"})
    response = api.post(URL, json={"email": "ann@example.com", "unsubscribed": True})
    assert response.status_code == 200
    assert (response.get_json()["unsubscribed"], response.get_json()["blocked"]) == (True, False)


def test_resolving_create_null_values_do_not_clear(api):
    define(api, "plan", "string")
    first = create(api, {**FULL, "customData": [{"property": "plan", "value": "pro"}]})
    nulls = {key: None for key in FULL if key not in ("email", "unsubscribed", "blocked")}
    response = api.post(
        URL,
        json={
            **nulls,
            "email": FULL["email"],
            "customData": [{"property": "plan", "value": None}],
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == first["id"]
    assert {k: body[k] for k in FULL} == FULL
    assert body["customData"] == {"plan": "pro"}


def test_create_with_user_id_and_email_of_two_customers_merges_them(api):
    ann = create(api, {"email": "ann@example.com", "userId": "u-ann", "name": "Ann"})
    bob = create(api, {"email": "bob@example.com", "userId": "u-bob", "name": "Bob"})
    response = api.post(URL, json={"email": "bob@example.com", "userId": "u-ann", "name": "X"})
    assert response.status_code == 200
    merged = response.get_json()
    assert {merged["id"], *merged["mergedIds"]} == {ann["id"], bob["id"]}
    assert sorted(merged["emails"]) == ["ann@example.com", "bob@example.com"]
    assert sorted(merged["userIds"]) == ["u-ann", "u-bob"]
    assert read(api, ann["id"])["id"] == read(api, bob["id"])["id"] == merged["id"]


@pytest.mark.parametrize("value", ["1603885746", 1603885746])
def test_create_accepts_timestamps_as_strings_and_integers(api, value):
    response = api.post(URL, json={"firstSeen": value, "lastSeen": value})
    assert response.status_code == 201
    assert response.get_json()["firstSeen"] == response.get_json()["lastSeen"] == "1603885746"


@pytest.mark.parametrize("value", ["yesterday", "2020-10-28", -1, 1.5, True])
def test_timestamp_that_is_neither_digits_nor_an_integer_is_422(api, value):
    response = api.post(URL, json={"firstSeen": value})
    assert response.status_code == 422
    assert error_fields(response) == ["firstSeen"]


def test_create_unknown_field_is_422_naming_it(api, database_url):
    response = api.post(URL, json={"name": "Ann", "nickname": "Annie"})
    assert response.status_code == 422
    assert error_fields(response) == ["nickname"]
    assert count_rows(database_url, "profiles") == 0


# --- GET /v1/customers/{id} ----------------------------------------------------------------


def test_get_returns_the_bare_customer_object(api):
    created = create(api, FULL)
    response = api.get(f"{URL}/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created


def test_get_unknown_id_is_404(api):
    created = create(api)
    response = api.get(f"{URL}/{created['id'] + 1000}")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_get_id_beyond_bigint_range_is_404(api):
    response = api.get(f"{URL}/99999999999999999999")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_get_another_accounts_customer_is_404(api):
    theirs = create(api, FULL, account="globex")
    response = api.get(f"{URL}/{theirs['id']}")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_writing_another_accounts_customer_is_404_and_changes_nothing(api, method):
    theirs = create(api, FULL, account="globex")
    response = api.request(method, f"{URL}/{theirs['id']}", json={"name": "Mallory"})
    assert response.status_code == 404
    assert read(api, theirs["id"], account="globex") == theirs


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("customer_id", ["123456", "99999999999999999999"])
def test_writing_an_unknown_id_is_404(api, method, customer_id):
    response = api.request(method, f"{URL}/{customer_id}", json={"name": "Ann"})
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


# --- PUT and PATCH /v1/customers/{id} ------------------------------------------------------


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_omitted_field_keeps_its_value(api, method):
    define(api, "plan", "string")
    created = create(api, {**FULL, "customData": [{"property": "plan", "value": "pro"}]})
    response = update(api, method, created["id"], {"notes": "changed"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["notes"] == "changed"
    expected = {**created, "notes": "changed", "updatedAt": body["updatedAt"]}
    assert body == expected


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_null_clears_the_field(api, method):
    define(api, "plan", "string")
    created = create(api, {**FULL, "customData": [{"property": "plan", "value": "pro"}]})
    nulls = {key: None for key in FULL}
    response = update(api, method, created["id"], nulls)
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in NULLABLE_TEXT} == dict.fromkeys(NULLABLE_TEXT)
    assert (body["firstSeen"], body["lastSeen"]) == (None, None)
    assert body["location"] == NO_LOCATION
    assert (body["unsubscribed"], body["blocked"]) == (False, False)
    assert body["tags"] == []
    assert body["customData"] == {"plan": "pro"}  # not named: kept
    assert read(api, created["id"]) == body


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_null_cleared_identifiers_stop_resolving(api, method):
    created = create(api, {"email": "ann@example.com", "userId": "u-ann"})
    update(api, method, created["id"], {"email": None, "userId": None})
    response = api.post(URL, json={"email": "ann@example.com", "userId": "u-ann"})
    assert response.status_code == 201
    assert response.get_json()["id"] != created["id"]


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_value_replaces_the_field(api, method):
    created = create(api, FULL)
    new = {
        "name": "Jane Roe",
        "email": "jane@example.com",
        "userId": "user_2",
        "company": "Other Ltd",
        "phone": "+44 20 7946 0958",
        "firstSeen": 1593547200,
        "lastSeen": "1593547300",
        "location": {"regionCode": "England", "countryCode": "GB", "city": "London"},
        "unsubscribed": False,
        "blocked": False,
        "source": "https://other.example/s",
        "referer": "https://other.example/r",
        "lastPage": "https://other.example/p",
        "locale": "en",
        "createdFrom": "web",
        "integrationId": "42",
        "notes": "Other notes",
        "tags": [{"name": "lead"}],
    }
    response = update(api, method, created["id"], new)
    assert response.status_code == 200
    body = response.get_json()
    expected = {**new, "firstSeen": "1593547200", "tags": [{"name": "lead", "color": "#c377e0"}]}
    assert {k: body[k] for k in new} == expected
    assert body["id"] == created["id"] and body["contactId"] == created["contactId"]
    assert body["createdAt"] == created["createdAt"]
    assert read(api, created["id"]) == body


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_replaced_email_stops_resolving_to_the_customer(api, method):
    created = create(api, {"email": "old@example.com"})
    update(api, method, created["id"], {"email": "new@example.com"})
    assert api.post(URL, json={"email": "new@example.com"}).get_json()["id"] == created["id"]
    assert api.post(URL, json={"email": "old@example.com"}).status_code == 201


@pytest.mark.parametrize("method", UPDATE_METHODS)
@pytest.mark.parametrize("field", ["email", "userId"])
def test_update_setting_another_customers_identifier_merges_them(api, method, field):
    ann = create(api, {"email": "ann@example.com", "userId": "u-ann"})
    bob = create(api, {"email": "bob@example.com", "userId": "u-bob", "name": "Bob"})
    response = update(api, method, bob["id"], {field: ann[field], "name": "Robert"})
    assert response.status_code == 200
    body = response.get_json()
    assert {body["id"], *body["mergedIds"]} == {ann["id"], bob["id"]}
    assert body[field] == ann[field]  # the value the write set is the primary
    assert body["name"] == "Robert"
    assert read(api, ann["id"]) == read(api, bob["id"]) == body


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_setting_its_own_identifier_again_is_fine(api, method):
    ann = create(api, {"email": "ann@example.com", "userId": "u-ann"})
    response = update(api, method, ann["id"], {"email": "ANN@example.com", "userId": "u-ann"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "ANN@example.com"


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_empty_string_in_nullable_text_field_means_null(api, method):
    created = create(api, FULL)
    response = update(api, method, created["id"], dict.fromkeys(NULLABLE_TEXT, ""))
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in NULLABLE_TEXT} == dict.fromkeys(NULLABLE_TEXT)


def test_create_empty_string_in_nullable_text_field_means_null(api):
    response = api.post(URL, json=dict.fromkeys(NULLABLE_TEXT, ""))
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in NULLABLE_TEXT} == dict.fromkeys(NULLABLE_TEXT)


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_accepts_flat_location(api, method):
    created = create(api)
    flat = {"city": "Kyiv", "regionCode": "Kyyivs'ka Oblast", "countryCode": "UA"}
    response = update(api, method, created["id"], {**flat, "source": None})
    assert response.status_code == 200
    assert response.get_json()["location"] == flat
    partial = update(api, method, created["id"], {"city": "Lviv"})
    assert partial.get_json()["location"] == {**flat, "city": "Lviv"}


def test_create_accepts_flat_location(api):
    response = api.post(URL, json={"name": "Ann", "city": "Kyiv", "countryCode": "UA"})
    assert response.status_code == 201
    assert response.get_json()["location"] == {
        "regionCode": None,
        "countryCode": "UA",
        "city": "Kyiv",
    }


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_ignores_echoed_read_only_keys(api, method):
    created = create(api, FULL)
    echoed = {k: v for k, v in read(api, created["id"]).items() if k != "customData"}
    echoed.update(
        {
            "name": "Changed",
            "id": created["id"] + 1000,
            "device": {"id": 1, "ip": "10.0.0.1"},
            "createdAt": "1",
            "updatedAt": "2",
            "contactId": str(uuid.uuid4()),
            "emails": ["x@example.com"],
            "phones": ["+15555550100"],
            "userIds": ["u-x"],
            "mergedIds": [1, 2],
        }
    )
    response = update(api, method, created["id"], echoed)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Changed"
    assert body["id"] == created["id"] and body["contactId"] == created["contactId"]
    assert body["createdAt"] == created["createdAt"] and body["device"] is None
    assert body["email"] == FULL["email"] and body["userId"] == FULL["userId"]
    assert api.get(f"{URL}/{created['id'] + 1000}").status_code == 404


def test_create_ignores_echoed_read_only_keys(api):
    response = api.post(
        URL, json={"name": "Ann", "id": 5, "contactId": str(uuid.uuid4()), "mergedIds": []}
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "Ann"


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_update_unknown_field_is_422_naming_it(api, method):
    created = create(api, {"name": "Ann"})
    response = update(api, method, created["id"], {"name": "Bob", "nickname": "Bobby"})
    assert response.status_code == 422
    assert error_fields(response) == ["nickname"]
    assert read(api, created["id"]) == created


def outcomes(api, method: str, field: str, values: list) -> dict:
    """``repr(value) -> (status, fields named)`` for writes of ``field`` by ``method``."""
    customer_id = None if method == "POST" else create(api)["id"]
    found = {}
    for value in values:
        if method == "POST":
            response = api.post(URL, json={field: value})
        else:
            response = update(api, method, customer_id, {field: value})
        if response.status_code in (200, 201):
            assert response.get_json()[field] == value
            found[repr(value)] = "ok"
        else:
            assert response.status_code == 422, response.get_json()
            assert error_codes(response) == ["invalid_field"]
            found[repr(value)] = error_fields(response)
    return found


def check_syntax(api, method: str, field: str, good: list, bad: list) -> None:
    expected = {**{repr(v): "ok" for v in good}, **{repr(v): [field] for v in bad}}
    assert outcomes(api, method, field, [*good, *bad]) == expected


WRITE_METHODS = ("POST", *UPDATE_METHODS)


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_locale_must_be_iso_639_1(api, method):
    check_syntax(api, method, "locale", ["uk", "en", "de"], ["xx", "english", "ukr", "u", 7])


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_email_is_syntax_checked(api, method):
    good = ["john.doe@example.com", "a.b+tag@sub.example.org"]
    check_syntax(api, method, "email", good, ["not-an-email", "a@b", "x@example..com", 42])


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_phone_must_be_a_possible_number(api, method):
    good = ["+10233456781", "(415) 555-2671", "+44 20 7946 0958"]
    bad = ["123", "+1 555", "not a phone", "12345678901234567", 4155552671]
    check_syntax(api, method, "phone", good, bad)


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_user_id_is_1_to_255_characters(api, method):
    check_syntax(api, method, "userId", ["u", "x" * 255], ["x" * 256, "   ", 42])


@pytest.mark.parametrize("method", UPDATE_METHODS)
def test_phone_is_kept_as_given(api, method):
    created = create(api)
    response = update(api, method, created["id"], {"phone": "+1 (023) 345-6781"})
    assert response.status_code == 200
    assert response.get_json()["phone"] == "+1 (023) 345-6781"


# --- DELETE /v1/customers/{id} -------------------------------------------------------------


def test_delete_answers_200_with_the_json_string_ok(api):
    created = create(api, FULL)
    response = api.request("DELETE", f"{URL}/{created['id']}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == "Ok"


def test_deleted_customer_id_answers_404(api):
    created = create(api, FULL)
    api.request("DELETE", f"{URL}/{created['id']}")
    assert api.get(f"{URL}/{created['id']}").status_code == 404
    assert update(api, "PATCH", created["id"], {"name": "Ann"}).status_code == 404
    assert update(api, "PUT", created["id"], {"name": "Ann"}).status_code == 404
    assert api.request("DELETE", f"{URL}/{created['id']}").status_code == 404


def test_delete_keeps_the_other_customers(api):
    ann = create(api, {"email": "ann@example.com", "tags": [{"name": "vip"}]})
    bob = create(api, {"email": "bob@example.com", "tags": [{"name": "vip"}]})
    api.request("DELETE", f"{URL}/{ann['id']}")
    assert read(api, bob["id"]) == bob


def test_create_after_delete_with_the_same_email_makes_a_new_customer(api):
    old = create(api, {"email": "ann@example.com", "userId": "u-ann", "name": "Ann"})
    api.request("DELETE", f"{URL}/{old['id']}")
    response = api.post(URL, json={"email": "ann@example.com"})
    assert response.status_code == 201
    new = response.get_json()
    assert new["id"] != old["id"] and new["contactId"] != old["contactId"]
    assert (new["name"], new["userId"]) == (None, None)


def test_partner_upsert_after_delete_with_the_same_email_makes_a_new_contact(api):
    old = create(api, {"email": "ann@example.com", "userId": "u-ann", "name": "Ann"})
    api.request("DELETE", f"{URL}/{old['id']}")
    response = api.post(PARTNER, json={"email": "ann@example.com"})
    assert response.status_code == 201
    contact = response.get_json()
    assert contact["id"] != old["contactId"]
    assert (contact["name"], contact["external_id"]) == (None, None)
    assert find_by_email(api, "ann@example.com")["id"] != old["id"]


def test_delete_erases_identifiers_tags_and_events(api, database_url):
    created = create(
        api, {**FULL, "email": "ann@example.com", "userId": "u-ann", "phone": "+14155552671"}
    )
    event = api.post(
        "/v1/events", json={"name": "Button Click", "data": {"b": "buy"}, "customer": created["id"]}
    )
    assert event.status_code == 200
    by_profile = {"id": created["id"]}
    identifiers_of = "SELECT kind FROM profile_identifiers WHERE profile_id = %(id)s"
    events_of = "SELECT id FROM events WHERE profile_id = %(id)s"
    tags_of = "SELECT tag_id FROM profile_tags WHERE profile_id = %(id)s"
    assert len(rows(database_url, identifiers_of, by_profile)) == 3
    assert len(rows(database_url, events_of, by_profile)) == 1
    assert len(rows(database_url, tags_of, by_profile)) == 1

    assert api.request("DELETE", f"{URL}/{created['id']}").status_code == 200

    assert rows(database_url, identifiers_of, by_profile) == []
    assert rows(database_url, events_of, by_profile) == []
    assert rows(database_url, tags_of, by_profile) == []
    assert rows(database_url, "SELECT id FROM profiles WHERE id = %(id)s", by_profile) == []
    leftover = rows(
        database_url,
        "SELECT value FROM profile_identifiers WHERE value_norm = ANY(%(values)s)",
        {"values": ["ann@example.com", "u-ann", "+14155552671"]},
    )
    assert leftover == []


# --- the same people through the partner API -----------------------------------------------

ALEX = {
    "email": "alex.johnson@example.com",
    "name": "Alex Johnson",
    "professional_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "external_id": "cust_001",
}


def test_partner_contact_is_readable_as_a_customer(api):
    contact = api.post(PARTNER, json=ALEX).get_json()
    found = find_by_email(api, ALEX["email"])
    customer = read(api, found["id"])
    assert customer == found
    assert (customer["email"], customer["name"]) == (ALEX["email"], ALEX["name"])
    assert customer["userId"] == ALEX["external_id"]
    assert customer["contactId"] == contact["id"]


def test_partner_contact_is_updatable_as_a_customer(api):
    contact = api.post(PARTNER, json=ALEX).get_json()
    customer_id = find_by_email(api, ALEX["email"])["id"]
    response = update(
        api,
        "PATCH",
        customer_id,
        {"name": "Alexandra Johnson", "userId": "cust_009", "email": "alexandra@example.com"},
    )
    assert response.status_code == 200
    partner = api.get(f"{PARTNER}/{contact['id']}").get_json()
    assert partner == {
        **contact,
        "name": "Alexandra Johnson",
        "external_id": "cust_009",
        "email": "alexandra@example.com",
    }
    put = update(api, "PUT", customer_id, {"name": "Alex J."})
    assert put.status_code == 200
    assert api.get(f"{PARTNER}/{contact['id']}").get_json()["name"] == "Alex J."


def test_customer_is_matched_by_partner_upsert(api, database_url):
    customer = create(api, {"email": "sam@example.com", "userId": "crm-7", "name": "Sam"})
    response = api.post(
        PARTNER, json={"email": "sam@example.com", "external_id": "crm-7", "name": "Samuel"}
    )
    assert response.status_code == 200
    contact = response.get_json()
    assert contact["id"] == customer["contactId"]
    assert (contact["email"], contact["external_id"]) == ("sam@example.com", "crm-7")
    assert read(api, customer["id"])["name"] == "Samuel"
    assert count_rows(database_url, "profiles") == 1


def test_customer_without_email_shows_null_email_in_partner_api(api):
    customer = create(api, {"userId": "crm-8", "name": "Nomail"})
    response = api.get(f"{PARTNER}/{customer['contactId']}")
    assert response.status_code == 200
    assert response.get_json()["email"] is None
    assert response.get_json()["external_id"] == "crm-8"


# --- a request sent exactly as a client library sends it -----------------------------------


def raw(client, method: str, path: str, key: str, body: object | None = None):
    """No Content-Type, `Authorization: Bearer <KEY>` with the literal angle brackets."""
    data = None if body is None else json.dumps(body).encode()
    response = client.open(
        path, method=method, data=data, headers={"Authorization": f"Bearer <{key}>"}
    )
    assert "Content-Type" not in response.request.headers
    assert response.request.headers["Authorization"] == f"Bearer <{key}>"
    return response


def test_json_body_without_content_type_is_parsed(api, client):
    response = raw(client, "POST", URL, api.key(), {"name": "Ann", "email": "ann@example.com"})
    assert response.status_code == 201
    assert (response.get_json()["name"], response.get_json()["email"]) == (
        "Ann",
        "ann@example.com",
    )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_body_with_a_non_json_content_type_is_parsed(api, client, content_type):
    response = client.open(
        URL,
        method="POST",
        data=json.dumps({"name": "Ann"}).encode(),
        headers={"Authorization": f"Bearer {api.key()}", "Content-Type": content_type},
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "Ann"


def test_bearer_key_with_literal_angle_brackets_is_accepted(api, client):
    created = create(api, {"name": "Ann"})
    response = raw(client, "GET", f"{URL}/{created['id']}", api.key())
    assert response.status_code == 200
    assert response.get_json() == created


def test_update_sent_like_a_client_library(api, client):
    created = create(api, {"name": "Ann"})
    put = raw(client, "PUT", f"{URL}/{created['id']}", api.key(), {"notes": "from a client"})
    assert put.status_code == 200
    assert (put.get_json()["notes"], put.get_json()["name"]) == ("from a client", "Ann")
    batch = raw(client, "PUT", f"{URL}/batch", api.key(), [{"customer": created["id"], "x": 1}])
    assert batch.status_code == 422
    assert error_fields(batch) == ["[0].x"]


def test_delete_tags_with_a_json_body_sent_like_a_client_library(api, client):
    created = create(api, {"tags": [{"name": "Lead"}, {"name": "vip"}]})
    response = raw(
        client, "DELETE", f"{URL}/{created['id']}/tags", api.key(), {"tags": [{"name": "lead"}]}
    )
    assert response.status_code == 200
    assert response.get_json()["tags"] == [{"name": "vip", "color": "#c377e0"}]
    assert read(api, created["id"])["tags"] == [{"name": "vip", "color": "#c377e0"}]


def test_delete_customer_sent_like_a_client_library(api, client):
    created = create(api, {"name": "Ann"})
    response = raw(client, "DELETE", f"{URL}/{created['id']}", api.key())
    assert response.status_code == 200
    assert response.get_json() == "Ok"
