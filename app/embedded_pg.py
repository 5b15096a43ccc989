"""A real PostgreSQL cluster in a local directory, for running without DATABASE_URL.

The binaries come from the pgserver wheel (or a system install), but we drive initdb/pg_ctl
ourselves: pgserver's own start timeout is a fixed 10 s, which is flaky on small loaded machines.

PostgreSQL refuses to run as root, so root runs it as the system user ``pgembed``. That user
must reach the binaries and the cluster, which it cannot inside a private folder (a checkout in
``mktemp -d`` or root's home, pytest's per-user temp folder). So, as root, everything the server
reads or writes lives in a folder this launcher creates and owns, ROOT_HOME: a copy of the
install tree per distinct build, and one cluster per data_dir. data_dir keeps the lock and two
symlinks, ``pgdata`` and ``postgres.log``, that say which cluster is its own. No other folder's
permissions are changed. As a normal user the cluster lives in data_dir itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import math
import os
import pwd
import secrets
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
# Created and owned by root (mode 0755); only used when running as root.
ROOT_HOME = Path("/var/lib/contact-ingest-pg")
_TOOLS = ("initdb", "pg_ctl", "postgres")
# What initdb and postgres read from a relocatable install (headers are left out).
_INSTALL_PARTS = ("bin", "lib", "share")


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


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # not inherited
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


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


# --- As root: the launcher's own folder ---------------------------------------------------------


def _own_dir(path: Path, mode: int = 0o755) -> Path:
    """Create path as root's, or accept it only as a real directory of root's; fix its mode."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, mode)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0:
        raise EmbeddedUnavailable(
            f"{path} is not a directory owned by root, so the embedded PostgreSQL cannot keep its "
            "files there: remove it, or set DATABASE_URL to a PostgreSQL server."
        )
    if stat.S_IMODE(st.st_mode) != mode:  # ours, so repaired (a umask may also have narrowed it)
        os.chmod(path, mode)
    return path


def _launcher_home(home: Path) -> Path:
    """ROOT_HOME, checked to be safe from other users: its parents are root's and not open."""
    for parent in reversed(home.parents):
        st = os.stat(parent)
        if st.st_uid != 0 or (st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX):
            raise EmbeddedUnavailable(
                f"{parent} is not owned by root or may be changed by anyone, so {home} would not "
                "be safe there: set DATABASE_URL to a PostgreSQL server."
            )
    try:
        _own_dir(home)
    except FileNotFoundError:
        raise EmbeddedUnavailable(
            f"Cannot create {home} ({home.parent} is missing): set DATABASE_URL to a PostgreSQL "
            "server."
        ) from None
    _own_dir(home / "install")
    _own_dir(home / "clusters")
    return home


def _replace_symlink(link: Path, target: Path | str) -> None:
    scratch = link.with_name(f".{link.name}.{secrets.token_hex(4)}")
    os.symlink(target, scratch)
    os.replace(scratch, link)


def _install_layout(bin_dir: Path) -> tuple[Path, list[str]] | None:
    """The folder to mirror and its parts to copy, or None for an install used where it is.

    A prefix holds bin, lib and share, which find each other by relative paths. pgserver's
    wheel (repaired by auditwheel) also loads bundled libraries from ``pgserver.libs`` beside
    the package, through an ``$ORIGIN/../../../pgserver.libs`` rpath, so that is mirrored too.
    """
    prefix = bin_dir.parent
    if not all((prefix / part).is_dir() for part in _INSTALL_PARTS):
        # A distribution's split layout (Debian's /usr/lib/postgresql/N + /usr/share/...) is not
        # relocatable; it lives in system folders that everyone may traverse.
        return None
    package = prefix.parent
    bundled = package.parent / f"{package.name}.libs"
    anchor = package.parent if bundled.is_dir() else package
    parts = [os.path.relpath(prefix / part, anchor) for part in _INSTALL_PARTS]
    return anchor, parts + ([bundled.name] if bundled.is_dir() else [])


def _tree(anchor: Path, parts: list[str]) -> tuple[list[str], list[tuple[str, os.stat_result]]]:
    """Directories (with the ones leading to each part) and regular files, symlinks followed."""
    dirs: set[str] = set()
    files: list[tuple[str, os.stat_result]] = []
    for part in parts:
        for root, subdirs, names in os.walk(anchor / part):
            subdirs.sort()
            rel = Path(os.path.relpath(root, anchor))
            dirs.update(str(d) for d in [rel, *rel.parents] if str(d) != ".")
            for name in sorted(names):
                st = os.stat(os.path.join(root, name))
                if stat.S_ISREG(st.st_mode):
                    files.append((str(rel / name), st))
    return sorted(dirs), files


