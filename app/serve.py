"""``make serve``: the container's gunicorn, run outside a container.

The same steps as ``deploy/entrypoint.sh``: check the gunicorn settings, apply migrations, then
``gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'``, here as a child process. With no
DATABASE_URL the embedded PostgreSQL under ``.data/`` is started (or reused) as ``make run``
does, handed to the workers as DATABASE_URL, and stopped at the end if this process started it.
HOST defaults to 127.0.0.1 (the container's default is 0.0.0.0). SIGTERM and SIGINT are passed
on to gunicorn: SIGTERM lets in-flight requests finish, SIGINT (Ctrl-C) stops at once. The exit
status is gunicorn's.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from app import db, embedded_pg, migrations

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "gunicorn.conf.py"
APP = "app:create_app()"


class Interrupted(Exception):
    """SIGTERM or SIGINT before gunicorn started: stop without serving."""


class Signals:
    """Pass SIGTERM/SIGINT on to gunicorn once it runs; until then, interrupt the start."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.launching = False
        self.pending: list[int] = []

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.child is not None:
            self.child.send_signal(signum)
        elif self.launching:  # between fork and the assignment of child: deliver it after
            self.pending.append(signum)
        else:
            raise Interrupted

    def launch(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.launching = True
        self.child = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
        for signum in self.pending:
            self.child.send_signal(signum)
        return self.child


def upgrade(url: str) -> None:
    """What ``flask --app app db upgrade`` does and prints."""
    with db.connect(url) as conn:
        for migration in migrations.upgrade(conn):
            print(f"applied {migration.version}_{migration.name}", flush=True)
    print(f"database is up to date ({len(migrations.available())} migrations)", flush=True)


def exit_status(returncode: int) -> int:
    """A shell's view of a child's end: 128 + N for a child killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def main() -> int:
    if not os.environ.get("HOST", "").strip():
        os.environ["HOST"] = "127.0.0.1"  # the container's default (in the conf) is 0.0.0.0
    if not CONF.is_file():
        print(f"{CONF} is missing: run `make serve` from a checkout.", file=sys.stderr)
        return 1
    runpy.run_path(str(CONF))  # a malformed setting: one line and SystemExit, before anything

    signals = Signals()
    signal.signal(signal.SIGTERM, signals.handle)
    signal.signal(signal.SIGINT, signals.handle)
    env = dict(os.environ)
    url = env.get("DATABASE_URL", "").strip()
    described = "DATABASE_URL"
    server = None
    try:
        if not url:
            data_dir = Path(env.get("EMBEDDED_PG_DIR") or db.DEFAULT_EMBEDDED_DIR)
            server = embedded_pg.EmbeddedPostgres(data_dir)
            described = f"embedded PostgreSQL in {data_dir}"
            try:
                url = server.ensure_running()
            except embedded_pg.EmbeddedUnavailable as exc:
                print(exc, file=sys.stderr)
                return 1
            env["DATABASE_URL"] = url  # for the workers
        print(f"Database: {described}", flush=True)
        upgrade(url)
        args = [sys.executable, "-m", "gunicorn", "-c", str(CONF), APP]
        print(f"Running: gunicorn -c {os.path.relpath(CONF, ROOT)} '{APP}'", flush=True)
        return exit_status(signals.launch(args, env).wait())
    except Interrupted:
        return 0
    finally:
        # A second Ctrl-C (the terminal signals make, us and gunicorn alike) must not abort this.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if signals.child is not None and signals.child.poll() is None:
            signals.child.kill()  # only if this process itself failed while gunicorn ran
            signals.child.wait()
        if server is not None and server.started_here:
            print("Stopping the embedded PostgreSQL...", flush=True)
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
