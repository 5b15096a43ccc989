"""Customers known to be two people ("not the same person"): listed and forgotten.

Pairs are remembered by unmerge (``services/unmerges.py``) and obeyed by the write path
(``merges.without_distinct``); forgetting one lets the automatic rules merge the two again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from app import cursors, exceptions
from app.repositories import customers, distinct_profiles
from app.repositories.customers import Customer
from app.services.context import Context
from app.services.merges import live_id, live_ids, lock_live_profiles


@dataclass(frozen=True)
class Distinct:
    customer: Customer
    since: datetime


def list_distinct(
    conn: psycopg.Connection, ctx: Context, customer_id: int, after: str | None, limit: int
) -> tuple[list[Distinct], str | None]:
    """The people known to be distinct from this one, newest pair first."""
    person = live_id(conn, ctx.account_id, customer_id)
    rows = distinct_profiles.list_for(
        conn, ctx.account_id, person, cursors.time_key(after), limit + 1
    )
    page, cursor = cursors.page(rows, limit, lambda r: cursors.time_position(r[1], r[0]))
    loaded = {c.id: c for c in customers.load_customers(conn, ctx.account_id, [r[0] for r in page])}
    return [Distinct(loaded[other], since) for other, since in page if other in loaded], cursor


def forget_distinct(
    conn: psycopg.Connection, ctx: Context, customer_id: int, other_id: int
) -> None:
    """Forget that two people are distinct: the automatic rules may merge them again."""
    found = live_ids(conn, ctx.account_id, [customer_id, other_id])
    person, other = found[customer_id], found[other_id]
    lock_live_profiles(conn, ctx.account_id, sorted({person, other}))
    if person == other or not distinct_profiles.forget(conn, ctx.account_id, person, other):
        raise exceptions.NotFound(
            f"Customers {customer_id} and {other_id} are not known to be distinct."
        )
