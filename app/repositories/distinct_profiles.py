"""Pairs of profiles known to be two people: remembered by unmerge, obeyed by the automatic
rules (and the sweep), listed and forgotten through the API. Recorded between profile ids;
each check resolves them through tombstones, so a pair follows its people through merges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg

from app.sql import queries

q = queries("distinct_profiles")


def remember(
    conn: psycopg.Connection, account_id: int, a: int, b: int, request_id: str | None
) -> None:
    params = {"account_id": account_id, "a": a, "b": b, "request_id": request_id}
    conn.execute(q["remember"], params)


def among(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> set[frozenset[int]]:
    """The pairs of these live profiles that are known to be two people."""
    params = {"account_id": account_id, "ids": sorted(set(ids))}
    return {frozenset(pair) for pair in conn.execute(q["among"], params).fetchall()}


def list_for(
    conn: psycopg.Connection,
    account_id: int,
    person: int,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[int, datetime]]:
    """(other live profile, since) of the people known to be distinct from ``person``."""
    before_at, before_id = before or (None, None)
    params = {"account_id": account_id, "person": person, "before_at": before_at,
              "before_id": before_id, "limit": limit}  # fmt: skip
    return conn.execute(q["list_for"], params).fetchall()


def forget(conn: psycopg.Connection, account_id: int, a: int, b: int) -> bool:
    """Forget the pairs between two live people; whether there was one."""
    params = {"account_id": account_id, "a": a, "b": b}
    return bool(conn.execute(q["forget"], params).fetchall())


def all_pairs(conn: psycopg.Connection, account_id: int) -> set[frozenset[int]]:
    """Every pair of the account, between the live profiles its ends stand for now."""
    rows = conn.execute(q["all_pairs"], {"account_id": account_id}).fetchall()
    return {frozenset(pair) for pair in rows if pair[0] != pair[1]}
