"""Person profiles: one row per person, shown by both APIs.

The profile's columns are declared once, in ``COLUMNS``: the set-based write below, the read
models (``SELECT_COLUMNS``) and the merge facts are built from that one list.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from app import text
from app.identity import blocking
from app.identity.names import normalize_name
from app.sql import queries

q = queries("profiles")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the SQL type a JSON value is cast to
    folded: bool = False  # searched case-insensitively through an `x_fold` copy (app/text.py)


COLUMNS = (
    Column("name", "text", folded=True),
    Column("professional_id", "uuid"),
    Column("company", "text", folded=True),
    Column("first_seen", "timestamptz"),
    Column("last_seen", "timestamptz"),
    Column("region_code", "text", folded=True),
    Column("country_code", "text", folded=True),
    Column("city", "text", folded=True),
    Column("unsubscribed", "boolean"),
    Column("blocked", "boolean"),
    Column("source", "text"),
    Column("referer", "text"),
    Column("last_page", "text"),
    Column("locale", "text"),
    Column("created_from", "text"),
    Column("integration_id", "text"),
    Column("notes", "text"),
)
NAMES = tuple(c.name for c in COLUMNS)
FOLDED = tuple(c.name for c in COLUMNS if c.folded)
# Not null in the table: a write that clears them sets false.
FLAGS = tuple(c.name for c in COLUMNS if c.type == "boolean")
# `p.name, p.professional_id, ...` for the read models.
SELECT_COLUMNS = ", ".join(f"p.{name}" for name in NAMES)
# Derived copies: never part of a snapshot or an answer.
FOLD_COLUMNS = tuple(f"{name}_fold" for name in FOLDED)
# ... and the name's blocking keys for duplicate suggestions (app/identity/blocking.py).
FOLD_COLUMNS += blocking.KEY_COLUMNS
# Not in COLUMNS either: `names`, the normalized names a profile has been written with (the
# phone + name rule compares them all), kept by the write path (writes.sql) and by merges;
# part of snapshots (it is the profile's own), never of an answer.


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


@dataclass
class ProfileWrite:
    """One profile's share of a set-based write: the columns it sets (absent ones keep their
    value) and its custom data change (``remove`` first, then ``set``; ``clear`` empties)."""

    id: int
    new: bool = False
    fields: dict[str, Any] | None = None
    custom_set: dict[str, Any] | None = None
    custom_remove: Sequence[str] = ()
    custom_clear: bool = False


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def row(write: ProfileWrite) -> dict[str, Any]:
    fields = write.fields or {}
    unknown = set(fields) - set(NAMES)
    if unknown:
        raise ValueError(f"not profile columns: {sorted(unknown)}")
    f = {name: _json(value) for name, value in fields.items()}
    for name in FOLDED:
        if name in fields:
            f[f"{name}_fold"] = text.fold_or_none(fields[name])
    if "name" in fields:
        f.update(blocking.profile_keys(fields["name"]))
    return {
        "id": write.id,
        "new": write.new,
        "f": f,
        "cd_set": write.custom_set or {},
        "cd_remove": list(write.custom_remove),
        "cd_clear": write.custom_clear,
        # Goes in front of the profile's name history (``names``, see writes.sql).
        "name_norm": normalize_name(fields.get("name")),
    }


def write_fragments() -> dict[str, sql.Composable]:
    """The column lists of the set-based profile write (``apply_writes`` in writes.sql), from
    ``COLUMNS``: the columns, and their values from the record ``r`` (flags never null)."""
    names = [c.name for c in COLUMNS] + list(FOLD_COLUMNS)
    return {
        "columns": sql.SQL(", ").join(sql.SQL(name) for name in names),  # ours: unquoted
        "values": sql.SQL(", ").join(
            sql.SQL(f"coalesce(r.{name}, false)" if name in FLAGS else f"r.{name}")
            for name in names
        ),
    }


def new_ids(conn: psycopg.Connection, count: int) -> list[int]:
    """Ids for profiles about to be created (from the service-wide sequence)."""
    if count <= 0:
        return []
    return conn.execute(q["new_ids"], {"count": count}).fetchone()[0]


def get_contacts(
    conn: psycopg.Connection, account_id: int, profile_ids: Sequence[int]
) -> list[Contact]:
    """The partner API's view of these profiles, in the order of ``profile_ids``."""
    params = {"account_id": account_id, "ids": list(profile_ids)}
    with conn.cursor(row_factory=class_row(Contact)) as cur:
        rows = cur.execute(q["get_contacts"], params).fetchall()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in profile_ids if i in by_id]


def get_contact(conn: psycopg.Connection, account_id: int, profile_id: int) -> Contact | None:
    found = get_contacts(conn, account_id, [profile_id])
    return found[0] if found else None
