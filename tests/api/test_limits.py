"""Rate limits: one counter per (account, API), 429 in the envelope, any storage, fail-open."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from flask import Blueprint, Flask, g

from app import config, create_app, errors, exceptions, limits
from app.api import API_GROUPS, contacts, parsing
from tests.support import accounts

URL = "/api/v1/partner/contacts"
CONTACT = {"email": "alex.johnson@example.com", "name": "Alex Johnson"}
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
TOO_MANY = {
    "errors": [
        {"code": "invalid_request", "message": "Invalid request"},
        {"code": "too_many_requests", "message": "Too many requests"},
    ]
}
ROOT = Path(__file__).resolve().parents[2]


class Caller:
    """One app's client plus the keys of its accounts."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.keys: dict[str, str] = {}

    def key(self, account: str = "acme") -> str:
        if account not in self.keys:
            with self.app.app_context():
                self.keys[account] = accounts.create_account(account)[1]
        return self.keys[account]

    def unknown_contact(self, account: str = "acme", *, headers: dict[str, str] | None = None):
        """GET of an unknown contact: a cheap 404 that still counts."""
        headers = headers if headers is not None else {"x-api-key": self.key(account)}
        return self.client.get(f"{URL}/{uuid.uuid4()}", headers=headers)

    def spend(self, count: int, account: str = "acme") -> None:
        for _ in range(count):
            assert self.unknown_contact(account).status_code == 404


def remaining(response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


def assert_limit_headers(response, limit: int, left: int) -> None:
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert remaining(response) == left
    assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert "X-Limiter-Retry-After" not in response.headers  # internal name, never sent


def assert_too_many(response, limit: int) -> None:
    """429 with the envelope, Retry-After and the limit headers."""
    assert response.status_code == 429, response.data
    assert response.mimetype == "application/json"
    assert response.get_json() == TOO_MANY
    assert 0 <= int(response.headers["Retry-After"]) <= 61
    assert_limit_headers(response, limit, 0)


def assert_no_limit_headers(response) -> None:
    for name in LIMIT_HEADERS:
        assert name not in response.headers


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A stand-in for the customers API (no customers blueprint exists yet), put in the "customers"
# group for one test's apps only, so it gets the real authentication and its own limit.
probe = parsing.Blueprint("test-customers-probe", __name__, url_prefix="/v1/test-probe")


@probe.route("")
def probe_ok():
    return {"status": "ok"}


@probe.route("/unavailable")
def probe_unavailable():
    raise errors.ServiceUnavailable(headers={"Retry-After": "5"})


@pytest.fixture
def with_probe(monkeypatch, make_app) -> Any:
    """``make_app``, with ``probe`` in the customers group of the apps it makes."""
    monkeypatch.setitem(API_GROUPS, "customers", [*API_GROUPS["customers"], probe])
    return make_app


# --- the limit and the 429 ------------------------------------------------------------------


def test_request_over_the_limit_is_429_with_the_envelope_retry_after_and_limit_headers(
    make_app,
):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="5 per minute"))
    caller.spend(5)
    response = caller.unknown_contact()
    assert_too_many(response, 5)
    assert "X-Request-Id" in response.headers
    # Still over the limit, whatever the method or body.
    assert_too_many(caller.client.post(URL, json=CONTACT, headers={"x-api-key": caller.key()}), 5)


def test_default_limit_is_120_per_minute_and_the_121st_request_is_429(api):
    for left in range(119, -1, -1):
        response = api.get(f"{URL}/{uuid.uuid4()}")
        assert response.status_code == 404
        assert_limit_headers(response, 120, left)
    assert_too_many(api.get(f"{URL}/{uuid.uuid4()}"), 120)
    # Another account is unaffected.
    other = api.get(f"{URL}/{uuid.uuid4()}", account="globex")
    assert other.status_code == 404
    assert_limit_headers(other, 120, 119)


