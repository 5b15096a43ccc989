"""Real initdb/pg_ctl runs: the embedded server is what `make run` and `make test` stand on."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from app import pg_install
from app.embedded_pg import EmbeddedPostgres, EmbeddedUnavailable, find_bin_dir

# Run in separate processes to prove that the file lock serialises concurrent starts. The module
# is loaded by path so the child does not import the whole app package. Arguments: data_dir,
# the module's path, then optionally the launcher's folder and "stop" instead of starting.
# The checkout, put first on the path of the child processes below.
CHECKOUT = Path(__file__).resolve().parents[2]
_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from app import embedded_pg, pg_install
if len(sys.argv) > 3 and sys.argv[3]:
    pg_install.ROOT_HOME = Path(sys.argv[3])
pg = embedded_pg.EmbeddedPostgres(sys.argv[1], durable=False)
if sys.argv[4:] == ["stop"]:
    pg.stop()
    dsn = None
else:
    dsn = pg.ensure_running()
print(json.dumps({"dsn": dsn, "started_here": pg.started_here, "pgdata": str(pg.pgdata)}))
"""

root_only = pytest.mark.skipif(
    os.geteuid() != 0, reason="only root runs PostgreSQL as pgembed from the launcher's folder"
)


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "pg", durable=False)
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def fresh_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A launcher's folder that does not exist yet (as on a fresh machine), deleted afterwards."""
    home = Path("/var/tmp") / f"contact-ingest-pg-test-{secrets.token_hex(4)}"
    monkeypatch.setattr(pg_install, "ROOT_HOME", home)
    try:
        yield home
    finally:
        for pidfile in home.glob("clusters/*/pgdata/postmaster.pid"):  # a test failed midway
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGQUIT)
        time.sleep(0.2 if home.exists() else 0)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def make_pg() -> Iterator[Callable[[Path], EmbeddedPostgres]]:
    """Throwaway servers, removed (stopped and deleted) at the end."""
    made: list[EmbeddedPostgres] = []

    def make(data_dir: Path) -> EmbeddedPostgres:
        made.append(EmbeddedPostgres(data_dir, durable=False))
        return made[-1]

    yield make
    for server in made:
        server.remove()


@pytest.fixture
def make_private() -> Iterator[Callable[[], Path]]:
    """Folders of mode 0700, as `mktemp -d` makes them (and as root's home folder is)."""
    made: list[Path] = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="contacts-private-")))
        assert stat.S_IMODE(made[-1].stat().st_mode) == 0o700
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def _modes(*trees: Path, also: tuple[Path, ...] = ()) -> dict[str, int]:
    """Modes of every folder in the trees, of the folders in also, and of all their parents."""
    paths = [Path(root) for tree in trees for root, _, _ in os.walk(tree)]
    paths += [parent for path in (*trees, *also) for parent in (path, *path.parents)]
    return {str(path): stat.S_IMODE(os.stat(path).st_mode) for path in paths}


def _changed(before: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The folders of before whose mode is not the same any more."""
    after = {path: stat.S_IMODE(os.stat(path).st_mode) for path in before}
    return {path: (before[path], after[path]) for path in before if before[path] != after[path]}


def _start_in_children(home: Path, *data_dirs: Path) -> list[dict[str, object]]:
    """Start the clusters of data_dirs at once, each from its own process (as two `make test`)."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(data_dir), str(CHECKOUT), str(home)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for data_dir in data_dirs
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=180)
        assert child.returncode == 0
        results.append(json.loads(out))
    return results


def _server_executable(pg: EmbeddedPostgres) -> str:
    pid = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
    return os.readlink(f"/proc/{pid}/exe")


def _fetch(dsn: str, query: str) -> tuple[object, ...] | None:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchone()


def _write_stale_pid_file(pg: EmbeddedPostgres, pid: int, port: int) -> None:
    """Mimic what a crashed postmaster leaves behind, owned like the rest of the cluster."""
    pidfile = pg.pgdata / "postmaster.pid"
    lines = [str(pid), str(pg.pgdata), "1700000000", str(port), "", "127.0.0.1", "0 0", "ready"]
    pidfile.write_text("".join(f"{line}\n" for line in lines))
    owner = pg.pgdata.stat()
    os.chown(pidfile, owner.st_uid, owner.st_gid)
    pidfile.chmod(0o600)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def _port(dsn: str) -> int:
    return int(dsn.rsplit(":", 1)[1].split("/", 1)[0])


def test_find_bin_dir_has_the_tools() -> None:
    bin_dir = find_bin_dir()
    for tool in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bin_dir / tool, os.X_OK), tool


