"""Identity resolution on what the lookup found: which profiles a write describes.

The write path (app/services/writes.py) takes the identifier locks, runs one lookup for all its
writes (app/repositories/resolution.py: named profiles and identifier holders, row-locked in id
order), and asks ``decide`` for each write in turn. The rules themselves are the pure core's
(``app.identity.find_matches``); this module turns lookup rows into its inputs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from app import identity
from app.identity import Identifier, Kind, Match, Profile, Record
from app.identity.names import best_similarity
from app.identity.rules import going_by
from app.repositories.resolution import Lookup
from app.services.context import Settings

log = logging.getLogger(__name__)
# Phones already reported as shared, per process: each is logged once.
_reported_shared: set[tuple[int, str]] = set()


def identifier(settings: Settings, kind: Kind, value: str) -> Identifier:
    """Normalized with this deployment's phone region and placeholder list."""
    return identity.identifier(
        kind, value, region=settings.region, placeholders=settings.placeholders
    )


@dataclass
class Evidence:
    """What the lookup says about one write: the profiles that may be the person (to lock and
    weigh), the name to compare, the shared phones, and every profile the write looked at."""

    named: int | None  # the live profile the write names, if any
    name: str | None
    names: tuple[str, ...] = ()  # the named profile's history, for a write without a name
    candidates: set[int] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)
    looked_at: set[int] = field(default_factory=set)


def evidence(
    look: Lookup,
    account_id: int,
    settings: Settings,
    wanted: Iterable[Identifier],
    name: str | None,
    named: int | None,
    compared: tuple[str | None, tuple[str, ...]] | None = None,
) -> Evidence:
    """The candidates of one write: the named profile, the holders of its emails and external
    ids, and the holders of its phones with a name similar enough, current or past (a phone
    held by too many different people is no evidence at all).

    A write that names a profile and sends no name compares that profile's names: as they
    were before the write merged anyone (``compared``, once it has), so that a merge's joined
    history never pulls in more people — a merge never chains through a weak link."""
    wanted = [i for i in wanted if i.norm is not None]
    named_live = look.named.get(named) if named is not None else None
    names: tuple[str, ...] = ()
    if name is None and compared is not None:
        name, names = compared
    elif name is None and named_live is not None and named_live in look.profiles:
        name, names = look.profiles[named_live].name, look.profiles[named_live].names
    found = Evidence(named=named_live, name=name, names=names)
    keys = {(i.kind, i.norm) for i in wanted if i.kind is not Kind.PHONE}
    for profile in look.profiles.values():
        if any((h.kind, h.norm) in keys for h in profile.identifiers):
            found.candidates.add(profile.id)
    for ident in wanted:
        if ident.kind is not Kind.PHONE:
            continue
        holders = look.phones.get(ident.norm, [])
        found.looked_at.update(h.id for h in holders)
        # Each holder by the name it goes by now (else its latest): one person each.
        if identity.is_shared_phone(
            [going_by(h.name, h.names) for h in holders],
            limit=settings.shared_limit,
            threshold=settings.threshold,
        ):
            found.shared.add(ident.norm)
            _report_shared(account_id, ident.norm, settings.shared_limit)
            continue
        found.candidates.update(
            h.id for h in holders
            if best_similarity((name, *names), (h.name, *h.names)) >= settings.threshold
        )  # fmt: skip
    if named_live is not None:
        found.candidates.add(named_live)
    found.looked_at |= found.candidates
    return found


def matches(
    look: Lookup, settings: Settings, wanted: Iterable[Identifier], found: Evidence
) -> list[Match]:
    """The candidates the rules say are the person written (all locked and live: the caller
    made sure). An empty list: nobody, the write creates the person."""
    wanted = [i for i in wanted if i.norm is not None]
    keys = {(i.kind, i.norm) for i in wanted}
    candidates = [
        Profile(
            id=pid,
            created_at=None,
            name=look.profiles[pid].name,
            names=look.profiles[pid].names,
            identifiers=tuple(
                Identifier(h.kind, h.norm, h.norm)
                for h in look.profiles[pid].identifiers
                if (h.kind, h.norm) in keys
            ),
        )
        for pid in sorted(found.candidates)
    ]
    record = Record(
        identifiers=tuple(wanted), name=found.name, named=found.named, names=found.names
    )
    return identity.find_matches(
        record, candidates, threshold=settings.threshold, shared_phones=found.shared
    )


def _report_shared(account_id: int, norm: str, limit: int) -> None:
    """Log each shared phone once per process, by hash: the number itself is personal data."""
    digest = hashlib.sha256(norm.encode()).hexdigest()[:16]
    if (account_id, digest) not in _reported_shared:
        _reported_shared.add((account_id, digest))
        log.warning(
            "phone sha256:%s is shared by more than %d people in account %d: "
            "it no longer triggers phone+name merges there",
            digest,
            limit,
            account_id,
        )
