"""The image's start steps, run here without a container engine: deploy/entrypoint.sh and the
Dockerfile that wires it up."""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import shutil
import signal
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
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
DOCKERFILE = ROOT / "Dockerfile"
DEADLINE = 60  # seconds, overall, for anything we wait on


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


@contextlib.contextmanager
def entrypoint(command: list[str], cwd: Path, env: dict[str, str], log: Path
               ) -> Iterator[subprocess.Popen]:  # fmt: skip
    """The entrypoint running, its output in ``log``; it and its workers killed at the end."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so no worker outlives the test
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=DEADLINE)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_ready(process: subprocess.Popen, base: str, log: Path) -> None:
    """Until /readyz answers 200 (migrations applied, database reachable)."""
    deadline = time.monotonic() + DEADLINE
    while (status := get_status(f"{base}/readyz")) != 200:
        assert process.poll() is None, f"the entrypoint exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, (
            f"/readyz never answered 200 (last {status}):\n{log.read_text()}"
        )
        time.sleep(0.1)


@pytest.fixture
def started(make_database: Any, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str, str]]:
    url = make_database("container_start")
    port = free_port()
    # XDG_RUNTIME_DIR: gunicorn's control socket goes there, not into the shared home directory.
    env = start_env(
        DATABASE_URL=url, PORT=str(port), WEB_CONCURRENCY="1", XDG_RUNTIME_DIR=str(tmp_path)
    )
    with entrypoint([str(ENTRYPOINT)], ROOT, env, tmp_path / "out.log") as process:
        yield process, url, f"http://127.0.0.1:{port}"


def test_entrypoint_migrates_then_serves_until_sigterm(started, tmp_path):
    process, url, base = started
    wait_until_ready(process, base, tmp_path / "out.log")

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


def test_dockerfile_puts_the_gunicorn_conf_beside_the_entrypoint():
    placed = copied()
    conf = placed["deploy/gunicorn.conf.py"]
    assert posixpath.dirname(conf) == posixpath.dirname(placed["deploy/entrypoint.sh"])


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, per build stage."""
    found: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            found.append([])
        found[-1].append((word, rest))
    return found


def test_dockerfile_builds_wheels_then_installs_only_them_in_a_slim_runtime():
    build, runtime = stages()
    base = build[0][1].split()[0]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    assert runtime[0] == ("FROM", base)  # the same pinned base, without the build stage
    assert ("RUN", BUILD_WHEELS) in build
    runtime_text = " ".join(rest for _, rest in runtime)
    assert "--from=build /wheels /wheels" in runtime_text
    assert INSTALL_WHEELS in runtime_text
    # No compilers or build tools in the runtime, and no source tree: the app is the wheel.
    for tool in ("apt-get", "gcc", "build-essential", "COPY app", "COPY pyproject"):
        assert tool not in " ".join(f"{w} {r}" for w, r in runtime), tool


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".data", "tests"} <= ignored
    assert not {"app", "deploy", "pyproject.toml", "README.md"} & ignored


# The two steps of the image, as the Dockerfile spells them (checked above).
BUILD_WHEELS = "pip wheel --wheel-dir /wheels ."
INSTALL_WHEELS = "pip install --no-index /wheels/*.whl"


def test_the_images_steps_in_a_fresh_virtual_environment_serve_a_request(
    make_database: Any, tmp_path: Path
):
    """What the image does, without a container engine: the build stage's wheels, installed
    offline into a fresh virtual environment (no checkout on its path), then the entrypoint
    run from a folder holding only deploy/, as /srv in the image, and a request through it."""
    wheels, venv, srv = tmp_path / "wheels", tmp_path / "venv", tmp_path / "srv"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = subprocess.run([*pip, "wheel", "--quiet", "--wheel-dir", str(wheels), "."],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert built.returncode == 0, built.stderr
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=DEADLINE)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
         *map(str, sorted(wheels.glob("*.whl")))],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    (srv / "deploy").mkdir(parents=True)
    for name in ("entrypoint.sh", "gunicorn.conf.py"):
        shutil.copy2(ROOT / "deploy" / name, srv / "deploy" / name)

    url, port = make_database("image_steps"), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"]), DATABASE_URL=url,
               PORT=str(port), WEB_CONCURRENCY="1", XDG_RUNTIME_DIR=str(tmp_path))  # fmt: skip
    command, log = [str(srv / "deploy" / "entrypoint.sh")], tmp_path / "out.log"
    with entrypoint(command, srv, env, log) as server:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(server, base, log)
        created = subprocess.run(
            [str(venv / "bin" / "flask"), "--app", "app", "accounts", "create", "acme"],
            cwd=srv, env=env, capture_output=True, text=True, timeout=DEADLINE,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        key = created.stdout.splitlines()[-1]
        request = urllib.request.Request(
            f"{base}/api/v1/partner/contacts", method="POST",
            data=json.dumps({"email": "image@example.com", "name": "Ima Ge"}).encode(),
            headers={"x-api-key": key, "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            assert response.status == 201
            assert json.loads(response.read())["email"] == "image@example.com"
        # The server ran the installed package, not the checkout.
        where = [str(venv / "bin" / "python"), "-c", "import app; print(app.__file__)"]
        shown = subprocess.run(where, cwd=srv, env=env, capture_output=True, text=True,
                               timeout=DEADLINE)  # fmt: skip
        assert shown.stdout.startswith(str(venv)), shown.stdout
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=DEADLINE) == 0
