"""Real servers against slow, oversized and privacy-sensitive requests, over raw sockets.

Both servers the service runs on: werkzeug's threaded server with the dev server's request
handler (what ``make run`` serves with) and gunicorn's gthread workers (what the container
runs). A stalled upload must hold no pooled connection and end in a 408; a chunked body above
``MAX_BODY_BYTES`` is a 413 with nothing written. (What they log: test_logs.py.)
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from werkzeug.serving import make_server

from app import create_app, devserver
from tests.support import accounts
from tests.support.servers import free_port, process

# Timing matters here (signals, stalled uploads): run with the machine to itself.
pytestmark = pytest.mark.alone

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEADLINE = 60  # seconds, overall, for anything we wait on
POOL_SIZE = 2
STALLED = POOL_SIZE + 3
BODY_TIMEOUT = 5.0
LIMIT = 1000
SETTINGS = {
    "DB_POOL_MAX_SIZE": POOL_SIZE,
    # A request that found the pool held would wait this long, then answer 503.
    "DB_POOL_TIMEOUT": 2.0,
    "BODY_READ_TIMEOUT_SECONDS": BODY_TIMEOUT,
    "MAX_BODY_BYTES": LIMIT,
}
PARTNER = "/api/v1/partner/contacts"
CUSTOMERS = "/v1/customers"
BODY_READ = "test_slow_clients: body read started"


# --- an app that says when a request starts reading its body --------------------------------


class ReportsBodyReads:
    """WSGI middleware calling ``report()`` when a request first reads its body.

    By then the request has been authenticated: every stall the tests cause happens in the
    body read, where no pooled connection may be held.
    """

    def __init__(self, app: Any, report: Callable[[], None]) -> None:
        self.app = app
        self.report = report

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["wsgi.input"] = _Reporting(environ["wsgi.input"], self.report)
        return self.app(environ, start_response)


class _Reporting:
    def __init__(self, stream: Any, report: Callable[[], None]) -> None:
        self._stream = stream
        self._report: Callable[[], None] | None = report

    def read(self, *args: Any) -> bytes:
        if self._report is not None:
            report, self._report = self._report, None
            report()
        return self._stream.read(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _report_on_stderr() -> None:
    # One write(2) per line: threads reporting at once must not interleave their lines.
    os.write(2, f"{BODY_READ}\n".encode())


def instrumented_app() -> ReportsBodyReads:
    """The app gunicorn serves in these tests: settings from the environment, reports on stderr."""
    return ReportsBodyReads(create_app(), _report_on_stderr)


# --- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A server under test: its port, and a wait for requests that started reading bodies."""

    port: int
    # Returns once ``n`` requests (in all) have started reading their bodies.
    wait_for_body_reads: Callable[[int], None]


@contextmanager
def werkzeug_server(database_url: str) -> Iterator[Server]:
    """What ``make run`` serves with: werkzeug's threaded server and the dev request handler."""
    app = create_app({"DATABASE_URL": database_url, **SETTINGS})
    started = threading.Semaphore(0)
    handler = devserver.request_handler(BODY_TIMEOUT)
    wrapped = ReportsBodyReads(app, started.release)
    httpd = make_server("127.0.0.1", 0, wrapped, threaded=True, request_handler=handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def wait_for_body_reads(n: int) -> None:
        for i in range(n):
            assert started.acquire(timeout=DEADLINE), f"{i} of {n} requests read their bodies"

    try:
        yield Server(httpd.server_port, wait_for_body_reads)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=DEADLINE)
        app.extensions["db"].close()


@contextmanager
def gunicorn_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """gunicorn's gthread worker, with threads to spare: the pool is what is under test."""
    port = free_port()
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    args += ["--threads", str(STALLED + 3), "--no-control-socket"]
    args += ["tests.integration.test_slow_clients:instrumented_app()"]
    settings = {name: str(value) for name, value in SETTINGS.items()}
    with process(args, tmp_path, DATABASE_URL=database_url, **settings) as (lines, _):
        lines.containing("Listening at: ")

        def wait_for_body_reads(n: int) -> None:
            lines.containing(BODY_READ, n)

        yield Server(port, wait_for_body_reads)


@pytest.fixture(params=["werkzeug", "gunicorn"])
def server(request: pytest.FixtureRequest, clean_db: str, tmp_path: Path) -> Iterator[Server]:
    if request.param == "werkzeug":
        with werkzeug_server(clean_db) as started:
            yield started
    else:
        with gunicorn_server(clean_db, tmp_path) as started:
            yield started


