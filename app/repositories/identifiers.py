"""Identifiers held by profiles, and the advisory locks that serialize writers on them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import psycopg

from app.identity import Identifier
from app.sql import queries

q = queries("identifiers")


def lock_key(account_id: int, kind: str, norm: str) -> int:
    """A stable signed 64-bit advisory-lock key for one normalized identifier."""
    digest = hashlib.blake2b(f"{account_id}\x1f{kind}\x1f{norm}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_identifiers(
    conn: psycopg.Connection,
    account_id: int,
    identifiers: Iterable[Identifier],
    *,
    reserve: int = 0,
) -> Callable[[], list[int]]:
    """Block until no other transaction writes any of these identifiers (sorted order); the
    first statement of every write, so it also sets the transaction's plan cache mode.

    ``reserve`` new profile ids come with it; the returned callable reads them, without a
    round trip of its own when a later result has been read already (pipeline mode)."""
    keys = sorted({lock_key(account_id, i.kind, i.norm) for i in identifiers if i.norm})
    cursor = conn.execute(q["lock_identifiers"], {"keys": keys, "reserve": reserve})
    return lambda: cursor.fetchone()[2]
