"""The image's start steps, run here without a container engine: deploy/entrypoint.sh and the
Dockerfile that wires it up."""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app import migrations

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
DOCKERFILE = ROOT / "Dockerfile"
DEADLINE = 60  # seconds, overall, for anything we wait on


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_env(**overrides: str) -> dict[str, str]:
    """This environment with the venv's flask and gunicorn first on PATH, as in the image."""
    env = {**os.environ, **overrides}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def get_status(url: str) -> int | None:
    """The HTTP status, or ``None`` while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except OSError:
        return None


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def copied() -> dict[str, str]:
    """Where the Dockerfile's COPY instructions put each source in the image."""
    placed = {}
    workdir = "/"
    for word, rest in instructions():
        if word == "WORKDIR":
            workdir = posixpath.join(workdir, rest)
        elif word == "COPY":
            *sources, dest = rest.split()
            dest = posixpath.join(workdir, dest)
            for source in sources:
                into = dest.endswith("/") or len(sources) > 1
                path = posixpath.join(dest, posixpath.basename(source)) if into else dest
                placed[source] = posixpath.normpath(path)
    return placed


def last(instruction: str) -> str:
    found = [rest for word, rest in instructions() if word == instruction]
    assert found, f"no {instruction} in the Dockerfile"
    return found[-1]


@pytest.fixture
def started(make_database: Any, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str, str]]:
    url = make_database("container_start")
    port = free_port()
    # XDG_RUNTIME_DIR: gunicorn's control socket goes there, not into the shared home directory.
    env = start_env(
        DATABASE_URL=url, PORT=str(port), WEB_CONCURRENCY="1", XDG_RUNTIME_DIR=str(tmp_path)
    )
    with (tmp_path / "out.log").open("w") as out:
        process = subprocess.Popen(
            [str(ENTRYPOINT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so no worker outlives the test
        )
    try:
        yield process, url, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=DEADLINE)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_entrypoint_migrates_then_serves_until_sigterm(started, tmp_path):
    process, url, base = started
    deadline = time.monotonic() + DEADLINE
    while (status := get_status(f"{base}/readyz")) != 200:
        log = (tmp_path / "out.log").read_text()
        assert process.poll() is None, f"the entrypoint exited early:\n{log}"
        assert time.monotonic() < deadline, f"/readyz never answered 200 (last {status}):\n{log}"
        time.sleep(0.1)

    with psycopg.connect(url) as conn:
        assert migrations.pending(conn) == []
    assert get_status(f"{base}/healthz") == 200

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=DEADLINE) == 0


def test_entrypoint_without_database_url_names_it_and_fails():
    env = start_env()
    env.pop("DATABASE_URL", None)

    ran = subprocess.run(
        [str(ENTRYPOINT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE
    )

    assert ran.returncode != 0
    assert "DATABASE_URL" in ran.stderr
    assert ran.stdout == ""


def test_entrypoint_is_executable():
    # The image runs it directly (exec-form ENTRYPOINT), so the mode must survive the COPY.
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")


def test_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"
    ran = subprocess.run(
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=DEADLINE
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_dockerfile_runs_as_a_non_root_user():
    user = last("USER").split(":")[0]
    assert user not in ("", "root", "0")


def test_dockerfile_healthcheck_hits_healthz():
    healthcheck = last("HEALTHCHECK")
    assert "CMD" in healthcheck
    assert "/healthz" in healthcheck


def test_dockerfile_entrypoint_is_the_entrypoint_script():
    target = json.loads(last("ENTRYPOINT"))
    assert len(target) == 1
    assert copied()["deploy/entrypoint.sh"] == target[0]


def test_dockerfile_puts_the_gunicorn_conf_beside_the_entrypoint_and_the_app():
    # The entrypoint runs gunicorn -c with the file beside it; `python -m app.serve` looks for
    # deploy/gunicorn.conf.py beside the app package, as in a checkout.
    placed = copied()
    conf = placed["deploy/gunicorn.conf.py"]
    assert posixpath.dirname(conf) == posixpath.dirname(placed["deploy/entrypoint.sh"])
    assert conf == posixpath.join(posixpath.dirname(placed["app"]), "deploy", "gunicorn.conf.py")
