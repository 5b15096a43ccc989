"""The error envelope: every error response, whatever its cause, has one JSON shape."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from flask import Flask

from app import create_app
from tests.support import accounts

URL = "/api/v1/partner/contacts"
GENERIC = {"code": "invalid_request", "message": "Invalid request"}
VALID = b'{"email": "alex.johnson@example.com", "name": "Alex Johnson"}'
MIB = 1024 * 1024


def assert_envelope(response, status: int, code: str | None = None) -> list[dict[str, str]]:
    """The response is ``status`` with the envelope; returns the specific entries."""
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    body = json.loads(response.data)
    assert set(body) == {"errors"}
    errors = body["errors"]
    assert errors[0] == GENERIC
    assert len(errors) >= 2
    for entry in errors[1:]:
        assert set(entry) <= {"code", "message", "field"}
        assert isinstance(entry["code"], str) and entry["code"]
        assert isinstance(entry["message"], str) and entry["message"]
    if code is not None:
        assert [e["code"] for e in errors[1:]] == [code]
    return errors[1:]


def new_key(app: Flask, account: str = "acme") -> str:
    with app.app_context():
        return accounts.create_account(account)[1]


# --- routing errors -------------------------------------------------------------------------


def test_unknown_route_is_404_with_the_envelope(client):
    errors = assert_envelope(client.get("/api/v1/nope"), 404, "not_found")
    assert "field" not in errors[0]


def test_unknown_route_is_404_with_the_envelope_even_with_a_key(api):
    assert_envelope(api.get("/api/v2/partner/contacts"), 404, "not_found")


def test_wrong_method_is_405_with_the_envelope_and_allow_header(api):
    response = api.request("DELETE", URL)
    errors = assert_envelope(response, 405, "method_not_allowed")
    assert "field" not in errors[0]
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed
    assert "DELETE" not in allowed


def test_wrong_method_on_a_contact_is_405_with_allow_header(api):
    response = api.request("PUT", f"{URL}/{uuid.uuid4()}", json={"email": "a@example.com"})
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_missing_key_is_401_with_the_envelope(client):
    errors = assert_envelope(client.post(URL, data=VALID), 401, "unauthorized")
    assert "field" not in errors[0]


# --- validation errors ----------------------------------------------------------------------


def test_each_bad_field_is_one_422_entry_naming_the_field(api):
    response = api.post(URL, json={"email": "x", "professional_id": "y"})
    errors = assert_envelope(response, 422)
    assert sorted(e["field"] for e in errors) == ["email", "professional_id"]
    assert {e["code"] for e in errors} == {"invalid_field"}


def test_missing_required_field_is_422_naming_it(api):
    errors = assert_envelope(api.post(URL, json={"name": "Alex"}), 422, "invalid_field")
    assert errors[0]["field"] == "email"


def test_errors_not_caused_by_a_field_carry_no_field(api):
    for response in (
        api.post(URL, data=b"{oops", content_type="application/json"),
        api.get(f"{URL}/{uuid.uuid4()}"),
    ):
        errors = assert_envelope(response, response.status_code)
        assert all("field" not in e for e in errors)


# --- JSON detection -------------------------------------------------------------------------


def test_json_without_content_type_is_accepted(api):
    response = api.post(URL, data=VALID)
    # Make sure the test client really sent no Content-Type header.
    assert "CONTENT_TYPE" not in response.request.environ
    assert response.status_code == 201
    assert response.get_json()["email"] == "alex.johnson@example.com"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "application/json",
    ],
)
def test_json_body_is_accepted_whatever_the_content_type(api, content_type):
    response = api.post(URL, data=VALID, content_type=content_type)
    assert response.request.environ["CONTENT_TYPE"] == content_type
    assert response.status_code == 201
    assert response.get_json()["name"] == "Alex Johnson"


def test_json_with_a_utf8_bom_is_accepted(api):
    assert api.post(URL, data=b"\xef\xbb\xbf" + VALID).status_code == 201


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
@pytest.mark.parametrize(
    "body", [b"{not json", b'{"email": "a@example.com",}', b"'single'", b'{"email": "a@']
)
def test_unparseable_body_is_400_invalid_json(api, body, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    errors = assert_envelope(api.post(URL, data=body, **kwargs), 400, "invalid_json")
    assert "field" not in errors[0]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=XyZ",
        "application/xml",
        "text/xml",
        "application/soap+xml",
    ],
)
def test_unparseable_body_declared_as_non_json_is_415(api, content_type):
    body = {
        "application/x-www-form-urlencoded": b"email=a%40example.com&name=Alex",
        "multipart/form-data; boundary=XyZ": (
            b'--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\n'
            b"a@example.com\r\n--XyZ--\r\n"
        ),
    }.get(content_type, b"<contact><email>a@example.com</email></contact>")
    response = api.post(URL, data=body, content_type=content_type)
    assert_envelope(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(api, constant):
    body = b'{"email": "a@example.com", "name": ' + constant.encode() + b"}"
    assert_envelope(api.post(URL, data=body), 400, "invalid_json")


def test_nan_in_a_nested_value_is_400(api):
    body = b'{"email": "a@example.com", "name": [1, NaN]}'
    assert_envelope(api.post(URL, data=body, content_type="application/json"), 400)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"email": "a@example.com", "name": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    ],
    ids=["nested-arrays", "nested-in-a-field", "nested-objects"],
)
def test_deeply_nested_json_is_4xx_not_500(api, body):
    # A 10-20 KB body, far below the size limit: nesting depth is client input too.
    response = api.post(URL, data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert_envelope(response, response.status_code)


# --- body size ------------------------------------------------------------------------------


def padded(size: int) -> bytes:
    """A valid JSON body of exactly ``size`` bytes (trailing whitespace is valid JSON)."""
    assert size >= len(VALID)
    return VALID + b" " * (size - len(VALID))


def test_body_above_max_body_bytes_is_413(make_app):
    app = make_app(MAX_BODY_BYTES=1000)
    key = new_key(app)
    response = app.test_client().post(URL, data=padded(2000), headers={"x-api-key": key})
    assert_envelope(response, 413, "payload_too_large")


def test_body_at_max_body_bytes_is_accepted(make_app):
    app = make_app(MAX_BODY_BYTES=1000)
    key = new_key(app)
    response = app.test_client().post(URL, data=padded(1000), headers={"x-api-key": key})
    assert response.status_code == 201


def test_body_above_limit_declared_as_form_is_413(make_app):
    app = make_app(MAX_BODY_BYTES=1000)
    key = new_key(app)
    response = app.test_client().post(
        URL,
        data=b"email=" + b"a" * 2000,
        content_type="application/x-www-form-urlencoded",
        headers={"x-api-key": key},
    )
    assert_envelope(response, 413, "payload_too_large")


def test_default_body_limit_is_one_mebibyte(api):
    assert_envelope(api.post(URL, data=padded(MIB + 1)), 413, "payload_too_large")
    assert api.post(URL, data=padded(MIB)).status_code == 201


# --- strings PostgreSQL cannot store --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rb'{"email": "a@example.com", "name": "Al\u0000ex"}', "name"),
        (rb'{"email": "a\u0000@example.com"}', "email"),
        (rb'{"email": "a@example.com", "external_id": "\u0000"}', "external_id"),
        (rb'{"email": "a@example.com", "name": "\ud800"}', "name"),
        (rb'{"email": "a@example.com", "name": "x\udfffy"}', "name"),
        (rb'{"email": "a@example.com", "external_id": "\ud83d"}', "external_id"),
    ],
    ids=["nul-name", "nul-email", "nul-external-id", "lone-high", "lone-low", "half-pair"],
)
def test_nul_or_lone_surrogate_in_a_value_is_4xx_naming_the_field(api, body, field):
    response = api.post(URL, data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    errors = assert_envelope(response, response.status_code)
    assert [e.get("field") for e in errors] == [field]


@pytest.mark.parametrize(
    "body",
    [
        rb'{"email": "a@example.com", "na\u0000me": "Alex"}',
        rb'{"email": "a@example.com", "\u0000": "Alex"}',
        rb'{"email": "a@example.com", "\ud800": "Alex"}',
        b'{"email": "a@example.com", "name": "Al\x00ex"}',
    ],
    ids=["nul-in-key", "nul-key", "lone-surrogate-key", "raw-nul-byte"],
)
def test_nul_or_lone_surrogate_in_a_key_is_4xx(api, body):
    response = api.post(URL, data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert_envelope(response, response.status_code)


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "a@example.com", "name": "\xff\xfe"}',
        b'{"email": "a@example.com", "name": "\xc3"}',
        b'{"email": "a@example.com", "name": "\xed\xa0\x80"}',
        b"\xff\xfe{\x00}\x00",
    ],
    ids=["ff-fe", "truncated-sequence", "encoded-surrogate", "utf16-bom"],
)
@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_invalid_utf8_body_is_4xx(api, body, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = api.post(URL, data=body, **kwargs)
    assert 400 <= response.status_code < 500
    assert_envelope(response, response.status_code)


def test_nul_in_the_path_is_404(api):
    assert_envelope(api.get(f"{URL}/%00"), 404, "not_found")


def test_nul_in_the_query_string_is_never_a_500(api):
    created = api.post(URL, data=VALID).get_json()
    response = api.get(f"{URL}/{created['id']}?q=%00")
    assert response.status_code < 500
    assert "X-Request-Id" in response.headers


def test_nul_in_a_header_is_401_not_500(client):
    assert_envelope(client.post(URL, data=VALID, headers={"x-api-key": "ck_\x00"}), 401)


# --- unexpected errors ----------------------------------------------------------------------


def test_unexpected_exception_is_500_internal_error_without_details(make_app, caplog):
    app = make_app()

    def boom():
        raise RuntimeError("secret SELECT * FROM /etc/passwd")

    app.add_url_rule("/boom", view_func=boom)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    errors = assert_envelope(response, 500, "internal_error")
    assert set(errors[0]) == {"code", "message"}
    text = response.get_data(as_text=True)
    for leaked in ("secret", "SELECT", "passwd", "Traceback", "RuntimeError", "/", ".py"):
        assert leaked not in text
    # ... but the server logged it in full.
    logged = [
        r.exc_info[1]
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.exc_info and r.exc_info[1] is not None
    ]
    assert any(isinstance(exc, RuntimeError) and "secret SELECT" in str(exc) for exc in logged), (
        caplog.text
    )


def test_unexpected_exception_response_has_a_request_id(make_app):
    app = make_app()

    def boom():
        raise ValueError("nope")

    app.add_url_rule("/boom", view_func=boom)
    response = app.test_client().get("/boom", headers={"X-Request-Id": "req-500"})
    assert_envelope(response, 500, "internal_error")
    assert response.headers["X-Request-Id"] == "req-500"


def test_unreachable_database_is_503_with_retry_after(unreachable_database_url):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": unreachable_database_url, "DB_POOL_TIMEOUT": 1}
    )
    try:
        response = app.test_client().post(URL, data=VALID, headers={"x-api-key": "ck_any"})
        errors = assert_envelope(response, 503, "service_unavailable")
        assert "field" not in errors[0]
        assert int(response.headers["Retry-After"]) > 0
        text = response.get_data(as_text=True)
        for leaked in ("127.0.0.1", "postgres", "connection", "Traceback"):
            assert leaked not in text
    finally:
        app.extensions["db"].close()


def test_unreachable_database_is_503_on_get_too(unreachable_database_url):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": unreachable_database_url, "DB_POOL_TIMEOUT": 1}
    )
    try:
        response = app.test_client().get(
            f"{URL}/{uuid.uuid4()}", headers={"Authorization": "Bearer ck_any"}
        )
        assert_envelope(response, 503, "service_unavailable")
        assert "Retry-After" in response.headers
    finally:
        app.extensions["db"].close()


# --- request ids ----------------------------------------------------------------------------


def responses_of_every_kind(api, client) -> dict[str, Any]:
    created = api.post(URL, data=VALID)
    return {
        "201": created,
        "200": api.get(f"{URL}/{created.get_json()['id']}"),
        "health": client.get("/healthz"),
        "400": api.post(URL, data=b"{"),
        "401": client.post(URL, data=VALID),
        "404": api.get("/nope"),
        "405": api.request("DELETE", URL),
        "415": api.post(URL, data=b"<x/>", content_type="application/xml"),
        "422": api.post(URL, json={"email": "x"}),
        "413": api.post(URL, data=padded(MIB + 1)),
    }


def test_every_response_has_a_request_id(api, client):
    responses = responses_of_every_kind(api, client)
    seen = set()
    for kind, response in responses.items():
        request_id = response.headers.get("X-Request-Id")
        assert request_id, kind
        seen.add(request_id)
    # Generated ids are unique per request.
    assert len(seen) == len(responses)


@pytest.mark.parametrize("given", ["abc-123", "7c3e1a2b-4d5f-6789-bcde-f01234567890", "a.b:c_d"])
def test_well_formed_request_id_is_echoed(api, client, given):
    headers = {"X-Request-Id": given}
    assert api.post(URL, data=VALID, headers=headers).headers["X-Request-Id"] == given
    assert client.get("/healthz", headers=headers).headers["X-Request-Id"] == given
    assert client.post(URL, data=VALID, headers=headers).headers["X-Request-Id"] == given
    assert api.get("/nope", headers=headers).headers["X-Request-Id"] == given


@pytest.mark.parametrize("given", ["has space", "x" * 129, "semi;colon", "<script>", ""])
def test_malformed_request_id_is_replaced(client, given):
    response = client.get("/healthz", headers={"X-Request-Id": given})
    assert response.headers["X-Request-Id"]
    assert response.headers["X-Request-Id"] != given
