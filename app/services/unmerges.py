"""Unmerge: a merged-away profile lives again, as its snapshot says it was, and the survivor
loses what it received from it — the inverse of ``merges.apply``, and remembered: the pair is
known to be two people from then on (``distinct``).

The survivor gives back the values the merge brought it that nothing later overwrote (the
merge record's ``undo`` says what it changed). Merges are undone last first: a later merge
involving the survivor (another profile merged into it, or it into another) may have built on
what this one brought, so it must be undone first (``409 unmerge_blocked`` names it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from app import db, exceptions, metrics
from app.identity import Identifier, Kind
from app.repositories import customers, distinct_profiles, identifiers, profiles, tags, writes
from app.repositories import merges as merge_rows
from app.repositories import unmerges as repo
from app.repositories.customers import Customer
from app.repositories.profiles import ProfileWrite
from app.repositories.unmerges import jsonable
from app.services import resolution
from app.services.context import Context
from app.services.merges import live_ids


@dataclass(frozen=True)
class Unmerged:
    survivor: Customer
    restored: Customer


def unmerge_customer(
    conn: psycopg.Connection, ctx: Context, survivor_id: int, merged_id: int
) -> Unmerged:
    """Undo the merge of ``merged_id`` into ``survivor_id``'s person (tombstone ids resolve)."""
    account_id = ctx.account_id
    found = live_ids(conn, account_id, [survivor_id, merged_id])
    person = found[survivor_id]
    if merged_id == person or found[merged_id] != person:
        raise exceptions.ValidationFailed(
            f"Customer {merged_id} is not merged into customer {survivor_id}.", field="customer"
        )
    merge = repo.merge_of(conn, account_id, merged_id)
    if merge is None or merge.undo is None:
        raise exceptions.Conflict(
            f"The merge of customer {merged_id} was recorded before unmerge existed: it cannot "
            "be undone."
        )
    snapshot = merge.snapshot
    # Lock order as every writer's: the identifiers' advisory locks, then the rows (id order).
    held = _identifiers(ctx, snapshot)  # normalized once: locked now, re-added below
    identifiers.lock_identifiers(conn, account_id, held)
    merge_rows.lock_profiles(conn, account_id, [person, merged_id])
    if live_ids(conn, account_id, [merged_id])[merged_id] != person or (
        (again := repo.merge_of(conn, account_id, merged_id)) is None or again.id != merge.id
    ):
        raise db.ConcurrentChange("the merge changed while waiting for its locks")
    later = repo.later_merge(conn, account_id, merge.survivor_id, merge.created_at)
    if later is not None:
        raise _blocked(merged_id, *later)
    if merge.survivor_id != person:  # the survivor was merged on, so a later merge exists
        raise db.ConcurrentChange("the survivor was merged meanwhile")

    [current] = merge_rows.load_facts(conn, account_id, [person]).values()
    [survivor_before] = merge_rows.load_snapshots(conn, account_id, [person]).values()
    _give_back(conn, ctx, person, merged_id, merge.undo, current)
    _restore(conn, ctx, person, merged_id, snapshot, held)
    before = {key: survivor_before[key] for key in ("profile", "identifiers", "tags")}
    recorded = repo.record_unmerge(
        conn,
        account_id,
        merge_id=merge.id,
        survivor=person,
        merged=merged_id,
        request_id=ctx.request_id,
        snapshot=before,
    )
    if not recorded:
        raise db.ConcurrentChange("the merge was undone meanwhile")
    distinct_profiles.remember(conn, account_id, person, merged_id, ctx.request_id)
    metrics.on_commit(metrics.UNMERGES.inc)
    survivor, restored = customers.load_customers(conn, account_id, [person, merged_id])
    return Unmerged(survivor, restored)


def _blocked(merged_id: int, merge_id: int, survivor: int, merged: int) -> exceptions.AppError:
    message = (
        f"Customer {merged} was merged into customer {survivor} later (merge {merge_id}): "
        f"undo that merge first, then customer {merged_id}'s."
    )
    return exceptions.UnmergeBlocked(
        details=[
            {
                "code": exceptions.UnmergeBlocked.code,
                "message": message,
                "merge": merge_id,
                "customer": merged,
            }
        ]  # fmt: skip
    )


def _identifiers(ctx: Context, snapshot: dict[str, Any]) -> list[Identifier]:
    return [
        resolution.identifier(ctx.settings, Kind(i["kind"]), i["value"])
        for i in snapshot["identifiers"]
    ]


def _give_back(
    conn: psycopg.Connection,
    ctx: Context,
    person: int,
    merged_id: int,
    undo: dict[str, Any],
    current: merge_rows.Facts,
) -> None:
    """The survivor's values that the merge brought and nothing overwrote since go back to
    what they were before it; so do its creation time and the tags only the merged one had."""
    profile = current.profile
    fields = {
        name: change.get("before")
        for name, change in undo["fields"].items()
        if name in profile.fields and jsonable(profile.fields[name]) == change["after"]
    }
    custom_set, custom_remove = {}, []
    for key, change in undo["custom_data"].items():
        if key in profile.custom_data and profile.custom_data[key] == change["after"]:
            if "before" in change:
                custom_set[key] = change["before"]
            else:
                custom_remove.append(key)
    write = ProfileWrite(person, fields=fields, custom_set=custom_set, custom_remove=custom_remove)
    writes.apply(conn, ctx.account_id, writes.Changes(profiles=[write]))
    created = undo["created_at"]
    if created is not None and jsonable(profile.created_at) == created["after"]:
        repo.set_created_at(conn, ctx.account_id, person, created["before"])
    if undo["tags"]:
        tags.detach_named(conn, ctx.account_id, person, undo["tags"])
    brought = set(undo.get("names", ()))
    if brought & set(profile.names):  # the restored person's names are theirs again
        kept = [n for n in profile.names if n not in brought]
        repo.set_names(conn, ctx.account_id, person, kept)


def _restore(
    conn: psycopg.Connection,
    ctx: Context,
    person: int,
    merged_id: int,
    snapshot: dict[str, Any],
    normalized: list[Identifier],
) -> None:
    """The merged profile as its snapshot shows it: its row, identifiers, tags, events, its own
    tombstones and merge history."""
    account_id, row = ctx.account_id, snapshot["profile"]
    [tag_norms] = tags.ensure_tag_lists(
        conn, account_id, [[(t["name"], None) for t in snapshot["tags"]]]
    )
    write = ProfileWrite(
        merged_id,
        fields={name: row[name] for name in profiles.NAMES if name in row},
        custom_set=row["custom_data"],
        custom_clear=True,
    )
    changes = writes.Changes(profiles=[write], tag_links=[(merged_id, n) for n in tag_norms])
    writes.apply(conn, account_id, changes)
    repo.revive(conn, account_id, merged_id, person, row["created_at"])
    held = snapshot["identifiers"]  # ``normalized``: the same, in the same order
    lost, moved = repo.identifiers_back(
        conn, account_id, person, merged_id, [(i["id"], i["primary"]) for i in held if "id" in i]
    )
    again = [
        (ident, i["primary"])
        for i, ident in zip(held, normalized, strict=True)
        if i.get("id") not in moved
    ]
    repo.identifiers_again(conn, account_id, merged_id, again)
    repo.promote_lost_primaries(conn, account_id, person, lost)
    repo.hand_back(
        conn,
        account_id,
        person,
        merged_id,
        events=snapshot["event_ids"],
        tombstones=snapshot.get("tombstones", []),
        history=snapshot.get("history", []),
    )
