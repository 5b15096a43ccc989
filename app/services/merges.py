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

from app import identity
from app.identity import Match, MergePlan
from app.repositories import merges as repo
from app.repositories import writes
from app.repositories.profiles import ProfileWrite
from app.services.context import Context


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
    merge_plan, account_id = planned.plan, ctx.account_id
    writes.apply(
        conn,
        account_id,
        writes.Changes(
            profiles=[ProfileWrite(merge_plan.survivor, fields=dict(merge_plan.fields))]
        ),
    )
    repo.consolidate_survivor(
        conn, account_id, merge_plan.survivor, dict(merge_plan.custom_data), merge_plan.created_at
    )
    for gone in merge_plan.merged:
        repo.record_merge(
            conn,
            account_id,
            survivor=merge_plan.survivor,
            merged=gone.profile_id,
            rule=str(gone.rule),
            score=gone.score,
            identifier=gone.identifier,
            request_id=ctx.request_id,
            snapshot=planned.facts[gone.profile_id].snapshot,
        )
        repo.absorb(conn, account_id, merge_plan.survivor, gone.profile_id)
    return merge_plan.survivor