def test_every_response_of_a_limited_endpoint_carries_the_limit_headers(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="10 per minute"))
    headers = {"x-api-key": caller.key()}
    created = caller.client.post(URL, json=CONTACT, headers=headers)
    responses = [
        created,
        caller.client.post(URL, json=CONTACT, headers=headers),
        caller.client.get(f"{URL}/{created.get_json()['id']}", headers=headers),
        caller.unknown_contact(),
        caller.client.post(URL, json={"email": "nope"}, headers=headers),
        caller.client.post(URL, data=b"{oops", headers=headers),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 404, 422, 400]
    for left, response in zip(range(9, -1, -1), responses, strict=False):
        assert_limit_headers(response, 10, left)
        # Retry-After belongs to 429s (and 503s) only.
        assert "Retry-After" not in response.headers


def test_422_and_404_count_against_the_limit(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="3 per minute"))
    headers = {"x-api-key": caller.key()}
    assert caller.client.post(URL, json={"name": "no email"}, headers=headers).status_code == 422
    assert caller.unknown_contact().status_code == 404
    assert caller.client.post(URL, json={"email": "x"}, headers=headers).status_code == 422
    assert_too_many(caller.client.post(URL, json=CONTACT, headers=headers), 3)


def test_every_endpoint_of_an_api_shares_one_counter(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="3 per minute"))
    headers = {"x-api-key": caller.key()}
    created = caller.client.post(URL, json=CONTACT, headers=headers)
    assert remaining(created) == 2
    read = caller.client.get(f"{URL}/{created.get_json()['id']}", headers=headers)
    assert remaining(read) == 1
    assert remaining(caller.client.post(URL, json=CONTACT, headers=headers)) == 0
    assert_too_many(caller.client.get(f"{URL}/{created.get_json()['id']}", headers=headers), 3)


# --- authentication first -------------------------------------------------------------------


def bad_credentials(caller: Caller) -> list[dict[str, str]]:
    revoked = caller.key("revoked-co")
    with caller.app.app_context():
        accounts.revoke_key(revoked[:11])
    return [
        {},
        {"x-api-key": "ck_" + "A" * 43},
        {"Authorization": "Bearer ck_" + "A" * 43},
        {"x-api-key": revoked},
        {"Authorization": f"Basic {caller.key()}"},
    ]


def test_401_does_not_count_and_carries_no_limit_headers(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="2 per minute"))
    credentials = bad_credentials(caller)
    for _ in range(3):
        for headers in credentials:
            response = caller.unknown_contact(headers=headers)
            assert response.status_code == 401
            assert_no_limit_headers(response)
    # The accounts involved (acme's key was sent under a wrong scheme, revoked-co's key was
    # revoked) kept their whole budget.
    assert remaining(caller.unknown_contact()) == 1
    with caller.app.app_context():
        fresh = accounts.create_key("revoked-co")
    assert remaining(caller.unknown_contact(headers={"x-api-key": fresh})) == 1


def test_bad_key_is_401_never_429_even_when_the_account_is_over_its_limit(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="2 per minute"))
    caller.key()
    with caller.app.app_context():
        acme_revoked = accounts.create_key("acme")
        accounts.revoke_key(acme_revoked[:11])
    caller.spend(2)
    assert_too_many(caller.unknown_contact(), 2)
    for headers in [
        *bad_credentials(caller),
        {"x-api-key": acme_revoked},
        {"Authorization": f"Bearer {acme_revoked}"},
    ]:
        assert caller.unknown_contact(headers=headers).status_code == 401
        # Authentication comes before validation too: an invalid body with a bad key is a 401.
        assert caller.client.post(URL, json={"email": "x"}, headers=headers).status_code == 401
    # Another account is untouched by all of it.
    assert remaining(caller.unknown_contact("globex")) == 1


# --- whose counter --------------------------------------------------------------------------


