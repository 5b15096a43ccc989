"""What the sweep reads to find the people the write path left split: phone blocks and the
names of their holders."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.identity import Profile
from app.sql import queries

q = queries("sweep")


def phone_blocks(conn: psycopg.Connection, account_id: int) -> list[tuple[str, list[int]]]:
    """(normalized phone, holder ids) for every phone several live profiles hold."""
    return conn.execute(q["phone_blocks"], {"account_id": account_id}).fetchall()


def phone_blocks_of(
    conn: psycopg.Connection, account_id: int, ids: Sequence[int]
) -> list[tuple[str, list[int]]]:
    """The blocks of the phones these profiles hold."""
    params = {"account_id": account_id, "ids": list(ids)}
    return conn.execute(q["phone_blocks_of"], params).fetchall()


def names_of(conn: psycopg.Connection, account_id: int, ids: Sequence[int]) -> dict[int, Profile]:
    """Live profiles by id, with what the rule compares (name and history)."""
    rows = conn.execute(q["names_of"], {"account_id": account_id, "ids": list(ids)}).fetchall()
    return {
        pid: Profile(id=pid, created_at=created_at, name=name, names=tuple(history))
        for pid, created_at, name, history in rows
    }


def live_count(conn: psycopg.Connection, account_id: int) -> int:
    return conn.execute(q["live_count"], {"account_id": account_id}).fetchone()[0]
