"""Identifiers held by profiles, and the advisory locks that serialize writers on them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import psycopg

from app.identity import Holder, Identifier, Kind
from app.sql import queries

q = queries("identifiers")


def lock_key(account_id: int, kind: str, norm: str) -> int:
    """A stable signed 64-bit advisory-lock key for one normalized identifier."""
    digest = hashlib.blake2b(f"{account_id}\x1f{kind}\x1f{norm}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_identifiers(
    conn: psycopg.Connection, account_id: int, identifiers: Iterable[Identifier]
) -> None:
    """Block until no other transaction writes any of these identifiers (sorted order)."""
    keys = sorted({lock_key(account_id, i.kind, i.norm) for i in identifiers if i.norm})
    if keys:
        conn.execute(q["lock_identifiers"], {"keys": keys})


def find_holders(
    conn: psycopg.Connection, account_id: int, identifiers: Iterable[Identifier]
) -> list[Holder]:
    wanted = [i for i in identifiers if i.norm is not None]
    if not wanted:
        return []
    params = {
        "account_id": account_id,
        "kinds": [str(i.kind) for i in wanted],
        "norms": [i.norm for i in wanted],
    }
    rows = conn.execute(q["find_holders"], params).fetchall()
    return [Holder(profile_id=pid, kind=Kind(kind), norm=norm) for pid, kind, norm in rows]


def insert_identifier(
    conn: psycopg.Connection,
    account_id: int,
    profile_id: int,
    identifier: Identifier,
    *,
    primary: bool,
) -> None:
    conn.execute(
        q["insert_identifier"],
        {
            "account_id": account_id,
            "profile_id": profile_id,
            "kind": str(identifier.kind),
            "value": identifier.value,
            "value_norm": identifier.norm,
            "is_primary": primary,
        },
    )
