"""Undoing a merge: the merge record's ``undo`` (what the merge changed in the survivor), and
the statements that hand the merged profile's rows back — the inverse of ``merges.absorb``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from app.identity import ABSENT, Identifier, Undo
from app.sql import queries

q = queries("unmerges")


def jsonable(value: Any) -> Any:
    """A column value as stored in ``undo`` and compared with it: times in UTC, UUIDs as text."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def undo_record(undo: Undo, tags: Sequence[str]) -> dict[str, Any]:
    """The ``undo`` column of a merge: per changed field and custom-data key its value before
    and after (a key absent before has no ``before``), the creation time likewise, and the
    normalized names of the tags that only the merged profile brought."""

    def pair(before: Any, after: Any) -> dict[str, Any]:
        kept = {"after": jsonable(after)}
        if before is not ABSENT:
            kept["before"] = jsonable(before)
        return kept

    return {
        "fields": {name: pair(*change) for name, change in undo.fields.items()},
        "custom_data": {key: pair(*change) for key, change in undo.custom_data.items()},
        "created_at": None if undo.created_at is None else pair(*undo.created_at),
        "tags": list(tags),
        "names": list(undo.names),
    }


@dataclass(frozen=True)
class MergeOf:
    """The merge that made a profile a tombstone."""

    id: int
    survivor_id: int
    person_id: int
    created_at: datetime
    undo: dict[str, Any] | None
    snapshot: dict[str, Any]


def merge_of(conn: psycopg.Connection, account_id: int, merged: int) -> MergeOf | None:
    with conn.cursor(row_factory=class_row(MergeOf)) as cur:
        return cur.execute(q["merge_of"], {"account_id": account_id, "merged": merged}).fetchone()


def later_merge(
    conn: psycopg.Connection, account_id: int, survivor: int, after: datetime
) -> tuple[int, int, int] | None:
    """(merge id, survivor, merged) of the latest merge after ``after`` involving ``survivor``."""
    params = {"account_id": account_id, "survivor": survivor, "after": after}
    return conn.execute(q["later_merge"], params).fetchone()


def revive(
    conn: psycopg.Connection, account_id: int, merged: int, survivor: int, created_at: Any
) -> None:
    params = {"account_id": account_id, "merged": merged, "survivor": survivor,
              "created_at": created_at}  # fmt: skip
    conn.execute(q["revive"], params)


def set_created_at(
    conn: psycopg.Connection, account_id: int, survivor: int, created_at: Any
) -> None:
    params = {"account_id": account_id, "survivor": survivor, "created_at": created_at}
    conn.execute(q["survivor_created_at"], params)


def set_names(
    conn: psycopg.Connection, account_id: int, survivor: int, names: Sequence[str]
) -> None:
    params = {"account_id": account_id, "survivor": survivor, "names": list(names)}
    conn.execute(q["survivor_names"], params)


def identifiers_back(
    conn: psycopg.Connection,
    account_id: int,
    survivor: int,
    merged: int,
    rows: Sequence[tuple[int, bool]],
) -> tuple[list[str], set[int]]:
    """Move these identifier rows (id, primary in the snapshot) back where the survivor still
    holds them; the kinds whose primary the survivor lost, and the ids moved."""
    params = {
        "account_id": account_id,
        "survivor": survivor,
        "merged": merged,
        "ids": [row_id for row_id, _ in rows],
        "primary": [primary for _, primary in rows],
    }
    lost, moved = conn.execute(q["identifiers_back"], params).fetchone()
    return list(lost or []), set(moved or [])


def identifiers_again(
    conn: psycopg.Connection,
    account_id: int,
    merged: int,
    rows: Sequence[tuple[Identifier, bool]],
) -> None:
    """Add these identifiers (with their primary flag) to ``merged`` where no one holds them."""
    if not rows:
        return
    params = {
        "account_id": account_id,
        "merged": merged,
        "kinds": [str(ident.kind) for ident, _ in rows],
        "values": [ident.value for ident, _ in rows],
        "norms": [ident.norm for ident, _ in rows],
        "primary": [primary for _, primary in rows],
    }
    conn.execute(q["identifiers_again"], params)


def promote_lost_primaries(
    conn: psycopg.Connection, account_id: int, survivor: int, kinds: Sequence[str]
) -> None:
    if kinds:
        params = {"account_id": account_id, "survivor": survivor, "kinds": list(kinds)}
        conn.execute(q["promote_lost_primaries"], params)


def hand_back(
    conn: psycopg.Connection,
    account_id: int,
    survivor: int,
    merged: int,
    *,
    events: Sequence[int],
    tombstones: Sequence[int],
    history: Sequence[int],
) -> None:
    """The merged profile's events, its own tombstones and its merge history go back to it."""
    for block, ids in (("events_back", events), ("tombstones_back", tombstones),
                       ("history_back", history)):  # fmt: skip
        if ids:
            params = {"account_id": account_id, "survivor": survivor, "merged": merged,
                      "ids": list(ids)}  # fmt: skip
            conn.execute(q[block], params)


def record_unmerge(
    conn: psycopg.Connection,
    account_id: int,
    *,
    merge_id: int,
    survivor: int,
    merged: int,
    request_id: str | None,
    snapshot: dict[str, Any],
) -> bool:
    """Mark the merge undone and record the unmerge; False if someone undid it meanwhile."""
    params = {
        "account_id": account_id,
        "merge_id": merge_id,
        "survivor": survivor,
        "merged": merged,
        "request_id": request_id,
        "snapshot": Jsonb(snapshot),
    }
    return conn.execute(q["record_unmerge"], params).fetchone() is not None
