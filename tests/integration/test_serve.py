"""`make serve` (``python -m app.serve``): the container's gunicorn and its settings file.

The real command against a fresh test database, with several workers: it migrates, warns once
that in-memory rate limits count per worker, serves, and on SIGTERM lets in-flight requests
finish before it exits 0 with no worker left behind. And ``deploy/gunicorn.conf.py`` itself:
its defaults, its one-line refusal of a malformed setting, its warning's conditions.
"""

from __future__ import annotations

import http.client
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from app import create_app, migrations
from tests.support import accounts
from tests.support.output import Lines
from tests.support.servers import free_port

# Timing matters here (signals, stalled uploads): run with the machine to itself.
pytestmark = pytest.mark.alone

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
BIN = Path(sys.executable).parent
DEADLINE = 60  # seconds, overall, for anything we wait on
GRACEFUL_TIMEOUT = 20  # GUNICORN_GRACEFUL_TIMEOUT of the server under test
WORKERS = 3
IN_FLIGHT = 3
PARTNER = "/api/v1/partner/contacts"
CUSTOMERS = "/v1/customers"
# Variables the tests set themselves, or whose absence they rely on.
OWN = (
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "RATELIMIT_STORAGE_URI",
    "PROMETHEUS_MULTIPROC_DIR",
    "METRICS_ENABLED",
    "GUNICORN_CMD_ARGS",
    *[name for name in os.environ if name.startswith("GUNICORN_")],
)


