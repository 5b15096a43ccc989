"""Where the embedded PostgreSQL's binaries and folders come from.

The binaries come from the pgserver wheel (or a system install). PostgreSQL refuses to run as
root, so root runs it as the system user ``pgembed``, which must reach the binaries and the
cluster: it cannot inside a private folder (a checkout in ``mktemp -d`` or root's home,
pytest's per-user temp folder). So, as root, everything the server reads or writes lives in a
folder this module creates and owns, ROOT_HOME: a copy of the install tree per distinct build,
and one cluster folder per data_dir. No other folder's permissions are changed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

SYSTEM_USER = "pgembed"
# Created and owned by root (mode 0755); only used when running as root.
ROOT_HOME = Path("/var/lib/contact-ingest-pg")
_TOOLS = ("initdb", "pg_ctl", "postgres")
# What initdb and postgres read from a relocatable install (headers are left out).
_INSTALL_PARTS = ("bin", "lib", "share")


class EmbeddedUnavailable(RuntimeError):
    """The embedded server cannot be used; the message tells the user what to do instead."""


def has_tools(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / tool, os.X_OK) for tool in _TOOLS)


def version_key(bin_dir: Path) -> tuple[int, ...]:
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
    candidates += sorted(debian, key=version_key, reverse=True)
    for bin_dir in candidates:
        if has_tools(bin_dir):
            return bin_dir
    raise EmbeddedUnavailable(
        "No PostgreSQL binaries found (pgserver is not installed and initdb/pg_ctl are not on "
        "PATH): set DATABASE_URL to a PostgreSQL server."
    )


def system_user() -> pwd.struct_passwd | None:
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


@contextlib.contextmanager
def flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # not inherited
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


# --- As root: the launcher's own folder ---------------------------------------------------------


def own_dir(path: Path, mode: int = 0o755) -> Path:
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


def launcher_home(home: Path) -> Path:
    """ROOT_HOME, checked to be safe from other users: its parents are root's and not open."""
    for parent in reversed(home.parents):
        st = os.stat(parent)
        if st.st_uid != 0 or (st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX):
            raise EmbeddedUnavailable(
                f"{parent} is not owned by root or may be changed by anyone, so {home} would not "
                "be safe there: set DATABASE_URL to a PostgreSQL server."
            )
    try:
        own_dir(home)
    except FileNotFoundError:
        raise EmbeddedUnavailable(
            f"Cannot create {home} ({home.parent} is missing): set DATABASE_URL to a PostgreSQL "
            "server."
        ) from None
    own_dir(home / "install")
    own_dir(home / "clusters")
    return home


def replace_symlink(link: Path, target: Path | str) -> None:
    scratch = link.with_name(f".{link.name}.{secrets.token_hex(4)}")
    os.symlink(target, scratch)
    os.replace(scratch, link)


def install_layout(bin_dir: Path) -> tuple[Path, list[str]] | None:
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


def tree(anchor: Path, parts: list[str]) -> tuple[list[str], list[tuple[str, os.stat_result]]]:
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


def installed_copy(bin_dir: Path, home: Path, user: pwd.struct_passwd) -> Path:
    """bin_dir's install copied once into home, where the server user can always reach it.

    Copies are named by a hash of their content, so every checkout's venv with the same build
    shares one; a small alias per source tree (by paths, sizes and mtimes) skips the hashing on
    later starts. A copy is built aside, tried as the server user, and renamed into place under
    home's lock.
    """
    layout = install_layout(bin_dir)
    if layout is None:
        return bin_dir
    anchor, parts = layout
    rel_bin = os.path.relpath(bin_dir, anchor)
    installs = home / "install"
    dirs, files = tree(anchor, parts)
    shape = [str(anchor)] + [(rel, st.st_size, st.st_mtime_ns, st.st_mode) for rel, st in files]
    alias = installs / f"seen-{hashlib.sha256(repr(shape).encode()).hexdigest()[:24]}"
    with contextlib.suppress(OSError):
        copy = installs / os.readlink(alias)
        if has_tools(copy / rel_bin):
            return copy / rel_bin
    with flock(home / ".lock"):
        digest = hashlib.sha256()
        for rel, st in files:
            digest.update(f"{rel}\0{bool(st.st_mode & 0o111)}\0".encode())
            with open(anchor / rel, "rb") as source:
                digest.update(hashlib.file_digest(source, "sha256").digest())
        name = f"pg-{digest.hexdigest()[:24]}"
        copy = installs / name
        if not has_tools(copy / rel_bin):
            for leftover in installs.glob(".new-*"):  # a copy interrupted earlier
                shutil.rmtree(leftover, ignore_errors=True)
            staging = installs / f".new-{secrets.token_hex(4)}"
            for rel in ["", *dirs]:
                os.makedirs(staging / rel, exist_ok=True)
                os.chmod(staging / rel, 0o755)  # explicitly: root's umask may be 077
            for rel, st in files:
                shutil.copyfile(anchor / rel, staging / rel)
                os.chmod(staging / rel, 0o755 if st.st_mode & 0o111 else 0o644)
            try_tools(staging / rel_bin, user)
            shutil.rmtree(copy, ignore_errors=True)  # an incomplete copy someone damaged
            os.rename(staging, copy)
            log.info("Copied the PostgreSQL install in %s to %s", anchor, copy)
        replace_symlink(alias, name)
    return copy / rel_bin


def try_tools(bin_dir: Path, user: pwd.struct_passwd) -> None:
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


def claimed(cluster: Path) -> bool:
    """A cluster is in use while the data_dir it was made for still links to it."""
    try:
        owner = Path((cluster / "owner").read_text())
        return os.readlink(owner / "pgdata") == str(cluster / "pgdata")
    except OSError:
        return False


def discard(path: Path) -> None:
    """Rename out of the way first, so a half-deleted cluster never looks like one."""
    if not path.name.startswith(".trash-"):
        trash = path.with_name(f".trash-{path.name}-{secrets.token_hex(4)}")
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return
        path = trash
    shutil.rmtree(path, ignore_errors=True)