def test_x_api_key_and_bearer_share_one_counter(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="4 per minute"))
    key = caller.key()
    styles = [
        {"x-api-key": key},
        {"Authorization": f"Bearer {key}"},
        {"Authorization": f"Bearer <{key}>"},
        {"Authorization": f"bearer {key}"},
    ]
    for left, headers in zip((3, 2, 1, 0), styles, strict=True):
        response = caller.unknown_contact(headers=headers)
        assert response.status_code == 404
        assert remaining(response) == left
    for headers in styles:
        assert_too_many(caller.unknown_contact(headers=headers), 4)


def test_two_keys_of_one_account_share_one_counter(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="4 per minute"))
    first = caller.key()
    with caller.app.app_context():
        second = accounts.create_key("acme")
    for left, key in zip((3, 2, 1, 0), (first, second, first, second), strict=True):
        assert remaining(caller.unknown_contact(headers={"x-api-key": key})) == left
    assert_too_many(caller.unknown_contact(headers={"Authorization": f"Bearer {second}"}), 4)
    assert_too_many(caller.unknown_contact(headers={"x-api-key": first}), 4)


def test_another_account_has_its_own_counter(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="3 per minute"))
    caller.spend(3)
    assert_too_many(caller.unknown_contact(), 3)
    response = caller.unknown_contact("globex")
    assert response.status_code == 404
    assert_limit_headers(response, 3, 2)
    assert_too_many(caller.unknown_contact(), 3)


def test_partner_and_customers_apis_have_separate_counters(with_probe):
    # TODO: repeat this with the real /v1/customers endpoints once their blueprint exists.
    app = with_probe(RATE_LIMIT_PARTNER_API="2 per minute", RATE_LIMIT_CUSTOMERS_API="3 per minute")
    caller = Caller(app)
    headers = {"x-api-key": caller.key()}
    caller.spend(2)
    assert_too_many(caller.unknown_contact(), 2)
    for left in (2, 1, 0):
        response = caller.client.get("/v1/test-probe", headers=headers)
        assert response.status_code == 200
        assert_limit_headers(response, 3, left)
    assert_too_many(caller.client.get("/v1/test-probe", headers=headers), 3)
    # The customers API needs a key like every API.
    assert caller.client.get("/v1/test-probe").status_code == 401


def test_each_api_group_gets_one_limit_shared_by_its_blueprints_and_scoped_by_its_name():
    """limits.init_app alone, no database: two blueprints of a group share, groups do not."""
    app = Flask(__name__)
    app.config.update(
        RATELIMIT_STORAGE_URI="memory://",
        RATE_LIMIT_ALPHA_API="2 per minute",
        RATE_LIMIT_BETA_API="1 per minute",
    )
    one, two, three = (Blueprint(name, __name__, url_prefix=f"/{name}") for name in "abc")
    for blueprint in (one, two, three):
        blueprint.add_url_rule("", "view", lambda: "ok")

    @app.before_request
    def fake_auth() -> None:
        g.account = SimpleNamespace(public_id="account-1")

    # The service's handlers render the envelope; this bare app only needs the status.
    app.register_error_handler(exceptions.TooManyRequests, lambda error: ("", error.status))
    state = limits.init_app(app, {"alpha": [one, two], "beta": [three]})
    for blueprint in (one, two, three):
        app.register_blueprint(blueprint)
    client = app.test_client()
    assert [client.get(path).status_code for path in ("/a", "/b", "/a", "/b")] == [
        200,
        200,
        429,
        429,
    ]
    assert [client.get("/c").status_code for _ in range(2)] == [200, 429]
    # The limits live in this app's state only: one shared limit per group, keyed by group.
    assert set(state.groups) == {"a", "b", "c"}
    assert state.groups["a"] == state.groups["b"]
    (group_a, (alpha,)), (group_c, (beta,)) = state.groups["a"], state.groups["c"]
    assert (group_a, alpha.amount, alpha.GRANULARITY.name) == ("alpha", 2, "minute")
    assert (group_c, beta.amount, beta.GRANULARITY.name) == ("beta", 1, "minute")


