"""Identifiers held by profiles, and the advisory locks that serialize writers on them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import psycopg

from app.identity import Identifier
from app.sql import queries

q = queries("identifiers")


def lock_key(account_id: int, kind: str, norm: str) -> int:
    """A stable signed 64-bit advisory-lock key for one normalized identifier."""
    digest = hashlib.blake2b(f"{account_id}\x1f{kind}\x1f{norm}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_identifiers(
    conn: psycopg.Connection, account_id: int, identifiers: Iterable[Identifier]
) -> None:
    """Block until no other transaction writes any of these identifiers (sorted order); the
    first statement of every write, so it also sets the transaction's plan cache mode."""
    keys = sorted({lock_key(account_id, i.kind, i.norm) for i in identifiers if i.norm})
    conn.execute(q["lock_identifiers"], {"keys": keys})
