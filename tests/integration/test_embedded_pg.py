"""Real initdb/pg_ctl runs: the embedded server is what `make run` and `make test` stand on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app import embedded_pg
from app.embedded_pg import EmbeddedPostgres, EmbeddedUnavailable, find_bin_dir

# Run in separate processes to prove that the file lock serialises concurrent starts. The module
# is loaded by path so the child does not import the whole app package.
_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("embedded_pg", sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
pg = module.EmbeddedPostgres(sys.argv[1], durable=False)
dsn = pg.ensure_running()
print(json.dumps({"dsn": dsn, "started_here": pg.started_here}))
"""


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "pg", durable=False)
    try:
        yield server
    finally:
        server.stop()


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
            [sys.executable, "-c", _CHILD, str(pg.data_dir), embedded_pg.__file__],
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