# --- what is not limited --------------------------------------------------------------------


def test_health_docs_and_openapi_json_are_exempt(make_app):
    caller = Caller(make_app(RATE_LIMIT_PARTNER_API="1 per minute"))
    caller.spend(1)
    assert_too_many(caller.unknown_contact(), 1)
    paths = ["/healthz", "/readyz", "/docs", "/docs/assets/swagger-ui.css", "/openapi.json"]
    for _ in range(3):
        for path in paths:
            for headers in ({}, {"x-api-key": caller.key()}):
                with caller.client.get(path, headers=headers) as response:
                    assert response.status_code == 200, path
                    assert_no_limit_headers(response)
                    assert "Retry-After" not in response.headers


def test_retry_after_of_a_503_is_not_stretched_by_the_limiter(with_probe):
    caller = Caller(with_probe())
    response = caller.client.get("/v1/test-probe/unavailable", headers={"x-api-key": caller.key()})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert_limit_headers(response, 120, 119)


# --- one limiter per app --------------------------------------------------------------------


def test_two_apps_do_not_share_counts(make_app):
    first = Caller(make_app(RATE_LIMIT_PARTNER_API="2 per minute"))
    second = Caller(make_app(RATE_LIMIT_PARTNER_API="2 per minute"))
    second.keys = first.keys  # same database, same account, same key
    first.spend(2)
    assert_too_many(first.unknown_contact(), 2)
    assert remaining(second.unknown_contact()) == 1
    state_1 = first.app.extensions[limits.EXTENSION]
    state_2 = second.app.extensions[limits.EXTENSION]
    assert state_1 is not state_2
    assert state_1.strategy.storage is not state_2.strategy.storage


def blueprint_state(blueprint: Blueprint) -> dict[str, Any]:
    """Everything a limiter or auth could have hung on a blueprint."""
    return {
        "deferred": list(blueprint.deferred_functions),
        "before": {k: list(v) for k, v in blueprint.before_request_funcs.items()},
        "after": {k: list(v) for k, v in blueprint.after_request_funcs.items()},
        "teardown": {k: list(v) for k, v in blueprint.teardown_request_funcs.items()},
        "attributes": sorted(vars(blueprint)),
    }


def test_creating_apps_leaves_the_module_level_blueprints_unchanged(make_app):
    make_app()  # a first registration may set Flask's own "registered once" flag
    before = {name: blueprint_state(blp) for name, blp in (("contacts", contacts.blp),)}
    apps = [make_app(RATE_LIMIT_PARTNER_API=f"{n} per minute") for n in (3, 4, 5)]
    assert {"contacts": blueprint_state(contacts.blp)} == before
    # Authentication is an app hook now, not a blueprint hook.
    assert not any(contacts.blp.before_request_funcs.values())
    # Each app's state holds exactly its own limit for the blueprint.
    for app, amount in zip(apps, (3, 4, 5), strict=True):
        group, (limit,) = app.extensions[limits.EXTENSION].groups[contacts.blp.name]
        assert (group, limit.amount, limit.GRANULARITY.name) == ("partner", amount, "minute")


def test_invalid_rate_limit_setting_fails_at_startup():
    settings = {"TESTING": True, "DATABASE_URL": "postgresql://unused/x"}
    with pytest.raises(RuntimeError, match="RATE_LIMIT_PARTNER_API='lots'"):
        create_app({**settings, "RATE_LIMIT_PARTNER_API": "lots"})


