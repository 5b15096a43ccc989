"""X-Forwarded-For/-Proto/-Host are believed only from the proxies in FORWARDED_ALLOW_IPS.

From a configured proxy, the client's address goes into the request's log line and the
scheme and host into generated URLs (here the Location of the 308 for doubled slashes); from
anyone else the headers are ignored, so a client cannot pose as another address or host.
"""

from __future__ import annotations

import logging

import pytest

from app import config

GATEWAY, STRANGER, CLIENT = "10.1.2.3", "198.51.100.9", "203.0.113.7"
FORWARDED = {
    "X-Forwarded-For": CLIENT,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.com",
}


def redirect_from(app, peer: str, caplog) -> tuple[str, str]:
    """Location of the 308 for a doubled slash and the client its log line names."""
    caplog.clear()
    response = app.test_client().get(
        "/v1//customers", headers=FORWARDED, environ_base={"REMOTE_ADDR": peer}
    )
    assert response.status_code == 308
    [line] = [r for r in caplog.records if r.name == "app.access"]
    return response.headers["Location"], line.client


@pytest.fixture(autouse=True)
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger="app.access")


def test_forwarded_headers_from_a_configured_proxy_give_the_clients_view(make_app, caplog):
    app = make_app(FORWARDED_ALLOW_IPS="10.0.0.0/8, 127.0.0.1")
    location, client = redirect_from(app, GATEWAY, caplog)
    assert location == "https://api.example.com/v1/customers"
    assert client == CLIENT


def test_forwarded_headers_from_anyone_else_are_ignored(make_app, caplog):
    app = make_app(FORWARDED_ALLOW_IPS="10.0.0.0/8")
    location, client = redirect_from(app, STRANGER, caplog)
    assert location == "http://localhost/v1/customers"
    assert client == STRANGER


def test_a_star_trusts_every_peer(make_app, caplog):
    app = make_app(FORWARDED_ALLOW_IPS="*")
    assert redirect_from(app, STRANGER, caplog) == ("https://api.example.com/v1/customers", CLIENT)


def test_by_default_only_the_loopback_is_a_proxy(make_app, caplog):
    app = make_app()
    assert redirect_from(app, "127.0.0.1", caplog)[1] == CLIENT
    assert redirect_from(app, GATEWAY, caplog)[1] == GATEWAY


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "gateway.internal", "10.0.0.1,,nope"])
def test_a_malformed_proxy_list_stops_the_start(raw):
    with pytest.raises(config.ConfigError, match=f"FORWARDED_ALLOW_IPS={raw!r} is not valid"):
        config.from_environ({"FORWARDED_ALLOW_IPS": raw})
