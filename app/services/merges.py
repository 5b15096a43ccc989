"""Merging profiles that are one person: planned first, then applied.

``plan`` reads what survivorship looks at and asks the pure core for the merged person; it
writes nothing, so a dry run is a plan shown instead of applied. ``apply`` writes a plan: the
survivor's consolidated fields, one history record per merged profile (with its snapshot),
and the merged profiles' identifiers, tags and events moved to the survivor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from app import db, exceptions, identity, metrics, text
from app.identity import Match, MergePlan, Rule
from app.repositories import distinct_profiles, unmerges, writes
from app.repositories import merges as repo
from app.repositories.profiles import ProfileWrite
from app.services.context import Context

MAX_ID = 2**63 - 1  # the largest id a bigint holds: larger ones name nobody


def not_found(ids: Sequence[int]) -> exceptions.NotFound:
    """The 404 naming the customer ids that do not exist in the account."""
    listed = ", ".join(str(i) for i in dict.fromkeys(ids))
    return exceptions.NotFound(f"Customer not found: {listed}.")


def live_ids(conn: psycopg.Connection, account_id: int, ids: Sequence[int]) -> dict[int, int]:
    """id -> the live profile it stands for (tombstones resolve to their survivor); 404 naming
    the ids that do not exist in the account."""
    in_range = [i for i in ids if 0 < i <= MAX_ID]
    found = repo.resolve_ids(conn, account_id, in_range) if in_range else {}
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(missing)
    return found


def live_id(conn: psycopg.Connection, account_id: int, customer_id: int) -> int:
    return live_ids(conn, account_id, [customer_id])[customer_id]


def lock_live_profiles(conn: psycopg.Connection, account_id: int, ids: Sequence[int]) -> None:
    """Row-lock these live profiles in id order; one a concurrent transaction merged away or
    erased meanwhile restarts the whole transaction (``db.ConcurrentChange``)."""
    liveness = repo.lock_profiles(conn, account_id, ids)
    if not all(liveness.get(pid, False) for pid in ids):
        raise db.ConcurrentChange("a profile was merged or erased meanwhile")


def lock_live(conn: psycopg.Connection, account_id: int, customer_id: int) -> int:
    """The live profile for ``customer_id``, row-locked; retried if a merge moves it meanwhile."""
    profile_id = live_id(conn, account_id, customer_id)
    lock_live_profiles(conn, account_id, [profile_id])
    return profile_id


SOFT = (Rule.PHONE_NAME,)  # matches the rules drop for a known distinct pair; others refuse


def without_distinct(conn: psycopg.Connection, ctx: Context, matched: Sequence[Match]) -> list:
    """The matches minus those known to be another person than a stronger match (a pair an
    unmerge separated): a phone + name match is dropped; an email, external id or named
    profile is a ``409 distinct_profiles`` — the write would give one the other's identifier.
    """
    pairs = distinct_profiles.among(conn, ctx.account_id, [m.profile_id for m in matched])
    if not pairs:
        return list(matched)
    kept: list[Match] = []
    for m in sorted(matched, key=lambda m: m.rule in SOFT):  # stable: hard matches first
        other = next((k for k in kept if frozenset((k.profile_id, m.profile_id)) in pairs), None)
        if other is None:
            kept.append(m)
        elif m.rule not in SOFT:
            raise exceptions.DistinctProfiles(
                details=[
                    {
                        "code": exceptions.DistinctProfiles.code,
                        "message": f"Customers {other.profile_id} and {m.profile_id} are "
                        "known to be two people (they were unmerged): this write "
                        "would make them one. Nothing was written.",
                        "customer": m.profile_id,
                        "other": other.profile_id,
                    }
                ]  # fmt: skip
            )
    return [m for m in matched if m in kept]


@dataclass(frozen=True)
class PlannedMerge:
    plan: MergePlan
    facts: dict[int, repo.Facts]


def plan(conn: psycopg.Connection, ctx: Context, matches: Sequence[Match]) -> PlannedMerge:
    """The merge of the matched (locked) profiles into the most complete one."""
    facts = repo.load_facts(conn, ctx.account_id, [m.profile_id for m in matches])
    return PlannedMerge(identity.plan_merge([f.profile for f in facts.values()], matches), facts)


def apply(conn: psycopg.Connection, ctx: Context, planned: PlannedMerge) -> int:
    """Write the planned merge; returns the survivor's id."""
    [survivor] = apply_many(conn, ctx, [planned])
    return survivor


