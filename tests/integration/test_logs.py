"""What the servers log: one JSON line per request, application lines in the same shape, each
with its request id, and never an API key, email, phone number or name.

Both servers the project starts: `make run`'s dev server and the container's gunicorn (its
entrypoint). A run through the main flows with personal data in bodies, queries and a wrong
key, then the whole output is searched for them.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import signal
from typing import Any

import pytest

from app import create_app, logs
from tests.support import accounts
from tests.support.servers import BIN, DEADLINE, ROOT, free_port, process

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
EMAIL, PHONE, NAME = "dagny.taggart@example.net", "+1 415 555 0142", "Dagny Taggart"
OTHER_EMAIL, OTHER_NAME = "hank.rearden@example.org", "Hank Rearden"
USER_ID = "crm-7Q2"
WRONG_KEY = "ck_live_not-a-real-key-0123456789"
FIELDS = {"time", "level", "logger", "message", "request_id", "pid", *logs.REQUEST_FIELDS}


def call(port: int, method: str, path: str, key: str, body: Any = None) -> tuple[int, str, Any]:
    """Status, X-Request-Id and JSON body of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        headers = {"x-api-key": key, "Content-Type": "application/json"}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, response.headers["X-Request-Id"], json.loads(data or b"null")
    finally:
        conn.close()


def flows(port: int, key: str) -> dict[str, tuple[str, int, str]]:
    """The main flows, personal data everywhere: each one's method, status and request id."""
    seen: dict[str, tuple[str, int, str]] = {}

    def note(name: str, method: str, path: str, used: str = key, body: Any = None) -> Any:
        status, request_id, answer = call(port, method, path, used, body)
        seen[name] = (method, status, request_id)
        return answer

    contact = {"email": EMAIL, "name": NAME, "external_id": USER_ID}
    note("upsert", "POST", "/api/v1/partner/contacts", body=contact)
    created = note("create", "POST", "/v1/customers", body={"email": OTHER_EMAIL,
                                                           "name": OTHER_NAME})  # fmt: skip
    note("read", "GET", f"/v1/customers/{created['id']}")
    note("list", "GET", f"/v1/customers?email={EMAIL}")
    by_email = {"field": "customers.email", "operator": "=", "value": EMAIL}
    note("search", "POST", "/v1/customers/search", body={"filter": [by_email]})
    note("batch", "PUT", "/v1/customers/batch",
         body=[{"customer": created["id"], "name": OTHER_NAME, "phone": PHONE}])  # fmt: skip
    note("invalid", "POST", "/v1/customers", body={"email": f"not-an-email {NAME}"})
    note("wrong key", "GET", f"/v1/customers?email={EMAIL}", used=WRONG_KEY)
    note("unknown", "GET", f"/v1/nowhere/{EMAIL}")
    return seen


def request_lines(lines: list[str]) -> dict[str, dict[str, Any]]:
    """The JSON request lines of the output, by request id."""
    found = {}
    for line in lines:
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("logger") == "app.access":
                found[record["request_id"]] = record
    return found


@pytest.fixture
def key(clean_db: str) -> str:
    app = create_app({"DATABASE_URL": clean_db})
    try:
        with app.app_context():
            return accounts.create_account("acme")[1]
    finally:
        app.extensions["db"].close()


SERVERS = {
    "make run": ([str(BIN / "python"), "-m", "app.devserver"], "Running on http://", {}),
    "container": ([str(ENTRYPOINT)], "Listening at: ", {"WEB_CONCURRENCY": "1"}),
}


@pytest.mark.parametrize("server", SERVERS, ids=SERVERS.keys())
def test_one_json_line_per_request_and_no_personal_data(server, clean_db, key, tmp_path):
    args, ready, env = SERVERS[server]
    port = free_port()
    with process(args, tmp_path, DATABASE_URL=clean_db, PORT=str(port), **env) as (out, proc):
        out.containing(ready)
        seen = flows(port, key)
        out.wait_for(r'"logger": ?"app.access"', len(seen))
        proc.send_signal(signal.SIGINT if server == "make run" else signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE) == 0
    lines = out.finish()

    logged = request_lines(lines)
    statuses = {name: status for name, (_, status, _) in seen.items()}
    assert statuses == {"upsert": 201, "create": 201, "read": 200, "list": 200, "search": 200,
                        "batch": 200, "invalid": 422, "wrong key": 401, "unknown": 404}  # fmt: skip
    for name, (method, status, request_id) in seen.items():
        record = logged[request_id]  # every request has its line, under the id it was answered
        assert FIELDS <= set(record), (name, record)
        assert (record["method"], record["status"]) == (method, status)
        assert record["level"] == "INFO" and isinstance(record["latency_ms"], float)
        assert record["time"].endswith("+00:00")
    route = {name: logged[rid]["route"] for name, (_, _, rid) in seen.items()}
    assert route["read"] == "/v1/customers/<int:customer_id>"
    assert route["list"] == route["create"] == "/v1/customers"
    assert route["unknown"] is None  # no route: the template is unknown, the path not logged
    accounts_seen = {logged[rid]["account"] for _, _, rid in seen.values()}
    assert len(accounts_seen - {None}) == 1  # the account's public id, never its key
    assert logged[seen["wrong key"][2]]["account"] is None
    assert logged[seen["upsert"][2]]["bytes"] > 0

    whole = "\n".join(lines)
    for secret in (key, WRONG_KEY, EMAIL, OTHER_EMAIL, NAME, OTHER_NAME, "Dagny", "Taggart",
                   "dagny", PHONE, "4155550142", "555 0142", USER_ID):  # fmt: skip
        assert secret not in whole, secret


def test_text_format_is_one_readable_line_per_request(clean_db, key, tmp_path):
    port = free_port()
    args = [str(BIN / "python"), "-m", "app.devserver"]
    env = {"DATABASE_URL": clean_db, "PORT": str(port), "LOG_FORMAT": "text"}
    with process(args, tmp_path, **env) as (out, proc):
        out.containing("Running on http://")
        status, request_id, _ = call(port, "GET", f"/v1/customers?email={EMAIL}", key)
        [line] = out.containing(f"[{request_id}]")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=DEADLINE) == 0
    assert status == 200
    assert line.split(" ", 2)[2] == f"INFO app.access [{request_id}] GET /v1/customers 200"
    assert not any(line.startswith("{") for line in out.finish())


def test_application_lines_carry_the_request_id_in_the_same_shape(clean_db):
    app = create_app({"DATABASE_URL": clean_db})
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.formatter("json"))
    log = logging.getLogger("app.somewhere")
    log.addHandler(handler)
    try:
        with app.test_request_context(headers={"X-Request-Id": "gw-1234"}):
            app.preprocess_request()
            log.warning("database unavailable: %s", "connection refused")
        log.warning("outside any request")
    finally:
        log.removeHandler(handler)
        app.extensions["db"].close()
    inside, outside = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert inside["request_id"] == "gw-1234" and inside["level"] == "WARNING"
    assert inside["message"] == "database unavailable: connection refused"
    assert inside["logger"] == "app.somewhere" and "time" in inside
    assert outside["request_id"] is None


def test_a_log_line_is_written_for_every_app_and_test_client_request(api, caplog):
    caplog.set_level(logging.INFO, logger="app.access")
    response = api.get("/v1/customers")
    [record] = [r for r in caplog.records if r.name == "app.access"]
    assert record.request_id == response.headers["X-Request-Id"]
    assert (record.route, record.status, record.method) == ("/v1/customers", 200, "GET")
