"""POST /api/v1/partner/contacts and GET /api/v1/partner/contacts/{id}."""

from __future__ import annotations

import re
import uuid

import pytest

URL = "/api/v1/partner/contacts"
ALEX = {
    "email": "alex.johnson@example.com",
    "name": "Alex Johnson",
    "professional_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "external_id": "cust_001",
}
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_create_answers_201_with_exactly_the_contact_keys(api):
    response = api.post(URL, json=ALEX)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "email", "name", "professional_id", "external_id", "created_at"}
    assert uuid.UUID(body["id"])
    assert {k: body[k] for k in ALEX} == ALEX
    assert CREATED_AT.match(body["created_at"])


def test_update_answers_200(api):
    first = api.post(URL, json=ALEX).get_json()
    response = api.post(URL, json={**ALEX, "name": "Alexandra Johnson"})
    assert response.status_code == 200
    assert response.get_json() == {**first, "name": "Alexandra Johnson"}


def test_repeating_a_request_is_idempotent(api, database_url):
    first = api.post(URL, json=ALEX)
    second = api.post(URL, json=ALEX)
    third = api.post(URL, json=ALEX)
    assert first.status_code == 201
    assert second.status_code == third.status_code == 200
    assert first.get_json() == second.get_json() == third.get_json()
    assert count_rows(database_url, "profiles") == 1
    assert count_rows(database_url, "profile_identifiers") == 2


def test_created_at_never_changes_on_update(api):
    created = api.post(URL, json=ALEX).get_json()["created_at"]
    updated = api.post(URL, json={**ALEX, "email": "alex@new.example.com"}).get_json()
    assert updated["created_at"] == created


def test_external_id_matches_before_email(api):
    first = api.post(URL, json=ALEX).get_json()
    moved = api.post(URL, json={"email": "alex@elsewhere.example.com", "external_id": "cust_001"})
    assert moved.status_code == 200
    assert moved.get_json()["id"] == first["id"]
    assert moved.get_json()["email"] == "alex@elsewhere.example.com"


def test_email_matches_when_external_id_is_unknown(api):
    first = api.post(URL, json=ALEX).get_json()
    response = api.post(URL, json={"email": ALEX["email"], "external_id": "crm-77"})
    assert response.status_code == 200
    assert response.get_json()["id"] == first["id"]
    assert response.get_json()["external_id"] == "crm-77"


def test_email_matches_case_insensitively_and_trimmed(api):
    first = api.post(URL, json={"email": "Alex.Johnson@Example.COM"}).get_json()
    response = api.post(URL, json={"email": "  alex.johnson@example.com "})
    assert response.status_code == 200
    assert response.get_json()["id"] == first["id"]


def test_external_id_is_matched_exactly_after_trimming(api):
    first = api.post(URL, json={"email": "a@example.com", "external_id": "Cust-1"}).get_json()
    same = api.post(URL, json={"email": "b@example.com", "external_id": " Cust-1 "})
    other_case = api.post(URL, json={"email": "c@example.com", "external_id": "cust-1"})
    assert same.status_code == 200 and same.get_json()["id"] == first["id"]
    assert other_case.status_code == 201


def test_new_email_and_new_external_id_create_a_contact(api):
    api.post(URL, json=ALEX)
    response = api.post(URL, json={"email": "sam@example.com", "external_id": "cust_002"})
    assert response.status_code == 201


def test_omitted_fields_keep_their_values(api):
    api.post(URL, json=ALEX)
    response = api.post(URL, json={"email": ALEX["email"]})
    assert response.status_code == 200
    assert {k: response.get_json()[k] for k in ALEX} == ALEX


def test_null_clears_optional_fields(api):
    api.post(URL, json=ALEX)
    response = api.post(
        URL,
        json={"email": ALEX["email"], "name": None, "professional_id": None, "external_id": None},
    )
    body = response.get_json()
    assert (body["name"], body["professional_id"], body["external_id"]) == (None, None, None)
    # The cleared external id no longer resolves to the contact.
    again = api.post(URL, json={"email": "other@example.com", "external_id": "cust_001"})
    assert again.status_code == 201


def test_previous_email_keeps_resolving_after_an_upsert_moves_the_primary(api):
    first = api.post(URL, json=ALEX).get_json()
    moved = api.post(URL, json={"email": "new@example.com", "external_id": "cust_001"}).get_json()
    assert moved["email"] == "new@example.com"
    response = api.post(URL, json={"email": ALEX["email"]})
    assert response.status_code == 200
    assert response.get_json()["id"] == first["id"]
    assert response.get_json()["email"] == ALEX["email"]  # promoted back to primary


def test_external_id_and_email_of_two_contacts_merge_them(api):
    alex = api.post(URL, json=ALEX).get_json()
    sam = api.post(URL, json={"email": "sam@example.com", "external_id": "cust_002"}).get_json()
    response = api.post(URL, json={"email": "sam@example.com", "external_id": "cust_001"})
    assert response.status_code == 200
    merged = response.get_json()
    assert merged["id"] in (alex["id"], sam["id"])
    assert merged["created_at"] == min(alex["created_at"], sam["created_at"])
    for old in (alex, sam):  # both contact ids keep working
        assert api.get(f"{URL}/{old['id']}").get_json() == merged


def test_get_contact_returns_the_contact(api):
    created = api.post(URL, json=ALEX).get_json()
    response = api.get(f"{URL}/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created


# A fixed unknown UUID: parameters must be the same in every pytest-xdist worker.
UNKNOWN_CONTACT = "9b2f6c1e-8d3a-4f5b-a7c9-2e1d0f4b6a83"


@pytest.mark.parametrize("path", [UNKNOWN_CONTACT, "not-a-uuid", "123", "%00"])
def test_get_unknown_or_malformed_contact_id_is_404(api, path):
    response = api.get(f"{URL}/{path}")
    assert response.status_code == 404
    assert response.get_json()["errors"][1]["code"] == "not_found"


def test_trailing_slash_is_not_the_documented_path(api):
    assert api.post(URL + "/", json=ALEX).status_code in (404, 405)


def test_another_accounts_contact_is_invisible_and_never_matched(api):
    theirs = api.post(URL, json=ALEX, account="globex").get_json()
    assert api.get(f"{URL}/{theirs['id']}").status_code == 404
    mine = api.post(URL, json=ALEX)
    assert mine.status_code == 201
    assert mine.get_json()["id"] != theirs["id"]
    assert api.get(f"{URL}/{mine.get_json()['id']}", account="globex").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": 42}, "email"),
        ({"email": "a@example.com", "external_id": ""}, "external_id"),
        ({"email": "a@example.com", "external_id": "   "}, "external_id"),
        ({"email": "a@example.com", "external_id": "x" * 256}, "external_id"),
        ({"email": "a@example.com", "professional_id": "nope"}, "professional_id"),
        ({"email": "a@example.com", "name": ["A"]}, "name"),
        ({"email": "a@example.com", "nickname": "Al"}, "nickname"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(api, body, field):
    response = api.post(URL, json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors[0]["code"] == "invalid_request"
    assert [e["field"] for e in errors[1:]] == [field]
    assert errors[1]["code"] == "invalid_field"


def test_external_id_of_255_characters_is_accepted(api):
    response = api.post(URL, json={"email": "a@example.com", "external_id": "x" * 255})
    assert response.status_code == 201


def test_body_that_is_not_an_object_is_422(api):
    response = api.post(URL, json=[ALEX])
    assert response.status_code == 422


def count_rows(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
