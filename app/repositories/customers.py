"""Customers: the HelpCrunch-style view of profiles."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from app.repositories import profiles
from app.sql import queries

q = queries("customers")
# Composed once, at import: composing it per execution costs more than the statement.
LOAD_CUSTOMERS = (
    sql.SQL(q["load_customers"]).format(columns=sql.SQL(profiles.SELECT_COLUMNS)).as_string()
)
_BY_ID = "p.id = ANY(%(ids)s::bigint[])"
# The same, for ids that may be tombstones: each stands for its survivor.
LOAD_NAMED = LOAD_CUSTOMERS.replace(
    _BY_ID,
    "p.id = ANY(ARRAY(SELECT coalesce(t.merged_into, t.id) FROM profiles t"
    " WHERE t.account_id = %(account_id)s AND t.id = ANY(%(ids)s::bigint[])))",
)
assert LOAD_NAMED != LOAD_CUSTOMERS


@dataclass(frozen=True)
class Customer:
    id: int
    contact_id: uuid.UUID
    name: str | None
    professional_id: uuid.UUID | None  # the partner API's; not in the customer object
    email: str | None
    user_id: str | None
    company: str | None
    phone: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    region_code: str | None
    country_code: str | None
    city: str | None
    unsubscribed: bool
    blocked: bool
    source: str | None
    referer: str | None
    last_page: str | None
    locale: str | None
    created_from: str | None
    integration_id: str | None
    notes: str | None
    tags: list[dict[str, str]]
    custom_data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    emails: list[str]
    phones: list[str]
    user_ids: list[str]
    merged_ids: list[int]

    @property
    def location(self) -> dict[str, str | None]:
        """``{regionCode, countryCode, city}``, always an object (its values may be null):
        the mimicked API documents an object, and clients read ``customer.location.city``."""
        return {"region_code": self.region_code, "country_code": self.country_code,
                "city": self.city}  # fmt: skip

    @property
    def device(self) -> None:
        """This service records no devices."""
        return None


def load_customers(conn: psycopg.Connection, account_id: int, ids: Iterable[int]) -> list[Customer]:
    """Customers with these ids, in the order of ``ids``; unknown ids are left out."""
    ids = list(ids)
    with conn.cursor(row_factory=class_row(Customer)) as cur:
        rows = cur.execute(LOAD_CUSTOMERS, {"account_id": account_id, "ids": ids}).fetchall()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def load_named(conn: psycopg.Connection, account_id: int, customer_id: int) -> Customer | None:
    """The customer ``customer_id`` stands for (its survivor if it was merged away), in one
    statement; ``None`` if it does not exist in the account."""
    with conn.cursor(row_factory=class_row(Customer)) as cur:
        return cur.execute(LOAD_NAMED, {"account_id": account_id, "ids": [customer_id]}).fetchone()
