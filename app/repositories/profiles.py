"""Person profiles: one row per person, shown by both APIs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from app import text
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


# Columns update_profile can set; every write of either API goes through it.
COLUMNS = (
    "name", "professional_id", "company", "first_seen", "last_seen", "region_code",
    "country_code", "city", "unsubscribed", "blocked", "source", "referer", "last_page",
    "locale", "created_from", "integration_id", "notes",
)  # fmt: skip


# Text columns searched case-insensitively: each has an `x_fold` copy (app/text.py).
FOLDED = ("name", "company", "city", "country_code", "region_code")


def insert_profile(conn: psycopg.Connection, account_id: int) -> int:
    """A new, empty profile; the caller fills it with ``update_profile``."""
    return conn.execute(q["insert_profile"], {"account_id": account_id}).fetchone()[0]


def update_profile(
    conn: psycopg.Connection,
    account_id: int,
    profile_id: int,
    fields: dict[str, Any],
    *,
    custom_data_set: dict[str, Any] | None = None,
    custom_data_remove: list[str] | None = None,
    clear_custom_data: bool = False,
) -> None:
    """Set the columns present in ``fields``; absent ones keep their value."""
    unknown = set(fields) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not profile columns: {sorted(unknown)}")
    params: dict[str, Any] = {
        "account_id": account_id,
        "id": profile_id,
        "custom_data_set": Jsonb(custom_data_set or {}),
        "custom_data_remove": custom_data_remove or [],
        "clear_custom_data": clear_custom_data,
    }
    for name in COLUMNS:
        params[f"set_{name}"] = name in fields
        params[name] = fields.get(name)
    for name in FOLDED:
        params[f"{name}_fold"] = text.fold_or_none(fields.get(name))
    conn.execute(q["update_profile"], params)


def get_contact(conn: psycopg.Connection, account_id: int, profile_id: int) -> Contact | None:
    with conn.cursor(row_factory=class_row(Contact)) as cur:
        return cur.execute(
            q["get_contact"], {"account_id": account_id, "id": profile_id}
        ).fetchone()
