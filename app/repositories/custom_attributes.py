"""Custom attribute definitions: the typed properties customers' customData may carry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from app.sql import queries

q = queries("custom_attributes")


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    defined: str  # "explicit" or "inferred"
    created_at: datetime


def types_of(conn: psycopg.Connection, account_id: int, names: Iterable[str]) -> dict[str, str]:
    params = {"account_id": account_id, "names": sorted(set(names))}
    return dict(conn.execute(q["get_attribute_types"], params).fetchall())


def lock_definitions(conn: psycopg.Connection, account_id: int) -> None:
    """Serialize attribute definitions of one account (for the per-account cap)."""
    conn.execute(q["lock_definitions"], {"account_id": account_id})


def count(conn: psycopg.Connection, account_id: int) -> int:
    return conn.execute(q["count_attributes"], {"account_id": account_id}).fetchone()[0]


def define(
    conn: psycopg.Connection, account_id: int, name: str, type_: str, *, defined: str
) -> Attribute | None:
    """The new attribute, or ``None`` when the account already has one of that name."""
    params = {"account_id": account_id, "name": name, "type": type_, "defined": defined}
    with conn.cursor(row_factory=class_row(Attribute)) as cur:
        return cur.execute(q["define_attribute"], params).fetchone()


def list_attributes(
    conn: psycopg.Connection, account_id: int, after: str | None, limit: int
) -> list[Attribute]:
    params = {"account_id": account_id, "after": after, "limit": limit}
    with conn.cursor(row_factory=class_row(Attribute)) as cur:
        return cur.execute(q["list_attributes"], params).fetchall()
