"""Manual merges with a preview: the caller picks the survivor and may look before leaping.

``merge_customers`` plans and applies; ``preview_merge`` returns the plan — where each value
of the merged person comes from, what moves, what the automatic rules say about each pair —
with the customer object the merge would leave, read from the merge applied inside a
savepoint that is then rolled back, so that the preview is exactly what the merge does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from app import metrics
from app.identity import Explanation
from app.repositories import customers
from app.repositories import merges as merge_rows
from app.repositories.customers import Customer
from app.services import merges
from app.services.context import Context


@dataclass(frozen=True)
class Moves:
    """What one merged-away profile hands to the survivor."""

    customer: int
    identifiers: list[dict[str, str]]
    tags: list[str]
    custom_data_keys: list[str]
    events: int


@dataclass(frozen=True)
class MergePreview:
    customer: Customer
    survivor: int
    merged: list[int]
    field_sources: dict[str, int | None]
    custom_data_sources: dict[str, int]
    moves: list[Moves]
    explanations: dict[int, Explanation]


def merge_customers(
    conn: psycopg.Connection, ctx: Context, survivor_id: int, customer_ids: Sequence[int]
) -> Customer:
    """Merge ``customer_ids`` into ``survivor_id`` now, recorded with rule ``manual``."""
    manual = merges.plan_manual(conn, ctx, survivor_id, customer_ids)
    survivor = merges.apply(conn, ctx, manual.planned)
    [customer] = customers.load_customers(conn, ctx.account_id, [survivor])
    return customer


def preview_merge(
    conn: psycopg.Connection, ctx: Context, survivor_id: int, customer_ids: Sequence[int]
) -> MergePreview:
    """What ``merge_customers`` would do, with nothing written."""
    manual = merges.plan_manual(conn, ctx, survivor_id, customer_ids)
    snapshots = merge_rows.load_snapshots(conn, ctx.account_id, manual.merged)
    # A savepoint: the merge is undone, and counts in no metric.
    with metrics.discarded(), conn.transaction(force_rollback=True):
        survivor = merges.apply(conn, ctx, manual.planned)
        [customer] = customers.load_customers(conn, ctx.account_id, [survivor])
    plan, facts = manual.planned.plan, manual.planned.facts
    return MergePreview(
        customer=customer,
        survivor=plan.survivor,
        merged=manual.merged,
        field_sources=dict(plan.field_sources),
        custom_data_sources=dict(plan.custom_data_sources),
        moves=[_moves(pid, facts[pid], snapshots[pid]) for pid in manual.merged],
        explanations=manual.explanations,
    )


def _moves(profile_id: int, facts: Any, snapshot: dict[str, Any]) -> Moves:
    return Moves(
        customer=profile_id,
        identifiers=[{"kind": i["kind"], "value": i["value"]} for i in snapshot["identifiers"]],
        tags=[t["name"] for t in snapshot["tags"]],
        custom_data_keys=sorted(facts.profile.custom_data),
        events=facts.profile.events,
    )