def test_rate_limit_settings_are_read_from_the_environment():
    parsed = config.from_environ(
        {
            "RATE_LIMIT_PARTNER_API": "10/second",
            "RATE_LIMIT_CUSTOMERS_API": "5 per hour",
            "RATELIMIT_STORAGE_URI": "redis://cache:6379/1",
        }
    )
    assert parsed == {
        "RATE_LIMIT_PARTNER_API": "10/second",
        "RATE_LIMIT_CUSTOMERS_API": "5 per hour",
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/1",
    }
    defaults = config.defaults()
    assert defaults["RATE_LIMIT_PARTNER_API"] == defaults["RATE_LIMIT_CUSTOMERS_API"]
    assert defaults["RATE_LIMIT_PARTNER_API"] == "120 per minute"
    assert defaults["RATELIMIT_STORAGE_URI"] == "memory://"


# --- storage --------------------------------------------------------------------------------


def test_unreachable_storage_keeps_serving_and_logs(make_app, caplog):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port()}/0")
    caller = Caller(app)
    headers = {"x-api-key": caller.key()}
    with caplog.at_level(logging.WARNING):
        created = caller.client.post(URL, json=CONTACT, headers=headers)
        updated = caller.client.post(URL, json=CONTACT, headers=headers)
        read = caller.client.get(f"{URL}/{created.get_json()['id']}", headers=headers)
    assert [created.status_code, updated.status_code, read.status_code] == [201, 200, 200]
    assert read.get_json()["email"] == CONTACT["email"]
    # Nothing to count with, so nothing is claimed about the budget.
    assert_no_limit_headers(read)
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "app.limits"]
    assert len(logged) >= 3, caplog.text  # one per request at least


