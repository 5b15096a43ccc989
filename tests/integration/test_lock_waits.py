"""Writers wait for profile row locks only in their first lookup, all at once in id order.

Every later lock of a profile row (a second look after rows changed while their locks were
awaited, a look after a merge, the older tombstones a merge re-points) may lie below rows the
transaction holds already; waiting there could close a cycle with a writer that holds it and
waits for ours (test_batch_deadlocks caught both kinds). So those locks never wait: a row
another transaction holds fails the statement at once, and the transaction starts over with
its locks released (retried like a deadlock, without the second `deadlock_timeout` costs).
Here another connection holds the row, as a writer whose lookup predates a merge would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors as pg_errors

from app import db
from app.repositories.resolution import lookup

URL = "/v1/customers"


def create(api, body: dict) -> int:
    response = api.post(URL, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@contextmanager
def row_locked(url: str, profile_id: int) -> Iterator[None]:
    """Another transaction holding ``profile_id``'s row lock until the block ends."""
    with psycopg.connect(url) as other:
        locked = other.execute(
            "SELECT id FROM profiles WHERE id = %s FOR UPDATE", [profile_id]
        ).fetchall()
        assert locked == [(profile_id,)]
        yield
        other.rollback()


def account_id(url: str) -> int:
    with psycopg.connect(url) as conn:
        [(found,)] = conn.execute("SELECT id FROM accounts").fetchall()
    return found


def test_a_look_that_must_not_wait_fails_at_once_on_a_held_row(api, clean_db):
    ann = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    with row_locked(clean_db, ann), psycopg.connect(clean_db) as conn:
        with pytest.raises(pg_errors.LockNotAvailable) as failed:
            lookup(conn, account_id(clean_db), named=[ann], wait=False)
    # The transaction runner starts such a transaction over, as it does after a deadlock.
    assert db.retryable(failed.value)
    assert isinstance(failed.value, db.RETRYABLE)


def test_a_look_that_must_not_wait_locks_a_row_nobody_holds(api, clean_db):
    ann = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    with psycopg.connect(clean_db) as conn:
        found = lookup(conn, account_id(clean_db), named=[ann], wait=False)
        assert found.named == {ann: ann} and found.profiles[ann].live


def test_a_merge_never_waits_for_an_older_tombstone_another_writer_holds(api, clean_db):
    ann = create(api, {"name": "Ann Lee", "email": "ann@example.com"})
    bob = create(api, {"name": "Bob Stone", "email": "bob@example.org"})
    carl = create(api, {"name": "Carl Berg", "email": "carl@example.net"})
    response = api.post(f"{URL}/{bob}/merge", json={"customers": [carl]})
    assert response.status_code == 200, response.get_json()

    # Merging Bob into Ann re-points Carl's tombstone at Ann. A writer whose lookup predates
    # Carl's merge holds Carl's row and waits for Ann's: waiting for Carl would be a cycle.
    # The merge does not wait; it starts over until its attempts run out (a 409 to retry).
    with row_locked(clean_db, carl):
        response = api.post(f"{URL}/{ann}/merge", json={"customers": [bob]})
        assert response.status_code == 409, response.get_json()
        assert api.get(f"{URL}/{carl}").get_json()["id"] == bob  # nothing was written

    response = api.post(f"{URL}/{ann}/merge", json={"customers": [bob]})
    assert response.status_code == 200, response.get_json()
    assert api.get(f"{URL}/{carl}").get_json()["id"] == ann  # one step to the survivor
    with psycopg.connect(clean_db) as conn:
        chain = conn.execute(
            "SELECT id, merged_into FROM profiles WHERE id = ANY(%s) ORDER BY id", [[bob, carl]]
        ).fetchall()
    assert chain == [(bob, ann), (carl, ann)]
