"""`make run` (``python -m app.devserver``): a banner whose curl line works as pasted."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app import devserver
from tests.support.output import Lines
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60  # seconds, overall, for anything we wait on
BASE = "http://127.0.0.1:8123"
KEY = "ck_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"


def wait_for_port(port: int, process: subprocess.Popen, deadline: float) -> None:
    while True:
        assert process.poll() is None, "the dev server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing answered on port {port}"
            time.sleep(0.05)


@pytest.fixture
def server(clean_db: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, Lines, int]]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": clean_db, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    env.pop("HOST", None)
    with (tmp_path / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.devserver"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines = Lines(process.stdout, DEADLINE)
    try:
        yield process, lines, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=DEADLINE)
        lines.join()
        process.stdout.close()


@pytest.mark.alone  # a server under a signal
def test_make_run_banner_curl_line_creates_a_contact_and_ctrl_c_stops(server, clean_db):
    process, lines, port = server
    deadline = time.monotonic() + DEADLINE
    base = f"http://127.0.0.1:{port}"

    banner = lines.until("Docs:")

    key_lines = [line.strip() for line in banner if line.startswith("  ck_")]
    assert len(key_lines) == 1, banner
    key = key_lines[0]
    assert banner[-1].startswith(f"Docs: {base}/docs")
    curl = next(line for line in banner if line.startswith("curl"))
    assert key in curl

    wait_for_port(port, process, deadline)
    ran = subprocess.run(
        ["bash", "-c", curl], capture_output=True, text=True, timeout=DEADLINE, check=False
    )
    assert ran.returncode == 0, ran.stderr
    contact = json.loads(ran.stdout)
    assert contact["id"] and contact["email"] == "alex.johnson@example.com"
    with psycopg.connect(clean_db) as conn:
        assert conn.execute("SELECT count(*) FROM profiles").fetchone() == (1,)

    with urllib.request.urlopen(f"{base}/docs", timeout=DEADLINE) as docs:
        assert docs.status == 200

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=DEADLINE) == 0


def test_banner_shows_the_key_alone_on_its_own_indented_line():
    lines = devserver.banner(BASE, KEY, "DATABASE_URL").splitlines()

    with_key = [line for line in lines if KEY in line]
    assert len(with_key) == 2
    assert f"  {KEY}" in with_key
    assert [line for line in with_key if line != f"  {KEY}"][0].startswith("curl")


def test_banner_first_curl_line_posts_a_contact_with_the_key_inline():
    lines = devserver.banner(BASE, KEY, "DATABASE_URL").splitlines()

    curl = next(line for line in lines if line.startswith("curl"))
    args = shlex.split(curl)
    assert f"{BASE}/api/v1/partner/contacts" in args
    assert args[args.index("-X") + 1] == "POST"
    assert f"x-api-key: {KEY}" in args
    assert "Content-Type: application/json" in args
    body = json.loads(args[args.index("-d") + 1])
    assert body["email"] == "alex.johnson@example.com"


def test_banner_names_the_docs_url_and_the_database():
    lines = devserver.banner(BASE, KEY, "embedded PostgreSQL in /somewhere").splitlines()

    assert f"Docs: {BASE}/docs   (OpenAPI: {BASE}/openapi.json)" in lines
    assert "Database: embedded PostgreSQL in /somewhere" in lines
