"""The one write path: a list of prepared writes applied set-based, in a few statements.

A ``Write`` is prepared once from validated input (identifiers normalized, the mode decided);
``apply`` runs any list of them on the caller's connection: a partner upsert, a customer
create or update, a 10-item batch, an import chunk. Both APIs go through it, so they stay two
views of one profile.

Statements, for the whole list: the identifier advisory locks (sorted keys); the custom data
types; one lookup that resolves named ids, row-locks every profile the writes can touch (id
order) and draws the ids of the people the writes create; the tags (name order); then one
statement retiring identifiers and one writing profiles, identifiers and tag links. The caller's
read-back follows in the same pipeline. Writes are applied as if one after the other: a write
that interacts with an earlier one of the list (same person, or identifiers the earlier one
wrote) or that merges people first flushes what is pending and looks again, so the answer is
the one sequential application would give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg

from app import db
from app.identity import Identifier, Kind
from app.repositories import identifiers as identifier_rows
from app.repositories import profiles, tags, writes
from app.repositories.profiles import ProfileWrite
from app.repositories.resolution import Held
from app.services import custom_data, merges, resolution
from app.services.context import Context
from app.services.write_lookup import decide, look_for

T = TypeVar("T")
# A merge makes the write's people one; looking again finds just the survivor. A bound all the
# same, so that a bug can never loop.
MAX_MERGES_PER_WRITE = 3


@dataclass
class Write:
    """One write, prepared: what it names, sets and carries, and how it treats what is there.

    ``named``: the customer id it names (its mode: it may clear and replace); ``None`` for a
    write that finds its person by its identifiers. ``identifiers``: the kinds it sets (``None``
    clears the primary). ``keep_previous``: a replaced primary stays as a secondary (writes
    that found the person) instead of being dropped (writes that named the profile).
    ``tags``: ``None`` leaves them; ``tags_exact`` replaces instead of adding.
    ``custom_data``: the ``{property, value}`` items (``None`` clears all); with
    ``custom_adds_only`` nothing is removed.
    """

    named: int | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    identifiers: dict[Kind, Identifier | None] = field(default_factory=dict)
    keep_previous: bool = True
    name: str | None = None
    tags: list[tuple[str, str | None]] | None = None
    tags_exact: bool = False
    custom_data: list[dict[str, Any]] | None = field(default_factory=list)
    custom_adds_only: bool = True
    prefix: str = ""

    @property
    def present(self) -> list[Identifier]:
        return [i for i in self.identifiers.values() if i is not None]


@dataclass
class Applied:
    """Per write: the live profile it landed on (as of the end), whether it created it, and,
    for writes whose person a later write names again, the read-back right after it."""

    targets: list[int]
    created: list[bool]
    after: dict[int, Any]


@dataclass
class _Round:
    """Writes planned against one lookup and not written yet."""

    changes: writes.Changes = field(default_factory=writes.Changes)
    touched: set[int] = field(default_factory=set)
    written: set[tuple[Kind, str]] = field(default_factory=set)
    landed: list[tuple[int, int]] = field(default_factory=list)  # (write index, its profile)

    def interferes(self, found: resolution.Evidence, wanted: Sequence[Identifier]) -> bool:
        return bool(found.looked_at & self.touched) or any(
            (i.kind, i.norm) in self.written for i in wanted if i.norm is not None
        )


def apply(
    conn: psycopg.Connection,
    ctx: Context,
    items: Sequence[Write],
    *,
    read_after: Callable[[psycopg.Connection, list[int]], list[T]] | None = None,
) -> Applied:
    """Apply ``items`` in order, all or nothing (the caller's transaction).

    Validation of custom data comes first (422), then existence of named ids (404), then the
    writes. ``read_after(conn, ids)`` reads back the writes whose person a later write names
    again (the batch answers those as they were right after them).

    Only the first lookup waits for profile rows; later ones never do
    (``app/services/write_lookup.py``): a transaction that waits only while it holds no
    profile row closes no cycle.
    """
    account_id = ctx.account_id
    identifier_rows.lock_identifiers(conn, account_id, [i for w in items for i in w.present])
    changes = custom_data.resolve(
        conn,
        account_id,
        [w.custom_data for w in items],
        [w.prefix for w in items],
        infer=ctx.settings.infer_attributes,
    )
    look = look_for(conn, ctx, items, reserve=True)
    missing = [w.named for w in items if w.named is not None and w.named not in look.named]
    if missing:
        raise merges.not_found(missing)
    tag_norms = tags.ensure_tag_lists(conn, account_id, [w.tags or [] for w in items])
    new_ids = iter(look.new_ids)

    targets: list[int] = []
    created: list[bool] = []
    snapshots: dict[int, Any] = {}
    named_again: set[int] = set()
    merged_into: dict[int, int] = {}
    pending = _Round()

    def flush(*, last: bool = False) -> None:
        """Write the pending round. Before a later write, read its writes back too: a later
        write may yet name one of their persons again (rare: only interfering or merging
        writes flush early)."""
        nonlocal pending
        writes.apply(conn, account_id, pending.changes)
        if not last and pending.landed and read_after is not None:
            read = read_after(conn, [pid for _, pid in pending.landed])
            snapshots.update((i, row) for (i, _), row in zip(pending.landed, read, strict=True))
        pending = _Round()

    for i, w in enumerate(items):
        found, matched = decide(conn, ctx, look, w)
        if len(matched) > 1 or pending.interferes(found, w.present):
            flush()
            look = look_for(conn, ctx, items[i:], wait=False)
            found, matched = decide(conn, ctx, look, w)
        if found.named is not None:  # earlier writes whose person this one names (before it
            # merges anyone): they are answered as they left their person
            named_again.update(
                k for k, t in enumerate(targets) if _final(t, merged_into) == found.named
            )
        for _ in range(MAX_MERGES_PER_WRITE):
            if len(matched) > 1:  # people an unmerge separated stay apart
                matched = merges.without_distinct(conn, ctx, matched)
            if len(matched) < 2:
                break
            survivor = merges.apply(conn, ctx, merges.plan(conn, ctx, matched))
            merged_into.update((m.profile_id, survivor) for m in matched)
            look = look_for(conn, ctx, items[i:], wait=False)
            found, matched = decide(conn, ctx, look, w, compared=(found.name, found.names))
        else:
            raise db.ConcurrentChange("the people of a write kept changing")
        if matched:
            target, is_new = matched[0].profile_id, False
        elif found.named is not None:
            target, is_new = found.named, False
        else:
            # Reserved by the lookup for writes whose identifiers nobody held; a write that
            # held candidates and matched none of them (a phone + another name) draws its own.
            target, is_new = next(new_ids, None) or profiles.new_ids(conn, 1)[0], True
        held = [] if is_new else look.profiles[target].identifiers
        _plan(pending, w, changes[i], tag_norms[i], target, is_new, held)
        pending.landed.append((i, target))
        targets.append(target)
        created.append(is_new)
    flush(last=True)
    after = {k: snapshots[k] for k in named_again if k in snapshots}
    return Applied([_final(t, merged_into) for t in targets], created, after)


def _final(profile_id: int, merged_into: dict[int, int]) -> int:
    while profile_id in merged_into and merged_into[profile_id] != profile_id:
        profile_id = merged_into[profile_id]
    return profile_id


def _plan(
    pending: _Round,
    w: Write,
    change: custom_data.Change,
    norms: list[str],
    target: int,
    is_new: bool,
    held: list[Held],
) -> None:
    """Add write ``w``, landing on ``target``, to the pending round."""
    c = pending.changes
    c.profiles.append(
        ProfileWrite(
            target,
            new=is_new,
            fields=w.columns,
            custom_set=change.set,
            custom_remove=[] if w.custom_adds_only else change.remove,
            custom_clear=change.clear and not w.custom_adds_only,
        )
    )
    for kind, ident in w.identifiers.items():
        _set_identifier(c, target, [h for h in held if h.kind is kind], ident, w.keep_previous)
        if ident is not None and ident.norm is not None:
            pending.written.add((kind, ident.norm))
    if w.tags is not None:
        c.tag_links.extend((target, norm) for norm in norms)
        if w.tags_exact:
            c.exact_tags.append(target)
    pending.touched.add(target)


def _set_identifier(
    c: writes.Changes, target: int, rows: list[Held], ident: Identifier | None, keep: bool
) -> None:
    """Make ``ident`` the profile's primary of its kind (``None`` clears the primary).

    A value the person already holds is promoted and nothing is dropped. Otherwise the previous
    primary stays as a secondary when ``keep`` (writes that found the person by resolution),
    or stops resolving to the person (writes that name the profile by id: they changed
    address). ``rows`` are the profile's rows of that kind, primary first.
    """
    primary = next((r for r in rows if r.primary), None)
    if ident is None:
        if primary is not None:
            c.delete.append(primary.id)
        return
    same = next((r for r in rows if _same(r, ident)), None)
    if same is not None and same.primary:
        if same.value != ident.value:
            c.promote[same.id] = ident.value
        return
    if primary is not None:
        (c.demote if keep or same is not None else c.delete).append(primary.id)
    if same is not None:
        c.promote[same.id] = ident.value
    else:
        c.add.append((target, ident, True))


def _same(row: Held, ident: Identifier) -> bool:
    if ident.norm is not None:
        return row.norm == ident.norm
    return row.norm is None and row.value == ident.value
