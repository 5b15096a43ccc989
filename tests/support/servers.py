"""Server processes under test: a free port, and a process whose output is read as lines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.support.output import Lines

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEADLINE = 60  # seconds, overall, for anything we wait on


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(args: list[str], tmp_path: Path, **env: str) -> Iterator[tuple[Lines, Any]]:
    """A server process, its stdout and stderr read as ``Lines``; killed at the end."""
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_RUNTIME_DIR": str(tmp_path), **env}
    environ["PATH"] = os.pathsep.join([str(BIN), environ.get("PATH", "")])
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: workers included in the kill below
    )
    lines = Lines(proc.stdout, DEADLINE)
    try:
        yield lines, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # gunicorn: quick shutdown, workers included
            try:
                proc.wait(timeout=DEADLINE / 2)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.wait(timeout=DEADLINE)
        # A gthread worker can miss the quick shutdown (gunicorn 27 deadlocks when SIGINT lands
        # while its main thread is inside ThreadPoolExecutor.submit) and outlive its master,
        # holding the output pipe open: nothing of the group may survive the test.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        lines.join()
        proc.stdout.close()
