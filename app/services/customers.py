"""Customers (HelpCrunch v1 ``/v1/customers``): create, read, update, batch update, erase.

Every write is prepared once (``prepare_customer``) and applied by the one write path
(app/services/writes.py), which finds the person through identity resolution (merging
profiles that turn out to be one person): the partner API and the customers API stay two
views of the same profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from app import exceptions
from app.identity import Kind
from app.repositories import customers, idempotency, merges, profiles, tags
from app.repositories.customers import Customer
from app.services import resolution, writes
from app.services.context import Context, Settings
from app.services.merges import MAX_ID, lock_live, not_found

IDENTIFIER_FIELDS = {"email": Kind.EMAIL, "user_id": Kind.EXTERNAL_ID, "phone": Kind.PHONE}
LOCATION_COLUMNS = ("region_code", "country_code", "city")
WRITABLE_COLUMNS = tuple(c for c in profiles.NAMES if c not in ("professional_id",))


def _columns(data: dict[str, Any], *, resolving: bool) -> dict[str, Any]:
    """Profile columns a write sets. A resolving write only adds: no nulls, no un-flagging."""
    fields = {key: data[key] for key in WRITABLE_COLUMNS if key in data}
    if "location" in data:
        location = data["location"]
        for key in LOCATION_COLUMNS:
            if location is None or key in location:
                fields[key] = None if location is None else location[key]
    for key in profiles.FLAGS:
        if key in fields and fields[key] is None:
            fields[key] = False  # null clears a flag
    if resolving:
        fields = {k: v for k, v in fields.items() if v is not None and v is not False}
    return fields


def prepare_customer(
    settings: Settings, data: dict[str, Any], *, named: int | None = None, prefix: str = ""
) -> writes.Write:
    """The write of validated customer fields. Named by id (PUT, PATCH, batch items) it sets,
    clears and replaces; otherwise (POST) it resolves to the person its identifiers name and
    only adds: nothing is cleared, flags are never turned off, a replaced identifier stays."""
    resolving = named is None
    carried = {
        kind: None if data[key] is None else resolution.identifier(settings, kind, data[key])
        for key, kind in IDENTIFIER_FIELDS.items()
        if key in data
    }
    touches_tags = "tags" in data and (data["tags"] is not None or not resolving)
    return writes.Write(
        named=named,
        columns=_columns(data, resolving=resolving),
        identifiers={k: v for k, v in carried.items() if v is not None or not resolving},
        keep_previous=resolving,
        name=data.get("name"),
        tags=[(t["name"], t.get("color")) for t in data["tags"] or []] if touches_tags else None,
        tags_exact=not resolving,
        custom_data=data.get("custom_data", []),
        custom_adds_only=resolving,
        prefix=prefix,
    )


def _load(conn: psycopg.Connection, account_id: int, customer_id: int) -> Customer:
    """The customer; 404 if it was erased since its id was resolved (reads take no lock)."""
    found = customers.load_customers(conn, account_id, [customer_id])
    if not found:
        raise exceptions.NotFound("Customer not found.")
    return found[0]


def create_customer(
    conn: psycopg.Connection, ctx: Context, write: writes.Write
) -> tuple[Customer, bool]:
    """Create a customer, or resolve to the person its identifiers name (and only add).

    Returns the customer and whether it was created.
    """
    applied = writes.apply(conn, ctx, [write])
    return _load(conn, ctx.account_id, applied.targets[0]), applied.created[0]


def update_customers(
    conn: psycopg.Connection, ctx: Context, items: Sequence[writes.Write]
) -> list[Customer]:
    """Update customers named by id, in order, all or nothing (PUT, PATCH and the batch).

    Validation of every item comes first (422), then existence (404), then the writes. A write
    whose identifiers belong to other profiles merges them first and lands on the survivor;
    items that name the same customer again, or turn out to be the same person, are applied in
    order to it. The answer has one customer per item, in request order: the customer as that
    item left it where a later item names the same person, else as the batch left it.
    """
    account_id = ctx.account_id
    applied = writes.apply(
        conn, ctx, items, read_after=lambda c, ids: customers.load_customers(c, account_id, ids)
    )
    rest = [i for i in range(len(items)) if i not in applied.after]
    final = iter(customers.load_customers(conn, account_id, [applied.targets[i] for i in rest]))
    return [applied.after[i] if i in applied.after else next(final) for i in range(len(items))]


def get_customer(conn: psycopg.Connection, ctx: Context, customer_id: int) -> Customer:
    """The customer, also through a merged-away id (one statement)."""
    found = (
        customers.load_named(conn, ctx.account_id, customer_id) if customer_id <= MAX_ID else None
    )
    if found is None:
        raise not_found([customer_id])
    return found


def delete_customer(conn: psycopg.Connection, ctx: Context, customer_id: int) -> None:
    """Erase the person, also when named by a tombstone: the survivor, its tombstones, its
    identifiers, tag links, events and merge history with its snapshots, in one transaction.

    Erasure locks the live profile first, as every writer does: a merge into it that is under
    way finishes first (and is erased with it), and a merge of it into another profile makes
    the lock report a tombstone, so the erasure starts again and erases the whole survivor.
    """
    person_id = lock_live(conn, ctx.account_id, customer_id)
    idempotency.forget_person(conn, ctx.account_id, person_id)  # stored answers about them
    merges.erase_person(conn, ctx.account_id, person_id)


def tag_customer(
    conn: psycopg.Connection, ctx: Context, customer_id: int, wanted: list[dict[str, Any]]
) -> Customer:
    """Add tags, keeping the others (PUT /customers/{id}/tags)."""
    profile_id = lock_live(conn, ctx.account_id, customer_id)
    tag_ids = tags.ensure_tags(conn, ctx.account_id, [(t["name"], t.get("color")) for t in wanted])
    tags.attach(conn, ctx.account_id, profile_id, tag_ids)
    return _load(conn, ctx.account_id, profile_id)


def untag_customer(
    conn: psycopg.Connection, ctx: Context, customer_id: int, names: list[str]
) -> Customer:
    """Remove the named tags (DELETE /customers/{id}/tags)."""
    profile_id = lock_live(conn, ctx.account_id, customer_id)
    tags.detach_named(conn, ctx.account_id, profile_id, names)
    return _load(conn, ctx.account_id, profile_id)
