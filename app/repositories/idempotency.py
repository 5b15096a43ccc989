"""Stored answers of idempotent writes (``idempotency_keys``): claims, answers, erasure.

Every function takes the caller's connection and transaction; none commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from app.sql import queries

q = queries("idempotency")


@dataclass(frozen=True)
class KeyRow:
    """A row that kept a claim from succeeding: someone else's claim, or a stored answer."""

    fingerprint: bytes
    state: str  # 'running' or 'done'
    status: int | None
    headers: dict[str, str] | None
    body: bytes | None


def claim(
    conn: psycopg.Connection,
    account_id: int,
    key: str,
    fingerprint: bytes,
    token: uuid.UUID,
    *,
    ttl: timedelta,
    stale_after: timedelta,
) -> KeyRow | None:
    """Claim ``key`` with ``token``: None when it is now ours, else the row in the way (locked
    until the transaction ends, so it cannot change before the caller decides)."""
    params = {"account_id": account_id, "key": key}
    conn.execute(q["purge_expired"], params)
    claimed = conn.execute(
        q["claim"],
        {
            **params,
            "fingerprint": fingerprint,
            "token": token,
            "ttl": ttl,
            "stale_after": stale_after,
        },
    ).fetchone()
    if claimed is not None:
        return None
    with conn.cursor(row_factory=class_row(KeyRow)) as cur:
        row = cur.execute(q["find"], params).fetchone()
    if row is None:  # the conflicting claim was released meanwhile: cannot happen under lock
        raise RuntimeError(f"idempotency key of account {account_id} vanished while locked")
    return row


@dataclass(frozen=True)
class Described:
    id: int
    contact_id: uuid.UUID
    live_id: int


def resolve_described(
    conn: psycopg.Connection, account_id: int, ids: Iterable[int], contact_ids: Iterable[uuid.UUID]
) -> list[Described]:
    """The profiles named by these ids or contact UUIDs that exist (live or tombstones)."""
    params = {
        "account_id": account_id,
        "ids": sorted(set(ids)),
        "contact_ids": sorted(set(contact_ids)),
    }
    with conn.cursor(row_factory=class_row(Described)) as cur:
        return cur.execute(q["resolve_described"], params).fetchall()


def lock_live(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> dict[int, bool]:
    """Key-share lock these profiles in id order; id -> whether it is still live."""
    params = {"account_id": account_id, "ids": sorted(set(ids))}
    return dict(conn.execute(q["lock_live"], params).fetchall())


def store(
    conn: psycopg.Connection,
    account_id: int,
    key: str,
    token: uuid.UUID,
    *,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    profile_ids: Iterable[int],
) -> bool:
    """Store the claimant's answer; False when the claim is no longer ``token``'s."""
    params = {
        "account_id": account_id,
        "key": key,
        "token": token,
        "status": status,
        "headers": Jsonb(dict(headers)),
        "body": body,
        "ids": sorted(set(profile_ids)),
    }
    return conn.execute(q["store"], params).fetchone() is not None


def release(conn: psycopg.Connection, account_id: int, key: str, token: uuid.UUID) -> None:
    """Delete the claim held by ``token`` (if it still is), so that a retry acts."""
    conn.execute(q["release"], {"account_id": account_id, "key": key, "token": token})


def forget_person(conn: psycopg.Connection, account_id: int, person_id: int) -> int:
    """Erasure: delete the stored answers describing the person (any of its ids, tombstones
    included); the caller holds the live profile's row lock. Returns how many went."""
    params = {"account_id": account_id, "id": person_id}
    return len(conn.execute(q["forget_person"], params).fetchall())