# Run in a child process: create an app on the shared Redis, make N requests, print statuses.
CHILD = """
import json, sys, uuid
from app import create_app

database_url, storage_uri, prefix, key, count = sys.argv[1:]
app = create_app({
    "TESTING": True,
    "DATABASE_URL": database_url,
    "RATELIMIT_STORAGE_URI": storage_uri,
    "RATELIMIT_KEY_PREFIX": prefix,
    "RATE_LIMIT_PARTNER_API": "10 per minute",
})
try:
    client = app.test_client()
    headers = {"x-api-key": key}
    statuses = [
        client.get(f"/api/v1/partner/contacts/{uuid.uuid4()}", headers=headers).status_code
        for _ in range(int(count))
    ]
finally:
    app.extensions["db"].close()
print(json.dumps(statuses))
"""


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="REDIS_URL is not set: the cross-process limit needs a Redis server "
    "(.ci/run sets REDIS_URL=redis://127.0.0.1:6379/0 when one answers there)",
)
def test_redis_storage_holds_one_limit_across_two_processes(make_app):
    import redis

    redis_url = os.environ["REDIS_URL"]
    prefix = f"test-{uuid.uuid4().hex}"  # this run's keys only
    caller = Caller(make_app())
    key = caller.key()
    database_url = caller.app.config["DATABASE_URL"]
    args = [sys.executable, "-c", CHILD, database_url, redis_url, prefix, key, "8"]
    try:
        children = [
            subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outputs = [child.communicate(timeout=120) for child in children]
        for child, (_, stderr) in zip(children, outputs, strict=True):
            assert child.returncode == 0, stderr.decode()
        statuses = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
        # 8 requests each, 10 allowed in all: neither process alone reaches the limit.
        assert sorted(statuses[0] + statuses[1]) == [404] * 10 + [429] * 6
    finally:
        client = redis.Redis.from_url(redis_url)
        for name in client.scan_iter(match=f"*{prefix}*"):
            client.delete(name)
        client.close()


def _bare_app(**config: str) -> tuple[Flask, Any]:
    """limits.init_app alone on a bare app: blueprint /a in group alpha, /free in none."""
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", **config)
    limited = Blueprint("a", __name__, url_prefix="/a")
    limited.add_url_rule("", "view", lambda: "ok")
    free = Blueprint("free", __name__, url_prefix="/free")
    free.add_url_rule("", "view", lambda: "ok")

    @app.before_request
    def fake_auth() -> None:
        g.account = SimpleNamespace(public_id="account-1")

    app.register_error_handler(
        exceptions.TooManyRequests, lambda error: ("", error.status, error.headers)
    )
    state = limits.init_app(app, {"alpha": [limited]})
    app.register_blueprint(limited)
    app.register_blueprint(free)
    return app, state


def test_several_limits_count_shortest_window_first_as_flask_limiter_did():
    """'120 per minute;2 per second': the second's limit is counted and shown first; past it,
    the minute's budget is not spent."""
    app, state = _bare_app(RATE_LIMIT_ALPHA_API="120 per minute;2 per second")
    client = app.test_client()
    answers = [client.get("/a") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 429]
    assert [r.headers["X-RateLimit-Limit"] for r in answers] == ["2"] * 4
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["1", "0", "0", "0"]
    _, (second, minute) = state.groups["a"]
    assert state.strategy.get_window_stats(minute, "account-1", "alpha").remaining == 118


def test_counter_keys_are_flask_limiters_so_counts_carry_over_a_deploy():
    """LIMITER/<prefix>/<account>/<group>/...: what flask-limiter wrote into a shared Redis."""
    app, state = _bare_app(RATE_LIMIT_ALPHA_API="5 per minute", RATELIMIT_KEY_PREFIX="svc")
    app.test_client().get("/a")
    [key] = state.strategy.storage._counts
    assert key.startswith("LIMITER/svc/account-1/alpha/"), key


def test_limit_headers_do_not_leak_into_the_next_request_of_one_app_context():
    app, _ = _bare_app(RATE_LIMIT_ALPHA_API="5 per minute")
    client = app.test_client()
    with app.app_context():  # g lives as long as this, across the requests inside
        assert "X-RateLimit-Limit" in client.get("/a").headers
        assert "X-RateLimit-Limit" not in client.get("/free").headers


def test_a_request_makes_two_storage_calls_an_increment_and_the_windows_end(monkeypatch):
    """Not the strategy's three (its get_window_stats reads the count again): with Redis,
    each call is a round trip."""
    app, state = _bare_app(RATE_LIMIT_ALPHA_API="5 per minute")
    storage = state.strategy.storage
    calls: list[str] = []
    for name in ("incr", "get", "get_expiry"):
        original = getattr(storage, name)
        monkeypatch.setattr(
            storage, name, lambda *a, _n=name, _o=original, **k: calls.append(_n) or _o(*a, **k)
        )
    client = app.test_client()
    remaining = [client.get("/a").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["4", "3", "2"]
    assert calls == ["incr", "get_expiry"] * 3


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="REDIS_URL is not set: counting Redis commands needs a Redis server "
    "(.ci/run sets REDIS_URL=redis://127.0.0.1:6379/0 when one answers there)",
)
def test_with_redis_a_request_is_one_script_call(make_app, monkeypatch):
    """The increment and the window's end in one round trip: one EVALSHA a request, nothing
    else; the counts and headers as before (on keys of this test's own prefix)."""
    app = make_app(
        RATELIMIT_STORAGE_URI=os.environ["REDIS_URL"],
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        RATE_LIMIT_PARTNER_API="3 per minute",
    )
    caller = Caller(app)
    assert remaining(caller.unknown_contact()) == 2  # loads the script
    client = app.extensions[limits.EXTENSION].strategy.storage.get_connection()
    sent: list[str] = []
    original = client.execute_command
    monkeypatch.setattr(
        client, "execute_command", lambda *a, **k: sent.append(str(a[0])) or original(*a, **k)
    )
    answers = [caller.unknown_contact() for _ in range(3)]
    assert [r.status_code for r in answers] == [404, 404, 429]
    assert [remaining(r) for r in answers] == [1, 0, 0]
    assert 0 < int(answers[1].headers["X-RateLimit-Reset"]) - int(time.time()) <= 61
    assert sent == ["EVALSHA"] * 3