def test_ensure_running_starts_a_cluster_that_accepts_queries(pg: EmbeddedPostgres) -> None:
    assert pg.dsn() is None
    dsn = pg.ensure_running()
    assert pg.started_here is True
    assert dsn.startswith("postgresql://postgres@127.0.0.1:")
    assert dsn.endswith("/contacts")
    assert _fetch(dsn, "SELECT current_database(), 1 + 1") == ("contacts", 2)
    assert pg.dsn() == dsn
    assert (pg.data_dir / "postgres.log").is_file()
    assert (pg.data_dir / ".lock").is_file()


def test_ensure_running_is_idempotent_and_keeps_started_here(pg: EmbeddedPostgres) -> None:
    dsn = pg.ensure_running()
    assert pg.ensure_running() == dsn
    assert pg.started_here is True


def test_second_instance_reuses_the_running_cluster(pg: EmbeddedPostgres) -> None:
    dsn = pg.ensure_running()
    other = EmbeddedPostgres(pg.data_dir, durable=False)
    assert other.dsn() == dsn
    assert other.ensure_running() == dsn
    assert other.started_here is False


def test_other_database_name_is_created_on_the_same_cluster(pg: EmbeddedPostgres) -> None:
    dsn = pg.ensure_running()
    other = EmbeddedPostgres(pg.data_dir, database="Other-DB", durable=False)
    other_dsn = other.ensure_running()
    assert _port(other_dsn) == _port(dsn)
    assert _fetch(other_dsn, "SELECT current_database()") == ("Other-DB",)


def test_data_survives_stop_and_restart(pg: EmbeddedPostgres) -> None:
    with psycopg.connect(pg.ensure_running()) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    pg.stop()
    assert pg.dsn() is None
    dsn = pg.ensure_running()
    assert pg.started_here is True
    assert _fetch(dsn, "SELECT v FROM kept") == (42,)


def test_stop_makes_dsn_none_and_is_a_no_op_when_stopped(pg: EmbeddedPostgres) -> None:
    pg.ensure_running()
    pg.stop()
    assert pg.dsn() is None
    assert pg.started_here is False
    pg.stop()
    assert pg.dsn() is None


def test_stop_without_a_cluster_does_not_create_anything(tmp_path: Path) -> None:
    EmbeddedPostgres(tmp_path / "never").stop()
    assert not (tmp_path / "never").exists()


def test_stale_pid_file_with_dead_pid_is_ignored(pg: EmbeddedPostgres) -> None:
    port = _port(pg.ensure_running())
    pg.stop()
    _write_stale_pid_file(pg, _dead_pid(), port)
    assert pg.dsn() is None
    dsn = pg.ensure_running()  # PostgreSQL itself discards a lock file whose PID is gone
    assert pg.started_here is True
    assert _fetch(dsn, "SELECT 1") == (1,)


def test_stale_pid_file_with_reused_pid_is_ignored(pg: EmbeddedPostgres) -> None:
    port = _port(pg.ensure_running())
    pg.stop()
    _write_stale_pid_file(pg, os.getpid(), port)  # a live PID that is not a postmaster
    assert pg.dsn() is None


def test_failed_start_reports_the_log_tail(pg: EmbeddedPostgres) -> None:
    pg.ensure_running()
    pg.stop()
    with (pg.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("no_such_setting = 1\n")
    with pytest.raises(EmbeddedUnavailable, match="no_such_setting"):
        pg.ensure_running()
    assert pg.dsn() is None


def test_concurrent_processes_start_the_cluster_once(pg: EmbeddedPostgres) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(pg.data_dir), str(CHECKOUT)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=pg.start_timeout * 2 + 60)
        assert child.returncode == 0
        results.append(json.loads(out))
    assert sorted(r["started_here"] for r in results) == [False, True]
    assert results[0]["dsn"] == results[1]["dsn"] == pg.dsn()


def test_remove_deletes_the_cluster_and_its_log(pg: EmbeddedPostgres) -> None:
    pg.ensure_running()
    pg.remove()
    assert pg.dsn() is None
    assert not pg.pgdata.exists() and not pg.logfile.exists()
    assert not (pg.data_dir / "pgdata").exists() and not (pg.data_dir / "postgres.log").exists()
    if pg.cluster_dir is not None:
        assert not pg.cluster_dir.exists()
    assert pg.ensure_running()  # and a new one can be made