@pytest.fixture
def keys(clean_db: str) -> dict[str, str]:
    """API keys of two accounts: ``slow`` stalls its uploads, ``busy`` keeps working."""
    app = create_app({"DATABASE_URL": clean_db})
    try:
        with app.app_context():
            return {name: accounts.create_account(name)[1] for name in ("slow", "busy")}
    finally:
        app.extensions["db"].close()


# --- HTTP over sockets ------------------------------------------------------------------------


def stall(port: int, key: str) -> socket.socket:
    """An upload that promises 100 bytes, sends 9 and then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=BODY_TIMEOUT + DEADLINE)
    head = (
        f"POST {PARTNER} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"email":')
    return sock


def read_response(sock: socket.socket) -> tuple[http.client.HTTPResponse, Any]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = json.loads(response.read())
    response.close()
    return response, body


def assert_closed_by_server(socks: list[socket.socket]) -> None:
    """The server closes every one of these connections; ours are closed as each one is.

    In any order: gunicorn closes connections one at a time in its main thread, each lingering
    until the client closes its side too.
    """
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        while selector.get_map():
            ready = selector.select(timeout=DEADLINE)
            assert ready, "the server kept connections open after answering"
            for key, _ in ready:
                sock = key.fileobj
                try:
                    assert sock.recv(1) == b"", "more bytes after the response"
                except ConnectionResetError:
                    pass
                selector.unregister(sock)
                sock.close()


def call(
    port: int,
    method: str,
    path: str,
    key: str,
    body: Any = None,
    *,
    chunks: list[bytes] | None = None,
) -> tuple[int, Any]:
    """Status and JSON body of one request; ``chunks`` are sent chunked (no Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        headers = {"x-api-key": key, "Content-Type": "application/json"}
        if chunks is not None:
            conn.request(method, path, body=iter(chunks), headers=headers, encode_chunked=True)
        else:
            data = None if body is None else json.dumps(body)
            conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def padded(document: dict[str, Any], size: int) -> bytes:
    """``document`` as JSON of exactly ``size`` bytes (trailing whitespace is valid JSON)."""
    data = json.dumps(document).encode()
    return data + b" " * (size - len(data))


# --- slow uploads -----------------------------------------------------------------------------


def test_stalled_uploads_hold_no_connection_and_end_in_408(server, keys):
    stalled = [stall(server.port, keys["slow"]) for _ in range(STALLED)]
    try:
        # Every stalled upload is authenticated and now waits for body bytes that never come.
        server.wait_for_body_reads(STALLED)

        # Another account works as usual meanwhile. Had the stalled uploads kept the pool's
        # POOL_SIZE connections, these would wait DB_POOL_TIMEOUT and answer 503.
        answers = []
        for i in range(3):
            customer = {"email": f"busy{i}@example.com"}
            answers.append(call(server.port, "POST", CUSTOMERS, keys["busy"], customer))
            answers.append(call(server.port, "GET", CUSTOMERS, keys["busy"]))
            answers.append(call(server.port, "POST", PARTNER, keys["busy"], customer))
        assert [status for status, _ in answers] == [201, 200, 200] * 3, answers

        # After BODY_READ_TIMEOUT_SECONDS each stalled upload is a 408, and its socket closed.
        for sock in stalled:
            response, body = read_response(sock)
            assert response.status == 408, body
            assert [entry["code"] for entry in body["errors"]] == [
                "invalid_request",
                "request_timeout",
            ]
        assert_closed_by_server(stalled)
    finally:
        for sock in stalled:
            sock.close()

    # Nothing the stalled uploads sent was written.
    status, found = call(server.port, "GET", CUSTOMERS, keys["slow"])
    assert (status, found["total"]) == (200, 0)


# --- chunked bodies ---------------------------------------------------------------------------


def test_chunked_body_above_the_limit_is_413_and_writes_nothing(server, keys):
    # Its first LIMIT bytes are a valid document on their own: cut there, it would be a 201.
    first = padded({"email": "cut@example.com"}, LIMIT)
    status, body = call(
        server.port, "POST", CUSTOMERS, keys["busy"], chunks=[first, b'"past the limit"']
    )
    assert status == 413, body
    assert body["errors"][1]["code"] == "payload_too_large"

    status, found = call(server.port, "GET", CUSTOMERS, keys["busy"])
    assert (status, found["total"]) == (200, 0)


@pytest.mark.parametrize("size", [LIMIT - 1, LIMIT])
def test_chunked_body_up_to_the_limit_is_read_whole(server, keys, size):
    whole = padded({"email": "whole@example.com", "name": "Whole"}, size)
    chunks = [whole[:100], whole[100:]]  # the document spans chunks

    status, body = call(server.port, "POST", CUSTOMERS, keys["busy"], chunks=chunks)

    assert status == 201, body
    assert (body["email"], body["name"]) == ("whole@example.com", "Whole")
