"""The read side of identity resolution: one statement that finds, locks and describes every
profile a list of writes may touch (see ``lookup`` in resolution.sql)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psycopg

from app.identity import KINDS, Identifier, Kind
from app.sql import queries

q = queries("resolution")
LOOKUP_LOCKED = q["lookup"]
# The same statement without its row locks (the loader sends blocks unindented: the clause is
# a line of its own).
_LINES = LOOKUP_LOCKED.splitlines()
assert _LINES.count("FOR UPDATE") == 1
LOOKUP_UNLOCKED = "\n".join(line for line in _LINES if line != "FOR UPDATE")
# The same statement failing at once (``LockNotAvailable``) on a row another holds.
LOOKUP_NOWAIT = "\n".join("FOR UPDATE NOWAIT" if line == "FOR UPDATE" else line for line in _LINES)
# Holders of one phone looked at, at most: past PHONE_SHARED_LIMIT distinct people it is shared
# anyway, and a phone held by thousands must not make every write of it slow.
PHONE_HOLDERS_LIMIT = 500


@dataclass
class Held:
    """One identifier row of a profile."""

    id: int
    kind: Kind
    value: str
    norm: str | None
    primary: bool


@dataclass
class Found:
    """A profile as the lookup saw it (as of its row lock, when locked)."""

    id: int
    live: bool
    name: str | None
    fresh: bool
    identifiers: list[Held] = field(default_factory=list)
    names: tuple[str, ...] = ()  # the name history, normalized, newest first


@dataclass(frozen=True)
class PhoneHolder:
    """A profile holding a phone a write carries, with the names to compare."""

    id: int
    name: str | None
    names: tuple[str, ...] = ()


@dataclass
class Lookup:
    named: dict[int, int]  # named id -> the live profile it stands for
    profiles: dict[int, Found]
    phones: dict[str, list[PhoneHolder]]  # phone norm -> its holders (id order)
    new_ids: list[int] = field(default_factory=list)  # reserved for writes nobody's found by


def lookup(
    conn: psycopg.Connection,
    account_id: int,
    *,
    named: Iterable[int] = (),
    identifiers: Iterable[Identifier] = (),
    extra: Iterable[int] = (),
    lock: bool = True,
    wait: bool = True,
    describe: bool = True,
    reserve_for: Sequence[Sequence[Identifier]] = (),
) -> Lookup:
    """Named ids resolved, profiles holding the emails and external ids (and ``extra``)
    row-locked in id order (with ``lock``; without ``wait``, a row another transaction holds
    fails the statement instead) and, with ``describe``, listed with their identifiers (writes
    that carry none need not read them); phone holders with their names (current and
    history). ``reserve_for``: the identifiers of each write that may create its person; an
    id is drawn for each whose identifiers nobody holds (``Lookup.new_ids``)."""
    wanted = {i for i in identifiers if i.norm is not None}
    others = sorted((str(i.kind), i.norm) for i in wanted if i.kind is not Kind.PHONE)
    # (write index, kind, norm) of each identifier of the writes that may create
    bare = [
        (index, str(i.kind), i.norm)
        for index, idents in enumerate(reserve_for)
        for i in idents
        if i.norm is not None
    ]
    params = {
        "account_id": account_id,
        "named": sorted(set(named)),
        "kinds": [kind for kind, _ in others],
        "norms": [norm for _, norm in others],
        "extra": sorted(set(extra)),
        "phones": sorted({i.norm for i in wanted if i.kind is Kind.PHONE}),
        "phone_limit": PHONE_HOLDERS_LIMIT,
        "describe": describe,
        "creating": list(range(len(reserve_for))),
        "ident_writes": [index for index, _, _ in bare],
        "ident_kinds": [kind for _, kind, _ in bare],
        "ident_norms": [norm for _, _, norm in bare],
    }
    statement = (LOOKUP_LOCKED if wait else LOOKUP_NOWAIT) if lock else LOOKUP_UNLOCKED
    named_rows, profile_rows, phone_rows, new_ids = conn.execute(statement, params).fetchone()
    profiles = {
        row["id"]: Found(
            id=row["id"],
            live=row["live"],
            name=row["name"],
            fresh=row["fresh"],
            identifiers=[Held(i, KINDS[k], v, n, p) for i, k, v, n, p in row["identifiers"]],
            names=tuple(row["names"] or ()),
        )
        for row in profile_rows
    }
    phones: dict[str, list[PhoneHolder]] = {}
    for norm, profile_id, name, names in phone_rows:
        phones.setdefault(norm, []).append(PhoneHolder(profile_id, name, tuple(names or ())))
    return Lookup(dict(named_rows), profiles, phones, new_ids)