def apply_many(
    conn: psycopg.Connection, ctx: Context, planned: Sequence[PlannedMerge]
) -> list[int]:
    """Write several planned merges of disjoint people at once (the sweep's batches), in the
    same nine statements as one: the survivors' consolidated fields, custom data and history,
    one record per merged profile (with its snapshot and what it changed), and the merged
    profiles' identifiers, tags and events moved to their survivors. Returns the survivors."""
    account_id = ctx.account_id
    profile_writes, consolidated, absorbed = [], [], []
    for one in planned:
        plan = one.plan
        # Only the values the merge changes: the write folds, keys and encodes each one.
        held = one.facts[plan.survivor].profile.fields
        changed = {k: v for k, v in plan.fields.items() if k not in held or held[k] != v}
        profile_writes.append(ProfileWrite(plan.survivor, fields=changed))
        consolidated.append(
            repo.Consolidated(plan.survivor, dict(plan.custom_data), plan.created_at, plan.names)
        )
        # Tags the survivor and the profiles merged ahead lacked: what each merge brought.
        tags_ahead = _tag_norms(one.facts[plan.survivor])
        for gone in plan.merged:
            own = _tag_norms(one.facts[gone.profile_id])
            brought, tags_ahead = sorted(own - tags_ahead), tags_ahead | own
            absorbed.append(
                repo.Absorbed(
                    survivor=plan.survivor,
                    merged=gone.profile_id,
                    rule=str(gone.rule),
                    score=gone.score,
                    identifier=gone.identifier,
                    undo=unmerges.undo_record(plan.undo[gone.profile_id], brought),
                )
            )
    if not planned:
        return []
    writes.apply(conn, account_id, writes.Changes(profiles=profile_writes))
    repo.consolidate_survivors(conn, account_id, consolidated)
    repo.absorb(conn, account_id, absorbed, ctx.request_id)
    rules = [m.rule for m in absorbed]
    metrics.on_commit(lambda: [metrics.MERGES.labels(rule).inc() for rule in rules])
    return [one.plan.survivor for one in planned]


def _tag_norms(facts: repo.Facts) -> set[str]:
    return {text.fold(name) for name in facts.tags}


@dataclass(frozen=True)
class ManualMerge:
    """A merge the caller asked for: the planned merge, and what the automatic rules say about
    the survivor and each profile merged into it."""

    planned: PlannedMerge
    explanations: dict[int, identity.Explanation]

    @property
    def survivor(self) -> int:
        return self.planned.plan.survivor

    @property
    def merged(self) -> list[int]:
        return [m.profile_id for m in self.planned.plan.merged]


def plan_manual(
    conn: psycopg.Connection, ctx: Context, survivor_id: int, customer_ids: Sequence[int]
) -> ManualMerge:
    """Plan merging ``customer_ids`` into ``survivor_id`` (the caller's pick), their rows
    locked: 404 naming ids the account does not have, 422 for a customer that already is the
    survivor (itself, or merged into it before)."""
    account_id = ctx.account_id
    found = live_ids(conn, account_id, [survivor_id, *customer_ids])
    survivor = found[survivor_id]
    itself = [c for c in customer_ids if found[c] == survivor]
    if itself:
        raise exceptions.ValidationFailed(
            f"Customer {itself[0]} is customer {survivor_id} already: nothing to merge.",
            field="customers",
        )
    others = sorted({found[c] for c in customer_ids})
    lock_live_profiles(conn, account_id, [survivor, *others])
    facts = repo.load_facts(conn, account_id, [survivor, *others])
    matches = [Match(pid, Rule.MANUAL) for pid in others]
    merge_plan = identity.plan_merge(
        [f.profile for f in facts.values()], matches, survivor=survivor
    )
    explanations = {
        pid: identity.explain_pair(
            facts[survivor].profile, facts[pid].profile, threshold=ctx.settings.threshold
        )
        for pid in others
    }
    return ManualMerge(PlannedMerge(merge_plan, facts), explanations)
