"""app.transactions.pipelined_transaction: BEGIN and COMMIT travel with the statements, and
every way a transaction can fail leaves the connection idle and usable."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from app.transactions import pipelined_transaction
from tests.support.wire import Wire, traced


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CREATE TEMPORARY TABLE t (id int PRIMARY KEY)")
        yield connection


def ids(conn: psycopg.Connection) -> list[int]:
    assert conn.pgconn.transaction_status == TransactionStatus.IDLE
    return [row[0] for row in conn.execute("SELECT id FROM t ORDER BY id")]


def test_begin_and_commit_cost_no_round_trip_of_their_own(conn):
    """One statement read back: two round trips (BEGIN with it, COMMIT with the last sync),
    where psycopg's transaction() inside a pipeline syncs at BEGIN, before COMMIT and after
    it (five with psycopg 3.3)."""
    ours, theirs = Wire(), Wire()
    with traced(conn, ours), pipelined_transaction(conn):
        assert conn.execute("INSERT INTO t VALUES (1) RETURNING id").fetchone() == (1,)
    with traced(conn, theirs), conn.pipeline(), conn.transaction():
        assert conn.execute("INSERT INTO t VALUES (2) RETURNING id").fetchone() == (2,)
    assert ours.round_trips == 2
    assert theirs.round_trips >= 4
    assert [m for m in ours.sent if m.startswith("Parse")] == [
        'Parse "" "BEGIN" 0',
        'Parse "" "INSERT INTO t VALUES (1) RETURNING id" 0',
        'Parse "" "COMMIT" 0',
    ]
    assert ids(conn) == [1, 2]


def test_an_error_read_in_the_block_rolls_back_and_the_connection_is_usable(conn):
    with pytest.raises(pg_errors.UniqueViolation), pipelined_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (1)").fetchall()
    assert ids(conn) == []


def test_an_error_found_only_by_the_final_sync_rolls_back(conn):
    """Nothing read in the block: the failure surfaces when COMMIT would have been sent."""
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(pg_errors.UniqueViolation), pipelined_transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        conn.execute("INSERT INTO t VALUES (1)")
    assert ids(conn) == [1]


def test_a_python_exception_rolls_back(conn):
    with pytest.raises(RuntimeError), pipelined_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("the use case failed")
    assert ids(conn) == []


def test_savepoints_inside_work(conn):
    with pipelined_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with conn.transaction(force_rollback=True):  # a preview: applied, then undone
            conn.execute("INSERT INTO t VALUES (2)")
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (2,)
        conn.execute("INSERT INTO t VALUES (3)")
    assert ids(conn) == [1, 3]


def test_failures_log_nothing_above_debug(conn, caplog):
    """psycopg warns when a pipeline is left with an error pending; this one never is. Many
    rounds: where the error surfaces (a later statement, queuing COMMIT, the final sync)
    depends on timing, and queuing COMMIT outside the rollback's reach logged 2 in 2,000."""
    with caplog.at_level(logging.INFO, logger="psycopg"):
        for _ in range(2000):
            with pytest.raises(pg_errors.UniqueViolation), pipelined_transaction(conn):
                conn.execute("INSERT INTO t VALUES (7)")
                conn.execute("INSERT INTO t VALUES (7)")
    assert caplog.records == []
    assert ids(conn) == []


def test_the_blocks_own_error_is_raised_even_with_a_failed_statement_unread(conn, caplog):
    """A use case raising (a 404, say) while a failed statement's result is still in flight:
    its error is the one raised, not the server's, and the connection ends idle."""
    conn.execute("INSERT INTO t VALUES (1)")
    with caplog.at_level(logging.INFO, logger="psycopg"):
        for _ in range(200):
            with pytest.raises(LookupError), pipelined_transaction(conn):
                conn.execute("INSERT INTO t VALUES (1)")  # fails; nobody reads it
                raise LookupError("not found")
    assert caplog.records == []
    assert ids(conn) == [1]
