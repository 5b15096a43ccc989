"""Person profiles: one row per person, shown by both APIs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from app.sql import queries

q = queries("profiles")


@dataclass(frozen=True)
class Contact:
    """The partner API's view of a profile."""

    id: int
    contact_id: uuid.UUID
    name: str | None
    professional_id: uuid.UUID | None
    created_at: datetime
    email: str | None
    external_id: str | None


def insert_profile(conn: psycopg.Connection, account_id: int, fields: dict[str, Any]) -> int:
    params = {
        "account_id": account_id,
        "name": fields.get("name"),
        "professional_id": fields.get("professional_id"),
    }
    return conn.execute(q["insert_profile"], params).fetchone()[0]


def update_profile(
    conn: psycopg.Connection, account_id: int, profile_id: int, fields: dict[str, Any]
) -> None:
    """Set the fields present in ``fields``; absent ones keep their value."""
    params: dict[str, Any] = {"account_id": account_id, "id": profile_id}
    for name in ("name", "professional_id"):
        params[f"set_{name}"] = name in fields
        params[name] = fields.get(name)
    conn.execute(q["update_profile"], params)


def get_contact(
    conn: psycopg.Connection,
    account_id: int,
    *,
    profile_id: int | None = None,
    contact_id: uuid.UUID | None = None,
) -> Contact | None:
    params = {"account_id": account_id, "id": profile_id, "contact_id": contact_id}
    with conn.cursor(row_factory=class_row(Contact)) as cur:
        return cur.execute(q["get_contact"], params).fetchone()