@root_only
def test_as_root_a_checkout_and_binaries_in_private_folders_start_and_answer(
    fresh_home: Path,
    make_private: Callable[[], Path],
    make_pg: Callable[[Path], EmbeddedPostgres],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layout = pg_install.install_layout(find_bin_dir())
    if layout is None:
        pytest.skip("the PostgreSQL binaries are a system install, used where they are")
    anchor, parts = layout
    # A venv inside a private folder: pgembed cannot reach these binaries.
    venv = make_private() / "venv"
    for part in parts:
        shutil.copytree(anchor / part, venv / part)
    private_bin = venv / os.path.relpath(find_bin_dir(), anchor)
    monkeypatch.setattr(pg_install, "find_bin_dir", lambda: private_bin)
    data_dir = make_private() / "checkout" / ".data"
    before = _modes(venv.parent, data_dir.parent.parent, also=(fresh_home.parent,))

    pg = make_pg(data_dir)
    dsn = pg.ensure_running()

    assert _fetch(dsn, "SELECT current_database(), 1 + 1") == ("contacts", 2)
    assert _server_executable(pg).startswith(f"{fresh_home}/install/")
    assert pg.pgdata.is_relative_to(fresh_home / "clusters")
    assert pg.pgdata.stat().st_uid == pwd.getpwnam(pg_install.SYSTEM_USER).pw_uid
    assert (data_dir / "pgdata").resolve() == pg.pgdata  # the checkout points at its cluster
    assert (data_dir / "postgres.log").resolve() == pg.logfile
    home = fresh_home.stat()
    assert (home.st_uid, stat.S_IMODE(home.st_mode)) == (0, 0o755)
    # Nothing outside the launcher's folder got o+x (or any other change).
    assert _changed(before) == {}


@root_only
def test_as_root_two_private_checkouts_run_side_by_side_without_changing_permissions(
    fresh_home: Path,
    make_private: Callable[[], Path],
    make_pg: Callable[[Path], EmbeddedPostgres],
) -> None:
    one, two = make_private() / ".data", make_private() / ".data"
    before = _modes(one.parent, two.parent, also=(fresh_home.parent,))

    started = _start_in_children(fresh_home, one, two)  # both at once, racing for the copy
    assert [result["started_here"] for result in started] == [True, True]
    first, second = make_pg(one), make_pg(two)
    assert [first.dsn(), second.dsn()] == [result["dsn"] for result in started]
    assert _port(first.dsn() or "") != _port(second.dsn() or "")
    with psycopg.connect(first.ensure_running()) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (1)")

    first.stop()
    assert _fetch(second.ensure_running(), "SELECT 2") == (2,)
    # What broke before: a second pytest session makes its temp folder private again while the
    # first one's cluster restarts. Nothing here depends on those folders' permissions.
    os.chmod(one.parent, 0o700)
    assert _fetch(first.ensure_running(), "SELECT v FROM kept") == (1,)
    second.stop()
    assert _fetch(first.ensure_running(), "SELECT v FROM kept") == (1,)
    assert _fetch(second.ensure_running(), "SELECT 2") == (2,)
    assert second.started_here is True

    del before[str(one.parent)]  # chmod-ed by this test itself
    assert _changed(before) == {}


@root_only
def test_as_root_a_recreated_data_dir_starts_over_with_a_fresh_cluster(
    fresh_home: Path, make_pg: Callable[[Path], EmbeddedPostgres], tmp_path: Path
) -> None:
    pg = make_pg(tmp_path / ".data")
    with psycopg.connect(pg.ensure_running()) as conn:
        conn.execute("CREATE TABLE gone (v int)")
    pg.stop()
    shutil.rmtree(pg.data_dir)  # the README's "rm -rf .data" to start over

    again = make_pg(tmp_path / ".data")
    assert _fetch(again.ensure_running(), "SELECT to_regclass('gone') IS NULL") == (True,)


@root_only
def test_as_root_clusters_whose_data_dir_is_gone_are_removed_at_the_next_start(
    fresh_home: Path, make_pg: Callable[[Path], EmbeddedPostgres], tmp_path: Path
) -> None:
    stopped, running = make_pg(tmp_path / "stopped"), make_pg(tmp_path / "running")
    stopped.ensure_running()
    stopped.stop()
    running.ensure_running()
    shutil.rmtree(stopped.data_dir)
    shutil.rmtree(running.data_dir)

    make_pg(tmp_path / "other").ensure_running()

    assert stopped.cluster_dir is not None and not stopped.cluster_dir.exists()
    assert running.dsn() is not None  # a server still running is left alone
    running.stop()
    assert running.dsn() is None
    assert not running.data_dir.exists()  # stopping it did not recreate the folder


@root_only
def test_as_root_a_moved_data_dir_keeps_its_cluster_and_a_copied_one_gets_its_own(
    fresh_home: Path, make_pg: Callable[[Path], EmbeddedPostgres], tmp_path: Path
) -> None:
    old = make_pg(tmp_path / "old" / ".data")
    with psycopg.connect(old.ensure_running()) as conn:
        conn.execute("CREATE TABLE kept (v int)")
    old.stop()
    (tmp_path / "old").rename(tmp_path / "moved")
    shutil.copytree(tmp_path / "moved", tmp_path / "copied", symlinks=True)

    moved = make_pg(tmp_path / "moved" / ".data")
    assert _fetch(moved.ensure_running(), "SELECT to_regclass('kept') IS NOT NULL") == (True,)
    assert old.cluster_dir is not None and not old.cluster_dir.exists()
    copied = make_pg(tmp_path / "copied" / ".data")
    assert _fetch(copied.ensure_running(), "SELECT to_regclass('kept') IS NULL") == (True,)
    assert moved.dsn() is not None


@root_only
def test_as_root_a_cluster_an_earlier_version_kept_in_data_dir_is_moved_in(
    fresh_home: Path, make_pg: Callable[[Path], EmbeddedPostgres], tmp_path: Path
) -> None:
    maker = make_pg(tmp_path / "maker")
    with psycopg.connect(maker.ensure_running()) as conn:
        conn.execute("CREATE TABLE kept (v int)")
    maker.stop()
    data_dir = tmp_path / ".data"  # the old layout: .data/pgdata and .data/postgres.log
    data_dir.mkdir()
    shutil.move(maker.pgdata, data_dir / "pgdata")
    (data_dir / "postgres.log").write_text("earlier log\n")

    pg = make_pg(data_dir)
    assert _fetch(pg.ensure_running(), "SELECT to_regclass('kept') IS NOT NULL") == (True,)
    assert (data_dir / "pgdata").is_symlink() and (data_dir / "postgres.log").is_symlink()
    assert pg.logfile.read_text().startswith("earlier log")


@root_only
def test_as_root_the_launcher_refuses_a_folder_it_does_not_own_and_repairs_its_own(
    make_private: Callable[[], Path],
) -> None:
    parent = make_private()
    (parent / "elsewhere").mkdir()
    (parent / "link").symlink_to(parent / "elsewhere")
    (parent / "theirs").mkdir()
    os.chown(parent / "theirs", pwd.getpwnam(pg_install.SYSTEM_USER).pw_uid, 0)
    for name in ("link", "theirs"):
        with pytest.raises(EmbeddedUnavailable, match="not a directory owned by root"):
            pg_install.launcher_home(parent / name)
    assert not (parent / "elsewhere" / "install").exists()

    (parent / "ours").mkdir(mode=0o777)
    os.chmod(parent / "ours", 0o777)
    pg_install.launcher_home(parent / "ours")
    for folder in ("ours", "ours/install", "ours/clusters"):
        assert stat.S_IMODE((parent / folder).stat().st_mode) == 0o755

    os.chown(parent, pwd.getpwnam(pg_install.SYSTEM_USER).pw_uid, 0)
    with pytest.raises(EmbeddedUnavailable, match="not owned by root"):
        pg_install.launcher_home(parent / "ours")


@root_only
def test_as_a_normal_user_the_cluster_stays_in_data_dir(
    fresh_home: Path, make_private: Callable[[], Path]
) -> None:
    user = pwd.getpwnam(pg_install.SYSTEM_USER)
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    try:
        subprocess.run([sys.executable, "-c", "import psycopg"], check=True, **as_user)
    except (OSError, subprocess.CalledProcessError) as exc:  # e.g. Python in root's home folder
        pytest.skip(f"{pg_install.SYSTEM_USER} cannot run this Python with psycopg: {exc}")
    data_dir = make_private() / "data"
    data_dir.mkdir()
    os.chown(data_dir.parent, user.pw_uid, user.pw_gid)

    def child(action: str) -> dict[str, object]:
        args = [sys.executable, "-c", _CHILD, str(data_dir), str(CHECKOUT), "", action]
        done = subprocess.run(args, cwd="/", capture_output=True, text=True, timeout=120, **as_user)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    try:
        started = child("start")
        assert started["pgdata"] == str(data_dir / "pgdata")
        assert (data_dir / "pgdata" / "PG_VERSION").is_file()
        assert not (data_dir / "pgdata").is_symlink()
        assert _fetch(str(started["dsn"]), "SELECT 1") == (1,)
        assert not fresh_home.exists()
    finally:
        child("stop")
