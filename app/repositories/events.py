"""Customer events ("User Actions"): they belong to the person and move with merges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from app.sql import queries

q = queries("events")


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    data: dict[str, Any]
    customer: int
    created_at: datetime


def insert_event(
    conn: psycopg.Connection, account_id: int, profile_id: int, name: str, data: dict[str, Any]
) -> Event:
    params = {"account_id": account_id, "profile_id": profile_id, "name": name, "data": Jsonb(data)}
    with conn.cursor(row_factory=class_row(Event)) as cur:
        return cur.execute(q["insert_event"], params).fetchone()


def list_events(
    conn: psycopg.Connection,
    account_id: int,
    profile_id: int,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[Event]:
    """Newest first; ``before`` is the (created_at, id) of the previous page's last event."""
    before_at, before_id = before or (None, None)
    params = {
        "account_id": account_id,
        "profile_id": profile_id,
        "before_at": before_at,
        "before_id": before_id,
        "limit": limit,
    }
    with conn.cursor(row_factory=class_row(Event)) as cur:
        return cur.execute(q["list_events"], params).fetchall()
