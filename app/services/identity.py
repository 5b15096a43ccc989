"""The imperative shell around ``app.identity``: load candidates with SQL, ask the pure core
which profiles are the person, merge them, and keep identifiers straight.

Every write path (partner upsert, customer create, PUT/PATCH, batch items) calls ``resolve``
inside its transaction, after taking the advisory locks on the identifiers it writes.
A transaction that resolves several writes (the batch) row-locks all their candidates first,
with ``lock_candidates``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg

from flask import current_app, g

from app import db, identity
from app.identity import Holder, Identifier, Kind, Placeholders, Profile, Record
from app.repositories import identifiers as identifier_rows
from app.repositories import identity as repo
from app.repositories import profiles

log = logging.getLogger(__name__)
# Phones already reported as shared, per process: each is logged once.
_reported_shared: set[tuple[int, str]] = set()


@dataclass(frozen=True)
class Settings:
    threshold: float
    shared_limit: int
    region: str
    placeholders: Placeholders


@functools.cache
def _placeholders(extra_file: str | None) -> Placeholders:
    """The built-in placeholder list plus the deployment's own file, read once per process."""
    builtin = resources.files("app.identity").joinpath("placeholders.json").read_text("utf-8")
    mappings = [json.loads(builtin)]
    if extra_file:
        mappings.append(json.loads(Path(extra_file).read_text("utf-8")))
    return Placeholders.from_mappings(mappings)


def settings() -> Settings:
    config = current_app.config
    return Settings(
        threshold=float(config["NAME_MATCH_THRESHOLD"]),
        shared_limit=int(config["PHONE_SHARED_LIMIT"]),
        region=config["DEFAULT_PHONE_REGION"],
        placeholders=_placeholders(config.get("PLACEHOLDERS_FILE")),
    )


def identifier(kind: Kind, value: str) -> Identifier:
    """Normalized with this deployment's phone region and placeholder list."""
    s = settings()
    return identity.identifier(kind, value, region=s.region, placeholders=s.placeholders)


def resolve(
    conn: psycopg.Connection,
    account_id: int,
    identifiers: Iterable[Identifier],
    *,
    name: str | None = None,
    named: int | None = None,
) -> int | None:
    """The live profile that is the person written, after merging every profile the rules
    match directly; ``None`` when nobody matches (the caller creates the person).

    ``identifiers`` are the ones the write sets; ``name`` the request's name (for a write that
    names a profile, the profile's current name is used when the request sends none). The
    candidates are row-locked here, in id order; a transaction that resolves several writes
    locks them all beforehand with ``lock_candidates``, so that this lock waits for nobody.
    """
    s = settings()
    wanted = [i for i in identifiers if i.norm is not None]
    holders, name, shared, candidate_ids = _candidates(conn, account_id, wanted, name, named, s)
    if not candidate_ids:
        return None
    lock_live_profiles(conn, account_id, candidate_ids)
    current_names = repo.names(conn, account_id, candidate_ids)  # as of the lock
    if named is not None and name is None:
        name = current_names.get(named)
    held: dict[int, list[Identifier]] = {}
    for h in holders:
        held.setdefault(h.profile_id, []).append(Identifier(h.kind, h.norm, h.norm))
    candidates = [
        Profile(
            id=pid,
            created_at=None,
            name=current_names.get(pid),
            identifiers=tuple(held.get(pid, ())),
        )
        for pid in sorted(candidate_ids)
    ]
    record = Record(identifiers=tuple(wanted), name=name, named=named)
    matches = identity.find_matches(record, candidates, threshold=s.threshold, shared_phones=shared)
    if not matches:
        return None
    if len(matches) == 1:
        return matches[0].profile_id
    return merge(conn, account_id, matches)


def lock_candidates(
    conn: psycopg.Connection,
    account_id: int,
    writes: Iterable[tuple[Iterable[Identifier], str | None, int | None]],
) -> None:
    """Row-lock, in one id-ordered statement, every profile that ``resolve`` would lock for any
    of these ``(identifiers, name, named)`` writes, as the database stands now.

    Locking them item by item would take row locks out of id order (a later item's candidate
    below an earlier one's), and two such transactions can wait on each other in a cycle.
    Only a candidate that appears after this (a phone holder's name changed meanwhile, or a
    name set by an earlier write of the same transaction) is locked later, by ``resolve``.
    """
    s = settings()
    ids: set[int] = set()
    for identifiers, name, named in writes:
        wanted = [i for i in identifiers if i.norm is not None]
        ids |= _candidates(conn, account_id, wanted, name, named, s)[3]
    if ids:
        lock_live_profiles(conn, account_id, ids)


