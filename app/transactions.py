"""One transaction in pipeline mode, with BEGIN and COMMIT queued among its statements.

Split from ``app/db.py``: the pool and the retrying runners live there; this is the shape of
one transaction on a connection the caller holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)
_IN_TRANSACTION = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


@contextmanager
def pipelined_transaction(conn: psycopg.Connection) -> Iterator[None]:
    """One transaction in pipeline mode, its BEGIN and COMMIT queued with its statements.

    psycopg's ``conn.transaction()`` inside a pipeline syncs as it enters (its BEGIN is a round
    trip of its own, taken while the thread holds nothing else worth waiting for) and again
    before the COMMIT; here BEGIN travels with the first statements and COMMIT with the
    pipeline's last sync. On any error the transaction is rolled back through psycopg (which
    also leaves the aborted pipeline state and forgets statements prepared meanwhile), inside
    the pipeline for errors of the block, after it for an error found by the final sync.
    Savepoints (``conn.transaction()`` inside) work as in any transaction.
    """
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            try:
                yield
                # Queuing COMMIT may read results still in flight, and raise their error.
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
    except BaseException:
        if conn.pgconn.transaction_status in _IN_TRANSACTION:
            _rollback(conn)
        raise


def _rollback(conn: psycopg.Connection) -> None:
    """Roll back, in or out of the pipeline; a connection too broken for that is left to the
    pool, which discards it: the error that got us here is the one to raise."""
    try:
        conn.rollback()
    except psycopg.Error as exc:
        log.debug("rollback failed: %s", exc)
