"""The write path's lookup: every profile a list of writes may touch, found and row-locked.

Profile rows are waited for only in a transaction's first lookup, all at once in id order.
Every later lock (a second look after rows changed meanwhile, a look after a merge or a flush,
a candidate that appeared only now) may lie below rows already held, so it does not wait: a
row another transaction holds fails at once (``LockNotAvailable``) and the transaction starts
over with its locks released (``app/services/writes.py`` applies the writes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import psycopg

from app import db
from app.identity import Kind
from app.repositories.resolution import Lookup, lookup
from app.services import merges, resolution
from app.services.context import Context

if TYPE_CHECKING:
    from app.services.writes import Write


def look_for(
    conn: psycopg.Connection,
    ctx: Context,
    items: Sequence[Write],
    *,
    wait: bool = True,
    reserve: bool = False,
) -> Lookup:
    """The lookup for these writes, with every profile they may touch row-locked (without
    ``wait``, a row another transaction holds restarts the transaction instead).

    Without phones one locked statement finds them all. Phone holders are locked only when
    their names make them plausible, so writes with phones look first without locking, then
    lock every candidate of every write in one id-ordered statement. A locked row that changed
    while we waited is looked at again (its identifiers may have changed with it), without
    waiting. With ``reserve``, ids for the writes that will create their person come with it
    (``Lookup.new_ids``: one per write naming no id whose identifiers nobody holds).
    """
    account_id, settings = ctx.account_id, ctx.settings
    named = [w.named for w in items if w.named is not None and 0 < w.named <= merges.MAX_ID]
    wanted = [i for w in items for i in w.present]
    extra: set[int] = set()
    if any(i.kind is Kind.PHONE and i.norm for i in wanted):
        first = lookup(conn, account_id, named=named, identifiers=wanted, lock=False)
        for w in items:
            extra |= resolution.evidence(
                first, account_id, settings, w.present, w.name, w.named
            ).candidates
    describe = any(w.identifiers for w in items)  # a null clears: it needs the rows too
    locked = functools.partial(
        lookup, conn, account_id, named=named, identifiers=wanted, extra=extra, describe=describe
    )
    look = locked(
        wait=wait, reserve_for=[w.present for w in items if w.named is None] if reserve else ()
    )
    reserved = look.new_ids
    if not all(p.fresh for p in look.profiles.values()):
        # A row changed while its lock was awaited (a merge moved identifiers to it or from
        # it): the writes may touch other profiles now, anywhere in the id order. Look again,
        # without waiting (see ``apply``).
        look = locked(wait=False)
        if not all(p.fresh for p in look.profiles.values()):
            raise db.ConcurrentChange("profiles kept changing while being locked")
        look.new_ids = reserved
    expected = set(look.named.values()) | extra
    if not all(p.live for p in look.profiles.values()) or not expected <= set(look.profiles):
        raise db.ConcurrentChange("a profile was merged or erased meanwhile")
    return look


def decide(
    conn: psycopg.Connection,
    ctx: Context,
    look: Lookup,
    w: Write,
    compared: tuple[str | None, tuple[str, ...]] | None = None,
) -> tuple[resolution.Evidence, list]:
    """The evidence for ``w`` and the profiles the rules match; a plausible candidate that
    appeared only now (a phone holder renamed by an earlier write) is locked first.
    ``compared``: the names to compare for a write without one (after it merged people)."""
    found = resolution.evidence(
        look, ctx.account_id, ctx.settings, w.present, w.name, w.named, compared
    )
    unlocked = found.candidates - set(look.profiles)
    if unlocked:
        extra = lookup(conn, ctx.account_id, extra=unlocked, wait=False)
        found_now = extra.profiles.values()
        if not all(p.live and p.fresh for p in found_now) or unlocked - set(extra.profiles):
            raise db.ConcurrentChange("a profile was merged or erased meanwhile")
        look.profiles.update(extra.profiles)
    if not found.candidates:
        return found, []
    return found, resolution.matches(look, ctx.settings, w.present, found)
