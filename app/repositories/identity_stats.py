"""The figures of the identity report, each one statement on the account's indexes."""

from __future__ import annotations

from datetime import date, datetime

import psycopg

from app.sql import queries

q = queries("identity_stats")


def profiles(conn: psycopg.Connection, account_id: int) -> tuple[int, int]:
    """(live, merged away)."""
    total, merged = conn.execute(q["profiles"], {"account_id": account_id}).fetchone()
    return total - merged, merged


def merges_by_rule(
    conn: psycopg.Connection, account_id: int, since: datetime
) -> list[tuple[str, date | None, int, int]]:
    """(rule, day or None for all time, merges, of them undone)."""
    params = {"account_id": account_id, "since": since}
    return conn.execute(q["merges_by_rule"], params).fetchall()


def shared_phones(conn: psycopg.Connection, account_id: int, limit: int) -> tuple[int, int, int]:
    """(phones held by several live profiles, of them held by more than ``limit``, profiles
    holding them)."""
    params = {"account_id": account_id, "limit": limit}
    shared, over, holders = conn.execute(q["shared_phones"], params).fetchone()
    return shared, over, int(holders)


def placeholders(conn: psycopg.Connection, account_id: int) -> dict[str, int]:
    return dict(conn.execute(q["placeholders"], {"account_id": account_id}).fetchall())


def distinct_pairs(conn: psycopg.Connection, account_id: int) -> int:
    return conn.execute(q["distinct_pairs"], {"account_id": account_id}).fetchone()[0]
