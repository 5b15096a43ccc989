"""Idempotency-Key on every write: a retry returns the first answer instead of acting twice;
the same key with another request is a 422, a retry of one still running a 409; keys are
per account, expire, and the answers about a person are erased with them."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest

from werkzeug.routing import UUIDConverter

from app import exceptions
from app.api import API_GROUPS
from app.api import idempotency as api_idempotency
from app.services import context, idempotency
from app.services import customers as customer_service
from app.services.context import Context

URL = "/v1/customers"
PARTNER = "/api/v1/partner/contacts"
KEY = "retry-7f3a"
HEADER = {"Idempotency-Key": KEY}


def send(api, method: str, path: str, body: Any = None, *, key: str | None = KEY, **kwargs):
    """The request with the body as exact JSON bytes (so its fingerprint is known)."""
    headers = {**({"Idempotency-Key": key} if key is not None else {}), **kwargs.pop("headers", {})}
    data = None if body is None else json.dumps(body)
    return api.request(method, path, data=data, content_type="application/json",
                       headers=headers, **kwargs)  # fmt: skip


def create(api, body: dict, **kwargs) -> dict:
    response = send(api, "POST", URL, body, key=None, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sql(api, statement: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(api.app.config["DATABASE_URL"], autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def stored_keys(api) -> list[str]:
    return [row[0] for row in sql(api, "SELECT key FROM idempotency_keys ORDER BY key")]


def account_context(api, account: str = "acme") -> Context:
    api.key(account)
    [(account_id,)] = sql(api, "SELECT id FROM accounts WHERE name = %s", [account])
    return Context(account_id=account_id, database=api.app.extensions["db"])


def assert_replay(first, again) -> None:
    assert again.status_code == first.status_code
    assert again.get_data() == first.get_data()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


# --- each write kind: a retry returns the first answer and acts once --------------------------


def test_a_retried_partner_upsert_returns_the_first_201_and_creates_one_contact(api):
    body = {"email": "ann@example.com", "name": "Ann Lee"}
    first = send(api, "POST", PARTNER, body)
    again = send(api, "POST", PARTNER, body)
    assert first.status_code == 201
    assert_replay(first, again)  # 201 again: acting twice would have answered 200
    assert send(api, "POST", PARTNER, body, key=None).status_code == 200
    assert sql(api, "SELECT count(*) FROM profiles") == [(1,)]


def test_a_retried_customer_create_creates_one_customer(api):
    body = {"name": "No Identifiers"}  # nothing to resolve by: each action creates a customer
    first = send(api, "POST", URL, body)
    again = send(api, "POST", URL, body)
    assert first.status_code == 201
    assert_replay(first, again)
    assert sql(api, "SELECT count(*) FROM profiles") == [(1,)]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_retried_update_does_not_undo_a_later_change(api, method):
    customer = create(api, {"email": "ann@example.com"})
    path = f"{URL}/{customer['id']}"
    first = send(api, method, path, {"notes": "first"})
    assert send(api, method, path, {"notes": "later"}, key=None).status_code == 200
    again = send(api, method, path, {"notes": "first"})
    assert_replay(first, again)
    assert again.get_json()["notes"] == "first"
    assert api.get(path).get_json()["notes"] == "later"


def test_a_retried_batch_does_not_undo_a_later_change(api):
    ann, bob = create(api, {"email": "ann@example.com"}), create(api, {"email": "bob@example.com"})
    batch = [{"customer": ann["id"], "notes": "paid"}, {"customer": bob["id"], "notes": "paid"}]
    first = send(api, "PUT", f"{URL}/batch", batch)
    assert first.status_code == 200, first.get_json()
    send(api, "PUT", f"{URL}/{ann['id']}", {"notes": "refunded"}, key=None)
    again = send(api, "PUT", f"{URL}/batch", batch)
    assert_replay(first, again)
    assert api.get(f"{URL}/{ann['id']}").get_json()["notes"] == "refunded"


def test_a_retried_tagging_does_not_undo_a_later_untagging(api):
    customer = create(api, {"email": "ann@example.com"})
    path = f"{URL}/{customer['id']}/tags"
    first = send(api, "PUT", path, {"tags": [{"name": "vip"}]})
    send(api, "DELETE", path, {"tags": [{"name": "vip"}]}, key=None)
    again = send(api, "PUT", path, {"tags": [{"name": "vip"}]})
    assert_replay(first, again)
    assert api.get(f"{URL}/{customer['id']}").get_json()["tags"] == []


def test_a_retried_untagging_does_not_undo_a_later_tagging(api):
    customer = create(api, {"email": "ann@example.com", "tags": [{"name": "vip"}]})
    path = f"{URL}/{customer['id']}/tags"
    first = send(api, "DELETE", path, {"tags": [{"name": "vip"}]})
    send(api, "PUT", path, {"tags": [{"name": "vip"}]}, key=None)
    again = send(api, "DELETE", path, {"tags": [{"name": "vip"}]})
    assert_replay(first, again)
    assert [t["name"] for t in api.get(f"{URL}/{customer['id']}").get_json()["tags"]] == ["vip"]


def test_a_retried_event_is_recorded_once(api):
    customer = create(api, {"email": "ann@example.com"})
    body = {"name": "Button Click", "data": {"button": "buy"}, "customer": customer["id"]}
    first = send(api, "POST", "/v1/events", body)
    again = send(api, "POST", "/v1/events", body)
    assert first.status_code == 200, first.get_json()
    assert_replay(first, again)
    assert sql(api, "SELECT count(*) FROM events") == [(1,)]


def test_a_retried_merge_merges_once_and_answers_200_again(api):
    ann, bob = create(api, {"email": "ann@example.com"}), create(api, {"email": "bob@example.com"})
    path = f"{URL}/{ann['id']}/merge"
    first = send(api, "POST", path, {"customers": [bob["id"]]})
    again = send(api, "POST", path, {"customers": [bob["id"]]})  # acting again: a 422
    assert first.status_code == 200, first.get_json()
    assert_replay(first, again)
    assert sql(api, "SELECT count(*) FROM merges") == [(1,)]


def test_a_retried_unmerge_unmerges_once_and_answers_200_again(api):
    ann, bob = create(api, {"email": "ann@example.com"}), create(api, {"email": "bob@example.com"})
    send(api, "POST", f"{URL}/{ann['id']}/merge", {"customers": [bob["id"]]}, key=None)
    path = f"{URL}/{ann['id']}/unmerge"
    first = send(api, "POST", path, {"customer": bob["id"]})
    again = send(api, "POST", path, {"customer": bob["id"]})  # acting again: not merged now
    assert first.status_code == 200, first.get_json()
    assert_replay(first, again)
    assert [r[0] for r in sql(api, "SELECT rule FROM merges ORDER BY created_at")] == [
        "manual",
        "unmerge",
    ]


def test_a_retried_erasure_answers_ok_again_instead_of_404(api):
    customer = create(api, {"email": "ann@example.com"})
    first = send(api, "DELETE", f"{URL}/{customer['id']}")
    again = send(api, "DELETE", f"{URL}/{customer['id']}")
    assert first.status_code == 200 and first.get_json() == "Ok"
    assert_replay(first, again)
    assert send(api, "DELETE", f"{URL}/{customer['id']}", key=None).status_code == 404


def test_a_retried_attribute_definition_answers_201_again_instead_of_409(api):
    body = {"name": "plan", "type": "string"}
    first = send(api, "POST", "/v1/custom-attributes", body)
    again = send(api, "POST", "/v1/custom-attributes", body)
    assert first.status_code == 201
    assert_replay(first, again)


def test_every_write_route_of_the_apis_checks_the_key(api):
    # Every POST/PUT/PATCH/DELETE of the authenticated blueprints, present and future.
    names = {blueprint.name for group in API_GROUPS.values() for blueprint in group}
    adapter = api.app.url_map.bind("localhost")
    checked = []
    for rule in api.app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] not in names:
            continue
        values = {
            name: uuid.uuid4() if isinstance(converter, UUIDConverter) else 1
            for name, converter in rule._converters.items()
        }
        for method in sorted(rule.methods & api_idempotency.WRITE_METHODS):
            path = adapter.build(rule.endpoint, values, method=method)
            response = send(api, method, path, {}, key="k" * 256)
            assert response.status_code == 422, (method, path, response.get_json())
            assert response.get_json()["errors"][1]["field"] == "Idempotency-Key", (method, path)
            checked.append((method, rule.rule))
    assert len(checked) >= 12, checked
    assert stored_keys(api) == []


# --- replays ----------------------------------------------------------------------------------


def test_a_replay_carries_the_first_status_body_and_content_type_and_the_retrys_own_headers(api):
    first = send(api, "POST", URL, {"name": "Ann"}, headers={"X-Request-Id": "first-call"})
    again = send(api, "POST", URL, {"name": "Ann"}, headers={"X-Request-Id": "the-retry"})
    assert_replay(first, again)
    assert again.headers["X-Request-Id"] == "the-retry"
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in (first, again)]
    assert remaining[1] == remaining[0] - 1  # a retry counts, with its own headers
    assert again.headers["Cache-Control"] == "no-store"


def test_a_client_error_of_the_write_is_replayed_too(api):
    first = send(api, "PUT", f"{URL}/999999", {"notes": "x"})
    again = send(api, "PUT", f"{URL}/999999", {"notes": "x"})
    assert first.status_code == 404
    assert_replay(first, again)


def test_reads_ignore_the_key(api):
    assert send(api, "GET", URL).status_code == 200
    assert "Idempotent-Replayed" not in send(api, "GET", URL).headers
    assert stored_keys(api) == []


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", URL, {"name": "Bob"}),  # another body
        ("POST", URL, {"name": "Ann "}),  # one character more
        ("PUT", URL + "/1", {"name": "Ann"}),  # another method and path
        ("POST", PARTNER, {"email": "ann@example.com"}),  # another API
    ],
)
def test_the_same_key_with_another_request_is_422_idempotency_key_reused(api, method, path, body):
    assert send(api, "POST", URL, {"name": "Ann"}).status_code == 201
    response = send(api, method, path, body)
    assert response.status_code == 422
    assert response.get_json()["errors"][1]["code"] == "idempotency_key_reused"
    assert sql(api, "SELECT count(*) FROM profiles") == [(1,)]


def test_the_same_key_with_another_query_is_422_idempotency_key_reused(api):
    ann, bob = create(api, {"email": "ann@example.com"}), create(api, {"email": "bob@example.com"})
    path = f"{URL}/{ann['id']}/merge"
    assert send(api, "POST", path + "?dryRun=true", {"customers": [bob["id"]]}).status_code == 200
    response = send(api, "POST", path, {"customers": [bob["id"]]})
    assert response.status_code == 422
    assert response.get_json()["errors"][1]["code"] == "idempotency_key_reused"
    assert sql(api, "SELECT count(*) FROM merges") == [(0,)]


def test_a_retry_while_the_first_is_running_is_409_idempotency_key_in_use(api):
    body = {"name": "Ann"}
    ctx = account_context(api)
    digest = idempotency.fingerprint("POST", URL, b"", json.dumps(body).encode())
    held = context.write(ctx, idempotency.claim, KEY, digest, idempotency.Policy())
    assert isinstance(held, idempotency.Claimed)  # the first request, still running

    response = send(api, "POST", URL, body)
    assert response.status_code == 409
    assert response.get_json()["errors"][1]["code"] == "idempotency_key_in_use"
    assert response.headers["Retry-After"] == "1"
    assert sql(api, "SELECT count(*) FROM profiles") == [(0,)]

    context.write(ctx, idempotency.release, held)  # the first one failed with a 5xx
    assert send(api, "POST", URL, body).status_code == 201  # the 409 was not stored


def test_a_claim_left_running_past_the_timeout_is_taken_over(api):
    body = {"name": "Ann"}
    ctx = account_context(api)
    digest = idempotency.fingerprint("POST", URL, b"", json.dumps(body).encode())
    dead = context.write(ctx, idempotency.claim, KEY, digest, idempotency.Policy())
    sql(api, "UPDATE idempotency_keys SET claimed_at = now() - interval '61 seconds'")

    first = send(api, "POST", URL, body)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    late = idempotency.Answer(500, {}, b"late")  # the dead worker's answer never lands
    assert context.write(ctx, idempotency.store, dead, late, [], []) is False
    assert_replay(first, send(api, "POST", URL, body))


# --- scope and lifetime -----------------------------------------------------------------------


def test_keys_are_per_account(api):
    acme = send(api, "POST", URL, {"name": "Ann"})
    globex = send(api, "POST", URL, {"name": "Ann"}, account="globex")
    assert acme.status_code == globex.status_code == 201
    assert "Idempotent-Replayed" not in globex.headers
    assert acme.get_json()["id"] != globex.get_json()["id"]
    assert stored_keys(api) == [KEY, KEY]


def test_an_expired_answer_is_not_replayed_and_the_write_acts_again(api):
    customer = create(api, {"email": "ann@example.com"})
    body = {"name": "Button Click", "customer": customer["id"]}
    assert send(api, "POST", "/v1/events", body).status_code == 200
    sql(api, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours',"
             " expires_at = now() - interval '1 hour'")  # fmt: skip
    again = send(api, "POST", "/v1/events", body)
    assert again.status_code == 200
    assert "Idempotent-Replayed" not in again.headers
    assert sql(api, "SELECT count(*) FROM events") == [(2,)]
    [(expires,)] = sql(api, "SELECT expires_at > now() + interval '23 hours' FROM idempotency_keys")
    assert expires  # the claim replaced the expired row


def test_an_expired_answer_may_be_replaced_by_another_request(api):
    assert send(api, "POST", URL, {"name": "Ann"}).status_code == 201
    sql(api, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    assert send(api, "POST", URL, {"name": "Bob"}).status_code == 201


def test_the_lifetime_and_the_takeover_bound_are_settings(api, make_app):
    other = make_app(IDEMPOTENCY_TTL_HOURS=1.5, IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS=3600)
    body = json.dumps({"name": "Ann"})
    headers = {"x-api-key": api.key(), "Idempotency-Key": KEY}
    client = other.test_client()
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 201
    [(seconds,)] = sql(api, "SELECT extract(epoch FROM expires_at - created_at)"
                            " FROM idempotency_keys")  # fmt: skip
    assert seconds == 5400

    ctx = account_context(api)
    digest = idempotency.fingerprint("POST", URL, b"", body.encode())
    context.write(ctx, idempotency.claim, "slow", digest, idempotency.Policy())
    sql(api, "UPDATE idempotency_keys SET claimed_at = now() - interval '61 seconds'")
    headers["Idempotency-Key"] = "slow"
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 409  # still within the hour the setting allows


def test_expired_answers_of_the_account_are_deleted_by_its_next_claim(api):
    for key in ("old-1", "old-2"):
        send(api, "POST", URL, {"name": key}, key=key)
    send(api, "POST", URL, {"name": "Ann"}, key="old-other-account", account="globex")
    sql(api, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    send(api, "POST", URL, {"name": "Ann"}, key="new")
    assert stored_keys(api) == ["new", "old-other-account"]


# --- erasure ----------------------------------------------------------------------------------


def test_erasure_deletes_the_stored_answers_about_the_person(api):
    ann, bob = create(api, {"email": "ann@example.com"}), create(api, {"email": "bob@example.com"})
    contact = send(api, "POST", PARTNER, {"email": "ann@example.com", "name": "Ann"}, key="p")
    assert contact.get_json()["id"] == ann["contactId"]
    send(api, "PUT", f"{URL}/{ann['id']}", {"notes": "private"}, key="put")
    send(api, "POST", "/v1/events", {"name": "Visit", "customer": ann["id"]}, key="event")
    send(api, "PUT", f"{URL}/{bob['id']}", {"notes": "bob's"}, key="bob")
    assert stored_keys(api) == ["bob", "event", "p", "put"]

    assert send(api, "DELETE", f"{URL}/{ann['id']}", key="erase").status_code == 200
    assert stored_keys(api) == ["bob", "erase"]

    retry = send(api, "PUT", f"{URL}/{ann['id']}", {"notes": "private"}, key="put")
    assert retry.status_code == 404  # acts again: the person is gone, nothing is replayed
    assert b"private" not in retry.get_data()


def test_erasure_deletes_the_answers_about_its_tombstones(api):
    ann, bob = create(api, {"email": "ann@example.com"}), create(api, {"email": "bob@example.com"})
    send(api, "PUT", f"{URL}/{bob['id']}", {"notes": "before the merge"}, key="bob")
    send(api, "POST", f"{URL}/{ann['id']}/merge", {"customers": [bob["id"]]}, key="merge")
    other = create(api, {"email": "carol@example.com"})
    send(api, "PUT", f"{URL}/{other['id']}", {"notes": "carol's"}, key="carol")

    send(api, "DELETE", f"{URL}/{bob['id']}", key=None)  # the tombstone's id erases Ann
    assert stored_keys(api) == ["carol"]


def test_an_answer_about_a_person_erased_meanwhile_is_not_stored(api):
    customer = create(api, {"email": "ann@example.com"})
    ctx = account_context(api)
    claimed = context.write(ctx, idempotency.claim, KEY, b"\x00" * 32, idempotency.Policy())
    context.write(ctx, customer_service.delete_customer, customer["id"])  # while it ran
    answer = idempotency.Answer(200, {"Content-Type": "application/json"}, b"{}")
    assert context.write(ctx, idempotency.store, claimed, answer, [customer["id"]], []) is False
    assert stored_keys(api) == []  # released: nothing about the person is kept


def waiting_on_locks(api) -> int:
    """Backends of the test database blocked on a lock (row locks included)."""
    return sql(
        api,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )[0][0]


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


@pytest.mark.alone
def test_a_store_racing_the_erasure_of_its_person_waits_for_it_and_stores_nothing(api):
    # The interleaving is forced: the erasure holds the person's row lock (uncommitted) while
    # the answer is stored; the store queues for that lock and finds the person gone.
    customer = create(api, {"email": "ann@example.com"})
    ctx = account_context(api)
    claimed = context.write(ctx, idempotency.claim, KEY, b"\x00" * 32, idempotency.Policy())
    answer = idempotency.Answer(200, {"Content-Type": "application/json"}, b"{}")
    results: list[bool] = []
    store = threading.Thread(
        target=lambda: results.append(
            context.write(ctx, idempotency.store, claimed, answer, [customer["id"]], [])
        )
    )
    with psycopg.connect(api.app.config["DATABASE_URL"]) as conn:
        with conn.transaction():
            customer_service.delete_customer(conn, ctx, customer["id"])
            store.start()
            wait_until(lambda: waiting_on_locks(api) == 1, "the store waits for the erasure")
    store.join(timeout=10)
    assert results == [False]
    assert stored_keys(api) == []


# --- answers that are not stored --------------------------------------------------------------


def test_a_5xx_is_not_stored_and_a_retry_acts(api, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    with monkeypatch.context() as patched:
        patched.setattr(customer_service, "create_customer", broken)
        assert send(api, "POST", URL, {"name": "Ann"}).status_code == 500
    assert stored_keys(api) == []
    again = send(api, "POST", URL, {"name": "Ann"})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers


def test_a_409_that_asks_for_a_retry_is_not_stored(api, monkeypatch):
    def racing(*args: Any, **kwargs: Any) -> Any:
        raise exceptions.Conflict("Concurrent writes kept conflicting; retry.")

    with monkeypatch.context() as patched:
        patched.setattr(customer_service, "create_customer", racing)
        assert send(api, "POST", URL, {"name": "Ann"}).status_code == 409
    assert send(api, "POST", URL, {"name": "Ann"}).status_code == 201


def test_a_429_is_not_stored(api, make_app):
    limited = make_app(RATE_LIMIT_CUSTOMERS_API="1 per minute").test_client()
    headers = {"x-api-key": api.key(), "Idempotency-Key": KEY}
    assert (
        limited.post(URL, json={"name": "Bob"}, headers={"x-api-key": api.key()}).status_code == 201
    )
    assert limited.post(URL, json={"name": "Ann"}, headers=headers).status_code == 429
    assert stored_keys(api) == []
    again = api.post(URL, json={"name": "Ann"}, headers=headers)  # another process, budget left
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers


def test_a_write_without_the_key_is_unaffected(api):
    customer = create(api, {"email": "ann@example.com"})
    body = {"name": "Button Click", "customer": customer["id"]}
    answers = [send(api, "POST", "/v1/events", body, key=None) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert all("Idempotent-Replayed" not in a.headers for a in answers)
    assert answers[0].get_json()["id"] != answers[1].get_json()["id"]
    assert sql(api, "SELECT count(*) FROM events") == [(2,)]
    assert stored_keys(api) == []


# --- the key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "k" * 256, "caf\u00e9", "tab\there", "del\x7f"])
def test_the_key_is_1_to_255_printable_ascii_characters(api, key):
    response = send(api, "POST", URL, {"name": "Ann"}, key=key)
    assert response.status_code == 422
    assert response.get_json()["errors"][1] == {
        "code": "invalid_field",
        "message": "Must be 1 to 255 printable ASCII characters.",
        "field": "Idempotency-Key",
    }
    assert sql(api, "SELECT count(*) FROM profiles") == [(0,)]


def test_a_key_of_255_printable_characters_is_accepted(api):
    key = ("a ~!" * 64)[:255]
    first = send(api, "POST", URL, {"name": "Ann"}, key=key)
    assert first.status_code == 201
    assert_replay(first, send(api, "POST", URL, {"name": "Ann"}, key=key))


# --- the spec ---------------------------------------------------------------------------------


def test_every_write_operation_declares_the_key_and_its_409_and_422(client):
    spec = client.get("/openapi.json").get_json()
    writes = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(writes) >= 12
    for path, method, operation in writes:
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
        assert {"409", "422"} <= set(operation["responses"]), (method, path)
        successes = [r for s, r in operation["responses"].items() if s.startswith("2")]
        assert all("Idempotent-Replayed" in r["headers"] for r in successes), (method, path)
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["in"], parameter["name"]) == ("header", "Idempotency-Key")
    assert parameter["schema"]["maxLength"] == 255
