"""Request bodies on the test client: size limit with or without Content-Length, stalled and
broken bodies, and no pooled connection held while a body is read.

The same behaviour on real servers (werkzeug's, gunicorn's) is in
tests/integration/test_slow_clients.py.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from flask import Flask

from tests.support import accounts

CUSTOMERS = "/v1/customers"
PARTNER = "/api/v1/partner/contacts"
LIMIT = 1000
GENERIC = {"code": "invalid_request", "message": "Invalid request"}


def padded(document: dict[str, Any], size: int) -> bytes:
    """``document`` as JSON of exactly ``size`` bytes (trailing whitespace is valid JSON)."""
    data = json.dumps(document).encode()
    assert len(data) <= size
    return data + b" " * (size - len(data))


def new_key(app: Flask, name: str = "acme") -> str:
    with app.app_context():
        return accounts.create_account(name)[1]


def codes(response) -> list[str]:
    body = response.get_json()
    assert body["errors"][0] == GENERIC, body
    return [entry["code"] for entry in body["errors"][1:]]


def post_chunked(app: Flask, key: str, stream: io.BytesIO, path: str = CUSTOMERS):
    """As a server hands over a chunked body: no length, a stream the server terminates."""
    return app.test_client().post(
        path,
        input_stream=stream,
        headers={"x-api-key": key, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def total(app: Flask, key: str) -> int:
    response = app.test_client().get(CUSTOMERS, headers={"x-api-key": key})
    assert response.status_code == 200
    return response.get_json()["total"]


@pytest.fixture
def limited(make_app) -> tuple[Flask, str]:
    app = make_app(MAX_BODY_BYTES=LIMIT)
    return app, new_key(app)


# --- size ----------------------------------------------------------------------------------


def test_chunked_body_above_the_limit_is_413_even_when_its_start_is_valid_json(limited):
    app, key = limited
    # Cut at the limit, this would be a valid document: werkzeug alone would answer 201.
    body = padded({"email": "cut@example.com"}, LIMIT) + b'"the rest"'

    response = post_chunked(app, key, io.BytesIO(body))

    assert response.status_code == 413
    assert codes(response) == ["payload_too_large"]
    assert total(app, key) == 0


def test_chunked_body_one_byte_above_the_limit_is_413(limited):
    app, key = limited
    response = post_chunked(app, key, io.BytesIO(padded({"email": "a@example.com"}, LIMIT + 1)))
    assert response.status_code == 413
    assert total(app, key) == 0


@pytest.mark.parametrize("size", [LIMIT - 1, LIMIT])
def test_chunked_body_up_to_the_limit_is_read_whole(limited, size):
    app, key = limited
    body = padded({"email": "whole@example.com", "name": "Whole"}, size)

    response = post_chunked(app, key, io.BytesIO(body))

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "Whole"


class Unreadable(io.BytesIO):
    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")


def test_declared_length_above_the_limit_is_413_without_reading(limited):
    app, key = limited
    response = app.test_client().post(
        CUSTOMERS, input_stream=Unreadable(b" " * (LIMIT + 1)), headers={"x-api-key": key}
    )
    assert response.status_code == 413
    assert codes(response) == ["payload_too_large"]


def test_chunked_partner_upsert_above_the_limit_is_413(limited):
    app, key = limited
    body = padded({"email": "cut@example.com"}, LIMIT) + b" x"
    response = post_chunked(app, key, io.BytesIO(body), path=PARTNER)
    assert response.status_code == 413
    assert total(app, key) == 0


# --- stalled and broken bodies -------------------------------------------------------------


class Stalled(io.BytesIO):
    """A body whose client stopped sending: the socket's read timeout fires."""

    def read(self, *args: Any) -> bytes:
        raise TimeoutError("timed out")


class HungUp(io.BytesIO):
    def read(self, *args: Any) -> bytes:
        raise ConnectionResetError("reset by peer")


def test_a_body_that_stops_arriving_is_408(limited):
    app, key = limited
    response = app.test_client().post(
        CUSTOMERS, input_stream=Stalled(b"{}" * 10), headers={"x-api-key": key}
    )
    assert response.status_code == 408
    assert codes(response) == ["request_timeout"]


def test_a_client_that_hangs_up_mid_body_is_400(limited):
    app, key = limited
    response = app.test_client().post(
        CUSTOMERS, input_stream=HungUp(b"{}" * 10), headers={"x-api-key": key}
    )
    assert response.status_code == 400
    assert codes(response) == ["bad_request"]


def test_a_body_shorter_than_its_content_length_is_400(limited):
    app, key = limited
    response = app.test_client().post(
        CUSTOMERS,
        input_stream=io.BytesIO(b'{"name": "Ann"}'),
        headers={"x-api-key": key},
        environ_overrides={"CONTENT_LENGTH": "100"},
    )
    assert response.status_code == 400
    assert codes(response) == ["bad_request"]
    assert total(app, key) == 0


# --- no connection held while the body arrives ---------------------------------------------


class Watched(io.BytesIO):
    """A body that records how many pooled connections are checked out while it is read."""

    def __init__(self, data: bytes, app: Flask) -> None:
        super().__init__(data)
        self.app = app
        self.checked_out: list[int] = []

    def read(self, *args: Any) -> bytes:
        stats = self.app.extensions["db"].stats()
        self.checked_out.append(stats["pool_size"] - stats["pool_available"])
        return super().read(*args)


@pytest.mark.parametrize("path", [CUSTOMERS, PARTNER])
def test_no_pooled_connection_is_held_while_the_body_is_read(make_app, path):
    app = make_app(DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=1)
    key = new_key(app)
    body = Watched(json.dumps({"email": "ann@example.com"}).encode(), app)

    response = app.test_client().post(path, input_stream=body, headers={"x-api-key": key})

    assert response.status_code == 201, response.get_json()
    # Authenticated before the body was read, on a checkout that had already ended.
    assert body.checked_out and set(body.checked_out) == {0}
    stats = app.extensions["db"].stats()
    assert stats["pool_size"] == stats["pool_available"]  # and nothing kept after the request


def test_the_socket_gets_the_body_read_timeout_before_the_app_runs(make_app):
    class Socket:
        timeout: float | None = None

        def settimeout(self, value: float | None) -> None:
            self.timeout = value

    app = make_app(BODY_READ_TIMEOUT_SECONDS=7.5)
    sock = Socket()
    response = app.test_client().get("/healthz", environ_overrides={"gunicorn.socket": sock})
    assert response.status_code == 200
    assert sock.timeout == 7.5
