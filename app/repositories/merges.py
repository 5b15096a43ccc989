"""Merges and tombstones: merge records with their snapshots, what moves to the survivor,
ids that resolve through tombstones, and erasure of a whole person."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from app.identity import KINDS, Identifier, Profile
from app.repositories import profiles
from app.sql import queries

q = queries("merges")
# Composed once, at import: composing it per execution costs more than the statement.
_SNAPSHOT = sql.SQL(q["snapshot"]).format(
    derived=sql.SQL(", ").join(sql.Literal(name) for name in profiles.FOLD_COLUMNS)
)
LOAD_FACTS = sql.SQL(q["load_facts"]).format(columns=sql.SQL(profiles.SELECT_COLUMNS)).as_string()
LOAD_SNAPSHOTS = sql.SQL(q["load_snapshots"]).format(snapshot=_SNAPSHOT).as_string()
RECORD_MERGES = sql.SQL(q["record_merges"]).format(snapshot=_SNAPSHOT).as_string()


def resolve_ids(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> dict[int, int]:
    """id -> the live profile it stands for; ids that never existed are absent."""
    params = {"account_id": account_id, "ids": sorted(set(ids))}
    return dict(conn.execute(q["resolve_ids"], params).fetchall())


def resolve_contact_id(
    conn: psycopg.Connection, account_id: int, contact_id: uuid.UUID
) -> int | None:
    params = {"account_id": account_id, "contact_id": contact_id}
    row = conn.execute(q["resolve_contact_id"], params).fetchone()
    return row[0] if row else None


def lock_profiles(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> dict[int, bool]:
    """Row-lock in id order; id -> whether it is still live."""
    params = {"account_id": account_id, "ids": sorted(set(ids))}
    return dict(conn.execute(q["lock_profiles"], params).fetchall())


@dataclass(frozen=True)
class Facts:
    profile: Profile
    tags: tuple[str, ...]  # the names of its tags


def load_facts(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> dict[int, Facts]:
    """What the identity core needs to rank and consolidate these profiles, by id."""
    params = {"account_id": account_id, "ids": sorted(set(ids))}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(LOAD_FACTS, params).fetchall()
    facts = {}
    for row in rows:
        identifiers = tuple(
            Identifier(KINDS[i["kind"]], i["norm"], i["value"]) for i in row["identifiers"]
        )
        profile = Profile(
            id=row["id"],
            created_at=row["created_at"],
            name=row["name"],
            identifiers=identifiers,
            fields={name: row[name] for name in profiles.NAMES},
            custom_data=row["custom_data"],
            tags=len(row["tags"]),
            events=row["events"],
            names=tuple(row["names"]),
        )
        facts[row["id"]] = Facts(profile, tuple(row["tags"]))
    return facts


def load_snapshots(
    conn: psycopg.Connection, account_id: int, ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """id -> the profile's full snapshot (its row, identifiers, tags, events, tombstones and
    history), as the record of its merge would keep it."""
    params = {"account_id": account_id, "ids": sorted(set(ids))}
    return dict(conn.execute(LOAD_SNAPSHOTS, params).fetchall())


@dataclass(frozen=True)
class Consolidated:
    """A survivor's merged values beyond its declared columns."""

    id: int
    custom_data: dict[str, Any]
    created_at: datetime
    names: Sequence[str] | None = None


@dataclass(frozen=True)
class Absorbed:
    """One merged profile: its survivor, its place in the merges' order, and its record."""

    survivor: int
    merged: int
    rule: str
    score: float | None
    identifier: Identifier | None
    undo: dict[str, Any] | None


def consolidate_survivors(
    conn: psycopg.Connection, account_id: int, survivors: Sequence[Consolidated]
) -> None:
    rows = [
        {"id": c.id, "custom_data": c.custom_data, "created_at": c.created_at.isoformat(),
         "names": None if c.names is None else list(c.names)}
        for c in survivors
    ]  # fmt: skip
    params = {"account_id": account_id, "ids": [c.id for c in survivors], "rows": Jsonb(rows)}
    conn.execute(q["consolidate_survivors"], params)


def absorb(
    conn: psycopg.Connection, account_id: int, merges: Sequence[Absorbed], request_id: str | None
) -> None:
    """Record every merge (in list order, each with the merged profile's snapshot as it is
    now) and move each merged profile's identifiers, tags, events and history to its survivor,
    making it a tombstone: seven statements for any number of merges (a survivor's merged
    profiles come in rank order)."""
    records = [
        {"survivor": m.survivor, "merged": m.merged, "rule": m.rule, "score": m.score,
         "identifier_kind": str(m.identifier.kind) if m.identifier else None,
         "identifier_value": m.identifier.value if m.identifier else None,
         "undo": m.undo, "seq": seq}
        for seq, m in enumerate(merges)
    ]  # fmt: skip
    params = {
        "account_id": account_id,
        "survivors": [m.survivor for m in merges],
        "merged": [m.merged for m in merges],
        "seq": list(range(len(merges))),
    }
    conn.execute(RECORD_MERGES, {**params, "request_id": request_id, "rows": Jsonb(records)})
    for block in ("drop_duplicate_identifiers", "move_identifiers", "move_tags", "move_events",
                  "tombstone", "adopt_history"):  # fmt: skip
        conn.execute(q[block], params)


@dataclass(frozen=True)
class MergeRecord:
    id: int
    survivor_id: int
    merged_id: int
    rule: str
    score: float | None
    identifier_kind: str | None
    identifier_value: str | None
    request_id: str | None
    snapshot: dict[str, Any]
    created_at: datetime
    undone_at: datetime | None
    undoes: int | None

    @property
    def identifier(self) -> dict[str, str] | None:
        if self.identifier_kind is None or self.identifier_value is None:
            return None
        return {"kind": self.identifier_kind, "value": self.identifier_value}


def list_merges(
    conn: psycopg.Connection,
    account_id: int,
    person_id: int,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[MergeRecord]:
    """Newest first; ``before`` is the (created_at, id) of the previous page's last merge."""
    before_at, before_id = before or (None, None)
    params = {
        "account_id": account_id,
        "person_id": person_id,
        "before_at": before_at,
        "before_id": before_id,
        "limit": limit,
    }
    with conn.cursor(row_factory=class_row(MergeRecord)) as cur:
        return cur.execute(q["list_merges"], params).fetchall()


def erase_person(conn: psycopg.Connection, account_id: int, person_id: int) -> bool:
    """Delete the person's history, profile and tombstones; the caller holds its row lock.

    Two statements, each with a snapshot taken after the lock was granted: a merge that
    committed while we waited (its tombstones, its history rows) is seen and erased too.
    """
    params = {"account_id": account_id, "id": person_id}
    conn.execute(q["erase_history"], params)
    return bool(conn.execute(q["erase_profiles"], params).fetchall())