def environment(**settings: str) -> dict[str, str]:
    """This environment without the server settings of the machine, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if name not in OWN}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


@dataclass
class Served:
    """A running `python -m app.serve`: its process, output, port, database and pids."""

    process: subprocess.Popen[str]
    lines: Lines
    port: int
    database_url: str
    pids: list[int] = field(default_factory=list)  # gunicorn's master and workers


@pytest.fixture
def served(make_database: Any) -> Iterator[Served]:
    """``python -m app.serve`` on a fresh, unmigrated database, up with all its workers."""
    url = make_database("serve")
    port = free_port()
    env = environment(
        DATABASE_URL=url,
        PORT=str(port),
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_THREADS="2",
        GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
        # The in-flight uploads pause mid-body across the SIGTERM: on a loaded machine that
        # can outlast the default body read timeout (which has tests of its own).
        BODY_READ_TIMEOUT_SECONDS=str(GRACEFUL_TIMEOUT),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "app.serve"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process, Lines(process.stdout, DEADLINE), port, url)
    try:
        [master] = served.lines.wait_for(r"Listening at: (\S+) \((\d+)\)")
        assert master[1] == f"http://127.0.0.1:{port}"  # HOST defaults to 127.0.0.1
        served.pids.append(int(master[2]))
        booted = served.lines.wait_for(r"Booting worker with pid: (\d+)", WORKERS)
        served.pids += [int(m[1]) for m in booted]
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # passed on: gunicorn's quick shutdown
            try:
                process.wait(timeout=DEADLINE / 2)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait(timeout=DEADLINE)
        for pid in served.pids:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        served.lines.finish()
        process.stdout.close()


def api_key(database_url: str) -> str:
    app = create_app({"DATABASE_URL": database_url})
    try:
        with app.app_context():
            return accounts.create_account("serve")[1]
    finally:
        app.extensions["db"].close()


def call(port: int, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    """Status and JSON body of one request, on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        headers = {"x-api-key": key, "Content-Type": "application/json"}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def begin_upload(port: int, key: str, body: bytes) -> socket.socket:
    """A POST whose headers a worker has read: it answered ``100 Continue``. No body yet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    head = (
        f"POST {PARTNER} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    sock.sendall(head.encode())
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):  # byte by byte: the final answer comes later
        byte = sock.recv(1)
        assert byte, f"connection closed after {interim!r}"
        interim += byte
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    return sock


def finish_upload(sock: socket.socket) -> tuple[int, Any]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = json.loads(response.read())
    response.close()
    return response.status, body


@pytest.mark.xfail(
    strict=False,
    reason="open defect: in about one run in four, two of the three in-flight uploads are "
    "answered 408 (their body's rest, sent after SIGTERM, is not read for 20 s); reproduced "
    "at 2dabc79 and with gunicorn 26.2.0 too, cause not found yet",
)
def test_serve_migrates_warns_once_and_finishes_in_flight_requests_on_sigterm(served):
    with psycopg.connect(served.database_url) as conn:
        assert migrations.pending(conn) == []
    key = api_key(served.database_url)

    answers = []
    for i in range(2 * WORKERS):
        customer = {"email": f"served{i}@example.com", "name": f"Served {i}"}
        answers.append(call(served.port, "POST", PARTNER, key, customer)[0])
        answers.append(call(served.port, "GET", CUSTOMERS, key)[0])
    assert answers == [201, 200] * 2 * WORKERS

    # Uploads in flight: a worker has each one's headers and waits for its body.
    bodies = [json.dumps({"email": f"inflight{i}@example.com"}).encode() for i in range(IN_FLIGHT)]
    uploads = [begin_upload(served.port, key, body) for body in bodies]
    try:
        for sock, body in zip(uploads, bodies, strict=True):
            sock.sendall(body[:5])
        served.process.send_signal(signal.SIGTERM)
        served.lines.wait_for(r"\[INFO\] Handling signal: term")
        # The rest of each body arrives after gunicorn began its graceful stop.
        for sock, body in zip(uploads, bodies, strict=True):
            sock.sendall(body[5:])
        finished = [finish_upload(sock) for sock in uploads]
    finally:
        for sock in uploads:
            sock.close()

    assert [status for status, _ in finished] == [201] * IN_FLIGHT, finished
    assert served.process.wait(timeout=GRACEFUL_TIMEOUT + 10) == 0
    assert [pid for pid in served.pids if running(pid)] == []
    with psycopg.connect(served.database_url) as conn:
        profiles = conn.execute("SELECT count(*) FROM profiles").fetchone()
    assert profiles == (2 * WORKERS + IN_FLIGHT,)

    lines = served.lines.finish()
    warnings = [line for line in lines if "RATELIMIT_STORAGE_URI" in line]
    assert len(warnings) == 1, lines
    assert "[WARNING]" in warnings[0] and f"{WORKERS} workers" in warnings[0]


# --- the settings file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("launcher", "name", "value"),
    [
        ("serve", "WEB_CONCURRENCY", "three"),
        ("serve", "PORT", "http"),
        ("entrypoint", "WEB_CONCURRENCY", "2.5"),
        ("entrypoint", "GUNICORN_TIMEOUT", "-1"),
        ("gunicorn", "GUNICORN_THREADS", "0"),
    ],
)
def test_a_malformed_setting_stops_the_start_in_one_line(
    launcher, name, value, unreachable_database_url
):
    commands = {
        "serve": [sys.executable, "-m", "app.serve"],
        "entrypoint": [str(ENTRYPOINT)],
        "gunicorn": [str(BIN / "gunicorn"), "-c", str(CONF), "app:create_app()"],
    }
    env = environment(DATABASE_URL=unreachable_database_url, **{name: value})

    ran = subprocess.run(
        commands[launcher], cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE
    )

    assert ran.returncode == 64
    assert ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith(f"Environment variable {name}={value!r} is not valid: "), ran.stderr


def conf(monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, Any]:
    """The settings file's names, read in this environment without the machine's settings."""
    for name in OWN:
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_conf_defaults_fit_a_two_core_container(monkeypatch):
    settings = conf(monkeypatch)

    assert settings["bind"] == ["0.0.0.0:8000"]
    assert (settings["worker_class"], settings["workers"], settings["threads"]) == ("gthread", 2, 4)
    assert (settings["timeout"], settings["graceful_timeout"], settings["keepalive"]) == (30, 30, 5)
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (1000, 100)
    assert settings["preload_app"] is False
    assert settings["worker_tmp_dir"] == ("/dev/shm" if os.path.isdir("/dev/shm") else None)
    assert settings["accesslog"] is None  # the app writes the request lines (test_logs.py)
    assert settings["control_socket_disable"] is True


def test_conf_reads_its_settings_from_the_environment(monkeypatch, tmp_path):
    settings = conf(
        monkeypatch,
        HOST="::1",
        PORT="9001",
        WEB_CONCURRENCY="5",
        GUNICORN_THREADS="8",
        GUNICORN_TIMEOUT="0",
        GUNICORN_GRACEFUL_TIMEOUT="7",
        GUNICORN_KEEPALIVE="75",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_MAX_REQUESTS_JITTER="0",
        GUNICORN_WORKER_TMP_DIR=str(tmp_path),
    )

    assert settings["bind"] == ["[::1]:9001"]
    assert (settings["workers"], settings["threads"], settings["timeout"]) == (5, 8, 0)
    assert (settings["graceful_timeout"], settings["keepalive"]) == (7, 75)
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (0, 0)
    assert settings["worker_tmp_dir"] == str(tmp_path)


class Recorder:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: Any) -> None:
        self.warnings.append(message % args)


@pytest.mark.parametrize(
    ("storage", "workers", "warned"),
    [
        (None, 3, True),
        ("memory://", 2, True),
        (None, 1, False),
        ("redis://redis.internal:6379/0", 3, False),
    ],
)
def test_conf_warns_of_per_worker_rate_limits_only_with_memory_and_workers(
    monkeypatch, tmp_path, storage, workers, warned
):
    settings = conf(monkeypatch, **({} if storage is None else {"RATELIMIT_STORAGE_URI": storage}))
    # on_starting points the metrics at a folder; a set one is kept, and set here through
    # monkeypatch it is undone after the test, never leaking into later tests of this process
    # (their scrapes would read that folder instead of their own registry).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    log = Recorder()

    settings["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=workers), log=log))

    assert len(log.warnings) == (1 if warned else 0)
    if warned:
        assert "RATELIMIT_STORAGE_URI" in log.warnings[0]
        assert f"{workers} workers" in log.warnings[0]


def test_only_the_master_removes_the_metrics_folder_it_made(monkeypatch, tmp_path):
    """Workers inherit the master's atexit handlers when forked: a worker leaving first must
    not take the metrics folder from the workers still finishing requests (it did: their next
    count failed with FileNotFoundError and a committed write was answered 500)."""
    remove_in = conf(monkeypatch)["_remove_in"]
    folder = tmp_path / "metrics"
    folder.mkdir()
    remove_in(os.getpid() + 1, str(folder))  # run in a worker (another pid than the master's)
    assert folder.is_dir()
    remove_in(os.getpid(), str(folder))  # run in the master
    assert not folder.exists()


def test_a_metrics_failure_never_fails_the_request(make_app, monkeypatch):
    from app import metrics

    def broken(*args, **kwargs):
        raise FileNotFoundError("the multiprocess folder is gone")

    app = make_app()
    monkeypatch.setattr(metrics.REQUESTS, "labels", broken)
    assert app.test_client().get("/healthz").status_code == 200
