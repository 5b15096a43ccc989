"""API-key authentication on the partner contacts endpoints."""

from __future__ import annotations

import base64
import re
import uuid

import psycopg
import pytest

from tests.support import accounts

URL = "/api/v1/partner/contacts"
CONTACT = {"email": "alex.johnson@example.com", "name": "Alex Johnson"}
UNAUTHORIZED = {
    "errors": [
        {"code": "invalid_request", "message": "Invalid request"},
        {"code": "unauthorized", "message": "Unauthorized"},
    ]
}


def key_headers(style: str, key: str) -> dict[str, str]:
    return {
        "x-api-key": {"x-api-key": key},
        "bearer": {"Authorization": f"Bearer {key}"},
        "bearer-angle-brackets": {"Authorization": f"Bearer <{key}>"},
        "bearer-lowercase-scheme": {"Authorization": f"bearer {key}"},
        "bearer-uppercase-scheme": {"Authorization": f"BEARER {key}"},
    }[style]


KEY_STYLES = [
    "x-api-key",
    "bearer",
    "bearer-angle-brackets",
    "bearer-lowercase-scheme",
    "bearer-uppercase-scheme",
]


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json() == UNAUTHORIZED


@pytest.mark.parametrize("style", KEY_STYLES)
def test_key_is_accepted_on_post_in_every_documented_form(api, client, style):
    response = client.post(URL, json=CONTACT, headers=key_headers(style, api.key()))
    assert response.status_code == 201
    assert response.get_json()["email"] == CONTACT["email"]


@pytest.mark.parametrize("style", KEY_STYLES)
def test_key_is_accepted_on_get_in_every_documented_form(api, client, style):
    created = api.post(URL, json=CONTACT).get_json()
    response = client.get(f"{URL}/{created['id']}", headers=key_headers(style, api.key()))
    assert response.status_code == 200
    assert response.get_json() == created


def bad_credentials(api, app) -> dict[str, dict[str, str]]:
    """Header sets that must all be refused; the revoked key is revoked here."""
    revoked = api.key("revoked-co")
    with app.app_context():
        accounts.revoke_key(revoked[:11])
    valid = api.key()
    return {
        "missing": {},
        "unknown-x-api-key": {"x-api-key": "ck_" + "A" * 43},
        "unknown-bearer": {"Authorization": "Bearer ck_" + "A" * 43},
        "revoked-x-api-key": {"x-api-key": revoked},
        "revoked-bearer": {"Authorization": f"Bearer {revoked}"},
        "basic-scheme": {"Authorization": "Basic " + base64.b64encode(b"acme:pw").decode()},
        "valid-key-under-basic-scheme": {"Authorization": f"Basic {valid}"},
        "valid-key-without-scheme": {"Authorization": valid},
        "empty-bearer": {"Authorization": "Bearer "},
        "bare-bearer": {"Authorization": "Bearer"},
        "empty-angle-brackets": {"Authorization": "Bearer <>"},
        "empty-x-api-key": {"x-api-key": ""},
        "blank-x-api-key": {"x-api-key": "   "},
    }


BAD_CREDENTIALS = [
    "missing",
    "unknown-x-api-key",
    "unknown-bearer",
    "revoked-x-api-key",
    "revoked-bearer",
    "basic-scheme",
    "valid-key-under-basic-scheme",
    "valid-key-without-scheme",
    "empty-bearer",
    "bare-bearer",
    "empty-angle-brackets",
    "empty-x-api-key",
    "blank-x-api-key",
]


@pytest.mark.parametrize("case", BAD_CREDENTIALS)
def test_missing_unknown_revoked_or_malformed_key_is_401_on_post(api, app, client, case):
    headers = bad_credentials(api, app)[case]
    assert_unauthorized(client.post(URL, json=CONTACT, headers=headers))


@pytest.mark.parametrize("case", BAD_CREDENTIALS)
def test_missing_unknown_revoked_or_malformed_key_is_401_on_get(api, app, client, case):
    created = api.post(URL, json=CONTACT).get_json()
    headers = bad_credentials(api, app)[case]
    assert_unauthorized(client.get(f"{URL}/{created['id']}", headers=headers))