def _installed_copy(bin_dir: Path, home: Path, user: pwd.struct_passwd) -> Path:
    """bin_dir's install copied once into home, where the server user can always reach it.

    Copies are named by a hash of their content, so every checkout's venv with the same build
    shares one; a small alias per source tree (by paths, sizes and mtimes) skips the hashing on
    later starts. A copy is built aside, tried as the server user, and renamed into place under
    home's lock.
    """
    layout = _install_layout(bin_dir)
    if layout is None:
        return bin_dir
    anchor, parts = layout
    rel_bin = os.path.relpath(bin_dir, anchor)
    installs = home / "install"
    dirs, files = _tree(anchor, parts)
    shape = [str(anchor)] + [(rel, st.st_size, st.st_mtime_ns, st.st_mode) for rel, st in files]
    alias = installs / f"seen-{hashlib.sha256(repr(shape).encode()).hexdigest()[:24]}"
    with contextlib.suppress(OSError):
        copy = installs / os.readlink(alias)
        if _has_tools(copy / rel_bin):
            return copy / rel_bin
    with _flock(home / ".lock"):
        digest = hashlib.sha256()
        for rel, st in files:
            digest.update(f"{rel}\0{bool(st.st_mode & 0o111)}\0".encode())
            with open(anchor / rel, "rb") as source:
                digest.update(hashlib.file_digest(source, "sha256").digest())
        name = f"pg-{digest.hexdigest()[:24]}"
        copy = installs / name
        if not _has_tools(copy / rel_bin):
            for leftover in installs.glob(".new-*"):  # a copy interrupted earlier
                shutil.rmtree(leftover, ignore_errors=True)
            staging = installs / f".new-{secrets.token_hex(4)}"
            for rel in ["", *dirs]:
                os.makedirs(staging / rel, exist_ok=True)
                os.chmod(staging / rel, 0o755)  # explicitly: root's umask may be 077
            for rel, st in files:
                shutil.copyfile(anchor / rel, staging / rel)
                os.chmod(staging / rel, 0o755 if st.st_mode & 0o111 else 0o644)
            _try_tools(staging / rel_bin, user)
            shutil.rmtree(copy, ignore_errors=True)  # an incomplete copy someone damaged
            os.rename(staging, copy)
            log.info("Copied the PostgreSQL install in %s to %s", anchor, copy)
        _replace_symlink(alias, name)
    return copy / rel_bin


def _try_tools(bin_dir: Path, user: pwd.struct_passwd) -> None:
    """Fail with a clear message if the copied tools cannot run (e.g. a library left behind)."""
    for tool in _TOOLS:
        done = subprocess.run(
            [str(bin_dir / tool), "--version"],
            cwd=bin_dir,
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise EmbeddedUnavailable(
                f"The PostgreSQL binaries copied to {bin_dir} do not run as {SYSTEM_USER} "
                f"({tool}: {done.stderr.strip() or done.returncode}): run as a normal user or "
                "set DATABASE_URL to a PostgreSQL server."
            )


def _claimed(cluster: Path) -> bool:
    """A cluster is in use while the data_dir it was made for still links to it."""
    try:
        owner = Path((cluster / "owner").read_text())
        return os.readlink(owner / "pgdata") == str(cluster / "pgdata")
    except OSError:
        return False


def _discard(path: Path) -> None:
    """Rename out of the way first, so a half-deleted cluster never looks like one."""
    if not path.name.startswith(".trash-"):
        trash = path.with_name(f".trash-{path.name}-{secrets.token_hex(4)}")
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return
        path = trash
    shutil.rmtree(path, ignore_errors=True)


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
        self.home = ROOT_HOME
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
            self._run(args, "stop PostgreSQL", _system_user())
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
                with _flock(self.home / ".lock"):
                    if self._running_port() is None:
                        _discard(self.cluster_dir)

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
        with _flock(self.lockfile):
            yield

    def _bin_dir(self) -> Path:
        """Binaries the server user can run: as root, a copy in the launcher's folder."""
        if self.cluster_dir is None:
            return find_bin_dir()
        user = _system_user()
        assert user is not None  # cluster_dir is set for root only
        return _installed_copy(find_bin_dir(), _launcher_home(self.home), user)

    def _pg_ctl(self) -> Path:
        """As root, the one the cluster last started with, so stopping needs no install."""
        if self.cluster_dir is not None and _has_tools(self.cluster_dir / "bin"):
            return self.cluster_dir / "bin" / "pg_ctl"
        return self._bin_dir() / "pg_ctl"

    def _start(self) -> int:
        user = _system_user()
        bin_dir = self._bin_dir()
        if user is not None:
            self._claim_cluster(user)
            _replace_symlink(self.pgdata.with_name("bin"), bin_dir)
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
            raise EmbeddedUnavailable(self._failure("start PostgreSQL", "not listening"))
        elapsed = time.monotonic() - began
        log.info("Started PostgreSQL in %s on port %d (%.1fs)", self.pgdata, port, elapsed)
        return port

    def _claim_cluster(self, user: pwd.struct_passwd) -> None:
        """Make cluster_dir data_dir's own, under the launcher's lock (which the collector of
        unclaimed clusters also takes), and give the server user what it writes."""
        assert self.cluster_dir is not None
        cluster, link = self.cluster_dir, self.data_dir / "pgdata"
        with _flock(self.home / ".lock"):
            if cluster.exists() and not _claimed(cluster):
                _discard(cluster)  # made for an earlier data_dir at this path, since removed
            if not cluster.exists() and not self._adopt_moved(link, cluster):
                _own_dir(cluster)
            if link.is_dir() and not link.is_symlink():
                self._adopt_legacy(link)
            (cluster / "owner").write_text(os.path.realpath(self.data_dir))
            _replace_symlink(link, self.pgdata)
            _replace_symlink(self.data_dir / "postgres.log", self.logfile)
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
        if _claimed(previous) or _postmaster_port(previous / "pgdata") is not None:
            return False  # e.g. data_dir was copied, and the original still uses it
        os.rename(previous, cluster)
        log.info("Moved the cluster %s to %s", previous, cluster)
        return True

    def _adopt_legacy(self, legacy: Path) -> None:
        """Move a cluster an earlier version kept in data_dir itself into cluster_dir."""
        if _postmaster_port(legacy) is not None:
            raise EmbeddedUnavailable(
                f"A PostgreSQL started by an earlier version of this launcher serves {legacy}: "
                f"stop it (`pg_ctl -D {legacy} stop` as {SYSTEM_USER}) and retry."
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
                not _claimed(entry) and _postmaster_port(entry / "pgdata") is None
            ):
                log.info("Removing %s, a cluster no data_dir uses any more", entry)
                _discard(entry)

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
