"""A real PostgreSQL cluster in a local directory, for running without DATABASE_URL.

The binaries come from the pgserver wheel (or a system install), but we drive initdb/pg_ctl
ourselves: pgserver's own start timeout is a fixed 10 s, which is flaky on small loaded machines.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import math
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

SYSTEM_USER = "pgembed"
_TOOLS = ("initdb", "pg_ctl", "postgres")


class EmbeddedUnavailable(RuntimeError):
    """The embedded server cannot be used; the message tells the user what to do instead."""


def _has_tools(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / tool, os.X_OK) for tool in _TOOLS)


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in bin_dir.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_bin_dir() -> Path:
    """Prefer the pgserver wheel so that a plain `pip install` is enough on a fresh machine."""
    candidates: list[Path] = []
    with contextlib.suppress(ImportError, ValueError):
        # find_spec locates the package without importing it (its import has side effects).
        spec = importlib.util.find_spec("pgserver")
        if spec is not None and spec.submodule_search_locations:
            candidates += [Path(p) / "pginstall" / "bin" for p in spec.submodule_search_locations]
    initdb = shutil.which("initdb")
    if initdb:
        # PATH often holds symlinks to only some tools (e.g. /usr/local/bin without postgres).
        candidates += [Path(initdb).resolve().parent, Path(initdb).parent]
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=_version_key, reverse=True)
    for bin_dir in candidates:
        if _has_tools(bin_dir):
            return bin_dir
    raise EmbeddedUnavailable(
        "No PostgreSQL binaries found (pgserver is not installed and initdb/pg_ctl are not on "
        "PATH): set DATABASE_URL to a PostgreSQL server."
    )


def _system_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root, so root runs it as a dedicated unprivileged user."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SYSTEM_USER)
    args = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER]
    try:
        # A concurrent creation makes useradd fail; the lookup below is what counts.
        subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("useradd %s failed: %s", SYSTEM_USER, exc)
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise EmbeddedUnavailable(
            f"Running as root and could not create the OS user {SYSTEM_USER!r} to run PostgreSQL "
            "as: run as a normal user or set DATABASE_URL to a PostgreSQL server."
        ) from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedPostgres:
    """A cluster under data_dir that any process of the project may start, reuse or stop."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        database: str = "contacts",
        start_timeout: float = 60.0,
        durable: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.pgdata = self.data_dir / "pgdata"
        self.logfile = self.data_dir / "postgres.log"
        self.lockfile = self.data_dir / ".lock"
        self.database = database
        self.start_timeout = start_timeout
        self.durable = durable
        # Sticky until stop(), so an owner knows it should stop what it started.
        self.started_here = False

    def dsn(self) -> str | None:
        """Read-only check usable without the lock, e.g. to reuse a server `make run` started."""
        port = self._running_port()
        return None if port is None else self._dsn(port, self.database)

    def ensure_running(self) -> str:
        """Serialised by a file lock so concurrent processes never both initdb or start."""
        with self._locked():
            port = self._running_port()
            if port is None:
                port = self._start()
                self.started_here = True
            self._create_database(port)
        return self._dsn(port, self.database)

    def stop(self) -> None:
        """Fast shutdown: clients are disconnected, but data is checkpointed and kept."""
        if not self.pgdata.is_dir():
            return
        with self._locked():
            if self._running_port() is None:
                return
            args = [str(find_bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w"]
            args += ["-t", str(self._pg_timeout()), "stop"]
            self._run(args, "stop PostgreSQL", _system_user())
        self.started_here = False

    @staticmethod
    def _dsn(port: int, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{quote(database, safe='')}"

    def _pg_timeout(self) -> int:
        return max(1, math.ceil(self.start_timeout))

    def _running_port(self) -> int | None:
        """Trust a live PID plus a listening port, so a stale pid file after a crash is ignored."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if pid <= 0:  # kill(0 or negative) would signal whole process groups
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, just owned by another user
        # We deliberately do not trust a "ready" status line alone: after a crash or container
        # restart the old PID is often reused by an unrelated process.
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return port
        except OSError:
            return None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lockfile, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _start(self) -> int:
        bin_dir = find_bin_dir()
        user = _system_user()
        self.logfile.touch()
        if user is not None:
            self._hand_over(user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(bin_dir, user)
        port = _free_port()
        opts = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        args = [str(bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.logfile), "-w"]
        args += ["-t", str(self._pg_timeout()), "-o", opts, "start"]
        began = time.monotonic()
        self._run(args, "start PostgreSQL", user)
        if self._running_port() != port:
            raise EmbeddedUnavailable(self._failure("start PostgreSQL", "not listening"))
        elapsed = time.monotonic() - began
        log.info("Started PostgreSQL in %s on port %d (%.1fs)", self.pgdata, port, elapsed)
        return port

    def _hand_over(self, user: pwd.struct_passwd) -> None:
        """Let the unprivileged server user own data_dir and reach it through its parents."""
        for root, dirs, files in os.walk(self.data_dir):
            for path in [root, *(os.path.join(root, name) for name in dirs + files)]:
                if os.lstat(path).st_uid != user.pw_uid:
                    os.lchown(path, user.pw_uid, user.pw_gid)
        # Same as pgserver does: make each parent directory traversable by others (o+x).
        for parent in self.data_dir.parents:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    def _initdb(self, bin_dir: Path, user: pwd.struct_passwd | None) -> None:
        """Build in a scratch dir and rename, so a killed initdb never looks like a cluster."""
        scratch = self.data_dir / "pgdata.initdb"
        shutil.rmtree(scratch, ignore_errors=True)
        args = [str(bin_dir / "initdb"), "-D", str(scratch), "-U", "postgres", "--auth=trust"]
        args += ["--encoding=UTF8", "--locale=C"] + ([] if self.durable else ["--no-sync"])
        began = time.monotonic()
        self._run(args, "initialise the PostgreSQL cluster", user)
        scratch.rename(self.pgdata)
        log.info("Initialised %s (%.1fs)", self.pgdata, time.monotonic() - began)

    def _run(self, args: list[str], what: str, user: pwd.struct_passwd | None) -> None:
        """Run in data_dir (root's cwd may be unreadable to the server user) without PG* vars."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        kwargs: dict[str, Any] = {"cwd": self.data_dir, "env": env, "stdin": subprocess.DEVNULL}
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        # Output goes to the log file, never a pipe: the postmaster could inherit it and hang us.
        with self.logfile.open("ab") as out:
            kwargs.update(stdout=out, stderr=subprocess.STDOUT)
            try:
                code: int | str = subprocess.run(
                    args, timeout=self.start_timeout + 30, **kwargs
                ).returncode
            except subprocess.TimeoutExpired:
                code = "timed out"
        if code != 0:
            raise EmbeddedUnavailable(self._failure(what, f"exit status {code}"))

    def _failure(self, what: str, reason: str) -> str:
        try:
            tail = "\n".join(self.logfile.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            tail = "(no log)"
        return f"Could not {what} in {self.data_dir} ({reason}); end of {self.logfile}:\n{tail}"

    def _create_database(self, port: int) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            self._dsn(port, "postgres"), autocommit=True, connect_timeout=10
        ) as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, (self.database,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
                log.info("Created database %s", self.database)
