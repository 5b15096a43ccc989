"""`flask --app app ...` with no DATABASE_URL uses the checkout's embedded PostgreSQL.

Run as real subprocesses, as a user would: the command starts the cluster when nothing serves
it (and stops it again), and shares it when `make run` already started it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.embedded_pg import EmbeddedPostgres

FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def embedded_dir(tmp_path: Path):
    folder = tmp_path / "data"
    yield folder
    EmbeddedPostgres(folder).remove()  # as root, its cluster lives outside tmp_path


def flask(embedded_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["EMBEDDED_PG_DIR"] = str(embedded_dir)
    return subprocess.run(
        [FLASK, "--app", "app", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_without_database_url_starts_the_embedded_database_and_stops_it(embedded_dir):
    created = flask(embedded_dir, "accounts", "create", "acme")
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines()[-1].startswith("ck_")
    assert EmbeddedPostgres(embedded_dir).dsn() is None  # stopped again: this command started it


def test_cli_without_database_url_shares_the_database_make_run_started(embedded_dir):
    server = EmbeddedPostgres(embedded_dir)  # what `make run` does first
    server.ensure_running()
    key = flask(embedded_dir, "accounts", "create", "acme").stdout.splitlines()[-1]
    listed = flask(embedded_dir, "keys", "list", "acme")
    assert listed.returncode == 0, listed.stderr
    assert key[:11] in listed.stdout
    assert server.dsn() is not None  # still serving: the commands did not stop it