def lock_live_profiles(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> None:
    """Row-lock these profiles in one id-ordered statement; one that a concurrent transaction
    merged away or erased meanwhile restarts the whole transaction (``db.ConcurrentChange``)."""
    ids = set(ids)
    liveness = repo.lock_profiles(conn, account_id, ids)
    if not all(liveness.get(pid, False) for pid in ids):
        raise db.ConcurrentChange("a profile was merged or erased meanwhile")


def _candidates(
    conn: psycopg.Connection,
    account_id: int,
    wanted: list[Identifier],
    name: str | None,
    named: int | None,
    s: Settings,
) -> tuple[list[Holder], str | None, set[str], set[int]]:
    """The holders of the write's identifiers, the name to match (the named profile's when the
    write sends none), its shared phones, and the profiles that may be the person (to lock
    and weigh): the named one and those holding its identifiers."""
    holders = identifier_rows.find_holders(conn, account_id, wanted)
    if name is None and named is not None:
        name = repo.names(conn, account_id, [named]).get(named)
    shared, plausible = _phone_evidence(conn, account_id, wanted, name, s)
    # Phone holders with dissimilar names cannot match: they are neither locked nor loaded.
    candidate_ids = {h.profile_id for h in holders if h.kind is not Kind.PHONE} | plausible
    if named is not None:
        candidate_ids.add(named)
    return holders, name, shared, candidate_ids


def _phone_evidence(
    conn: psycopg.Connection,
    account_id: int,
    wanted: list[Identifier],
    name: str | None,
    s: Settings,
) -> tuple[set[str], set[int]]:
    """Phones of the write held by too many distinct people to be evidence of identity, and
    the holders of the other phones whose names are similar enough to match."""
    shared: set[str] = set()
    plausible: set[int] = set()
    for ident in wanted:
        if ident.kind is not Kind.PHONE or ident.norm is None:
            continue
        holders = repo.phone_holders(conn, account_id, ident.norm, limit=500)
        names = [holder_name for _, holder_name in holders]
        if identity.is_shared_phone(names, limit=s.shared_limit, threshold=s.threshold):
            shared.add(ident.norm)
            _report_shared(account_id, ident.norm, s.shared_limit)
            continue
        plausible.update(
            pid for pid, holder_name in holders
            if identity.name_similarity(name, holder_name) >= s.threshold
        )  # fmt: skip
    return shared, plausible


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


def merge(conn: psycopg.Connection, account_id: int, matches: list[identity.Match]) -> int:
    """Merge the matched profiles into the most complete one; returns the survivor's id."""
    facts = repo.load_facts(conn, account_id, [m.profile_id for m in matches])
    plan = identity.plan_merge([f.profile for f in facts.values()], matches)
    profiles.update_profile(conn, account_id, plan.survivor, dict(plan.fields))
    repo.consolidate_survivor(
        conn, account_id, plan.survivor, dict(plan.custom_data), plan.created_at
    )
    for gone in plan.merged:
        repo.record_merge(
            conn,
            account_id,
            survivor=plan.survivor,
            merged=gone.profile_id,
            rule=str(gone.rule),
            score=gone.score,
            identifier=gone.identifier,
            request_id=g.get("request_id"),
            snapshot=facts[gone.profile_id].snapshot,
        )
        repo.absorb(conn, account_id, plan.survivor, gone.profile_id)
    return plan.survivor


def set_identifier(
    conn: psycopg.Connection,
    account_id: int,
    profile_id: int,
    kind: Kind,
    ident: Identifier | None,
    *,
    keep_previous: bool,
) -> None:
    """Make ``ident`` the profile's primary of its kind (``None`` clears the primary).

    A value the person already holds is promoted and nothing is dropped. Otherwise the previous
    primary stays as a secondary when ``keep_previous`` (writes that find the person by
    resolution), or stops resolving to the person (writes that name the profile by id: they
    changed address).
    """
    rows = repo.identifiers_of_kind(conn, account_id, profile_id, kind)
    primary = next((r for r in rows if r.is_primary), None)
    if ident is None:
        if primary is not None:
            repo.delete_identifier(conn, account_id, primary.id)
        return
    same = next((r for r in rows if _same(r, ident)), None)
    if same is not None and same.is_primary:
        if same.value != ident.value:
            repo.set_primary_flag(conn, account_id, same.id, True, ident.value)
        return
    if primary is not None:
        if keep_previous or same is not None:
            repo.set_primary_flag(conn, account_id, primary.id, False)
        else:
            repo.delete_identifier(conn, account_id, primary.id)
    if same is not None:
        repo.set_primary_flag(conn, account_id, same.id, True, ident.value)
    else:
        identifier_rows.insert_identifier(conn, account_id, profile_id, ident, primary=True)


def _same(row: repo.HeldIdentifier, ident: Identifier) -> bool:
    if ident.norm is not None:
        return row.value_norm == ident.norm
    return row.value_norm is None and row.value == ident.value