def test_revoked_key_stops_working_and_other_keys_of_the_account_keep_working(api, app, client):
    first = api.key()
    with app.app_context():
        second = accounts.create_key("acme")
    assert client.post(URL, json=CONTACT, headers={"x-api-key": first}).status_code == 201
    result = app.test_cli_runner().invoke(args=["keys", "revoke", first[:11]])
    assert result.exit_code == 0, result.output
    assert_unauthorized(client.post(URL, json=CONTACT, headers={"x-api-key": first}))
    assert client.post(URL, json=CONTACT, headers={"x-api-key": second}).status_code == 200


def test_unknown_contact_with_a_bad_key_is_401_not_404(client):
    assert_unauthorized(client.get(f"{URL}/{uuid.uuid4()}", headers={"x-api-key": "nope"}))


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"email": "not-an-email", "nickname": 1}},
        {"json": {}},
        {"json": [1, 2, 3]},
        {"data": b"{not json", "content_type": "application/json"},
        {"data": b"a=1&b=2", "content_type": "application/x-www-form-urlencoded"},
        {"data": b"<contact/>", "content_type": "application/xml"},
        {"data": b"\xff\xfe\x00", "content_type": "application/json"},
        {"data": b'{"name": "\\u0000"}', "content_type": "application/json"},
    ],
    ids=["invalid-fields", "empty-object", "array", "bad-json", "form", "xml", "bad-utf8", "nul"],
)
@pytest.mark.parametrize("headers", [{}, {"x-api-key": "ck_unknown"}], ids=["no-key", "bad-key"])
def test_authentication_runs_before_validation(client, body, headers):
    assert_unauthorized(client.post(URL, headers=headers, **body))


def test_keys_carry_at_least_32_bytes_of_randomness(app):
    with app.app_context():
        _, first = accounts.create_account("acme")
        keys = [first, *(accounts.create_key("acme") for _ in range(4))]
    assert len(set(keys)) == len(keys)
    for key in keys:
        match = re.fullmatch(r"ck_([A-Za-z0-9_-]+)", key)
        assert match, key
        random_part = match[1]
        # base64url: 6 bits per character; 32 bytes need at least 43 characters.
        assert len(random_part) >= 43
        decoded = base64.urlsafe_b64decode(random_part + "=" * (-len(random_part) % 4))
        assert len(decoded) >= 32
    # Distinct keys differ throughout their random part, not only in a counter.
    randoms = [k[3:] for k in keys]
    for i, a in enumerate(randoms):
        for b in randoms[i + 1 :]:
            assert sum(x != y for x, y in zip(a, b, strict=False)) > len(a) // 2


def test_keys_are_stored_only_as_a_hash(api, database_url):
    keys = [api.key("acme"), api.key("globex")]
    with psycopg.connect(database_url) as conn:
        cur = conn.execute("SELECT * FROM api_keys")
        columns = [c.name for c in cur.description]
        rows = cur.fetchall()
    assert len(rows) == 2
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            if isinstance(value, bytes | memoryview):
                raw = bytes(value)
                for key in keys:
                    assert key.encode() not in raw, column
                    assert raw != key.encode(), column
            else:
                for key in keys:
                    assert str(value) != key, column
                    assert key not in str(value), column


def test_two_keys_of_one_account_see_the_same_data(api, app, client):
    first = api.key()
    with app.app_context():
        second = accounts.create_key("acme")
    created = client.post(URL, json=CONTACT, headers={"x-api-key": first}).get_json()
    seen = client.get(f"{URL}/{created['id']}", headers={"Authorization": f"Bearer {second}"})
    assert seen.status_code == 200
    assert seen.get_json() == created
    # An upsert through the second key matches the contact created through the first.
    updated = client.post(URL, json=CONTACT, headers={"x-api-key": second})
    assert updated.status_code == 200
    assert updated.get_json()["id"] == created["id"]


def test_another_accounts_key_cannot_see_the_data(api, client):
    created = api.post(URL, json=CONTACT).get_json()
    other = api.key("globex")
    response = client.get(f"{URL}/{created['id']}", headers={"x-api-key": other})
    assert response.status_code == 404
    assert response.get_json()["errors"][1]["code"] == "not_found"
    # Posting the same email under the other account creates its own contact.
    theirs = client.post(URL, json=CONTACT, headers={"x-api-key": other})
    assert theirs.status_code == 201
    assert theirs.get_json()["id"] != created["id"]
