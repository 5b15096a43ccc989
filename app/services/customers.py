"""Customers (HelpCrunch v1 ``/v1/customers``): create, read, update, batch update, erase.

Every write goes through ``_apply``: one code path for fields, identifiers, tags and custom
data, so the partner API and the customers API stay two views of the same profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from flask import current_app

from app import db, errors, identity
from app.identity import Identifier, Kind
from app.repositories import customers, identifiers, profiles, tags
from app.repositories.customers import Customer
from app.services import custom_data
from app.services import identity as identity_shell

IDENTIFIER_FIELDS = {"email": Kind.EMAIL, "user_id": Kind.EXTERNAL_ID, "phone": Kind.PHONE}
UNIQUE_KINDS = (Kind.EMAIL, Kind.EXTERNAL_ID)
LOCATION_COLUMNS = ("region_code", "country_code", "city")
BOOLEAN_COLUMNS = ("unsubscribed", "blocked")
WRITABLE_COLUMNS = tuple(c for c in profiles.COLUMNS if c not in ("professional_id",))
MAX_ID = 2**63 - 1


def carried_identifiers(data: dict[str, Any]) -> dict[Kind, Identifier | None]:
    """Identifiers a write sets (``None``: it clears that kind), normalized."""
    region = current_app.config["DEFAULT_PHONE_REGION"]
    return {
        kind: None if data[key] is None else identity.identifier(kind, data[key], region=region)
        for key, kind in IDENTIFIER_FIELDS.items()
        if key in data
    }


def _present(carried: dict[Kind, Identifier | None]) -> list[Identifier]:
    return [i for i in carried.values() if i is not None and i.norm is not None]


def _columns(data: dict[str, Any], *, resolving: bool) -> dict[str, Any]:
    """Profile columns a write sets. A resolving write only adds: no nulls, no un-flagging."""
    fields = {key: data[key] for key in WRITABLE_COLUMNS if key in data}
    if "location" in data:
        location = data["location"]
        for key in LOCATION_COLUMNS:
            if location is None or key in location:
                fields[key] = None if location is None else location[key]
    for key in BOOLEAN_COLUMNS:
        if key in fields and fields[key] is None:
            fields[key] = False  # null clears a flag
    if resolving:
        fields = {k: v for k, v in fields.items() if v is not None and v is not False}
    return fields


def _apply(
    conn: psycopg.Connection,
    account_id: int,
    profile_id: int,
    data: dict[str, Any],
    change: custom_data.Change,
    *,
    resolving: bool,
) -> None:
    """Write fields, custom data, identifiers and tags of one customer write."""
    profiles.update_profile(
        conn,
        account_id,
        profile_id,
        _columns(data, resolving=resolving),
        custom_data_set=change.set,
        custom_data_remove=[] if resolving else change.remove,
        clear_custom_data=change.clear and not resolving,
    )
    for kind, ident in carried_identifiers(data).items():
        if ident is not None or not resolving:
            identity_shell.set_primary(conn, account_id, profile_id, kind, ident)
    if "tags" in data and (data["tags"] is not None or not resolving):
        wanted = [(t["name"], t.get("color")) for t in data["tags"] or []]
        tag_ids = tags.ensure_tags(conn, account_id, wanted)
        if resolving:
            tags.attach(conn, account_id, profile_id, tag_ids)
        else:
            tags.set_exactly(conn, account_id, profile_id, tag_ids)


def _refuse_conflicts(
    conn: psycopg.Connection, account_id: int, profile_id: int, data: dict[str, Any]
) -> None:
    """An email or userId of another customer cannot be given to this one (yet: no merges)."""
    unique = [i for i in _present(carried_identifiers(data)) if i.kind in UNIQUE_KINDS]
    taken = [
        h for h in identifiers.find_holders(conn, account_id, unique) if h.profile_id != profile_id
    ]
    if taken:
        kinds = " and ".join(
            sorted({"userId" if h.kind is Kind.EXTERNAL_ID else "email" for h in taken})
        )
        raise errors.IdentityConflict(
            f"The {kinds} belongs to another customer (id {taken[0].profile_id})."
        )


def _lock_identifiers(conn: psycopg.Connection, account_id: int, writes: Sequence[dict]) -> None:
    present = [i for data in writes for i in _present(carried_identifiers(data))]
    identifiers.lock_identifiers(conn, account_id, present)


def _existing(conn: psycopg.Connection, account_id: int, ids: Sequence[int]) -> None:
    """Row-lock the customers (id order); 404 naming the ids that do not exist."""
    in_range = [i for i in ids if 0 < i <= MAX_ID]
    found = customers.lock_customers(conn, account_id, in_range) if in_range else set()
    missing = [i for i in ids if i not in found]
    if missing:
        listed = ", ".join(str(i) for i in missing)
        raise errors.NotFound(f"Customer not found: {listed}.")


def require_customer(
    conn: psycopg.Connection, account_id: int, customer_id: int, *, lock: bool = True
) -> None:
    """404 unless the customer exists; ``lock`` row-locks it for the rest of the transaction."""
    if lock:
        _existing(conn, account_id, [customer_id])
    elif not (
        0 < customer_id <= MAX_ID and customers.customer_exists(conn, account_id, customer_id)
    ):
        raise errors.NotFound("Customer not found.")


def _load(conn: psycopg.Connection, account_id: int, customer_id: int) -> Customer:
    return customers.load_customers(conn, account_id, [customer_id])[0]


def create_customer(account_id: int, data: dict[str, Any]) -> tuple[Customer, bool]:
    """Create a customer, or resolve to the one holding the userId or email (and only add).

    Returns the customer and whether it was created.
    """
    carried = carried_identifiers(data)

    def work(conn: psycopg.Connection) -> tuple[Customer, bool]:
        _lock_identifiers(conn, account_id, [data])
        [change] = custom_data.resolve(conn, account_id, [data.get("custom_data", [])], [""])
        unique = [i for i in _present(carried) if i.kind in UNIQUE_KINDS]
        match = identity.match_contact(unique, identifiers.find_holders(conn, account_id, unique))
        if match.conflict:
            raise errors.IdentityConflict(
                "The userId and the email belong to two different customers."
            )
        profile_id = match.profile_id
        if profile_id is None:
            profile_id = profiles.insert_profile(conn, account_id)
        _apply(conn, account_id, profile_id, data, change, resolving=match.profile_id is not None)
        return _load(conn, account_id, profile_id), match.profile_id is None

    return db.run_in_transaction(work)


def update_customers(
    account_id: int, items: Sequence[dict[str, Any]], *, batch: bool = True
) -> list[Customer]:
    """Update customers named by id, in order, all or nothing (PUT, PATCH and the batch).

    Validation of every item comes first (422), then existence (404), then the writes (409 when
    an email or userId belongs to another customer). Error paths start with ``[i].`` in a batch.
    """
    ids = [item["customer"] for item in items]
    prefixes = [f"[{i}]." if batch else "" for i in range(len(items))]

    def work(conn: psycopg.Connection) -> list[Customer]:
        _lock_identifiers(conn, account_id, items)
        writes = [item.get("custom_data", []) for item in items]
        changes = custom_data.resolve(conn, account_id, writes, prefixes)
        _existing(conn, account_id, ids)
        for item, change in zip(items, changes, strict=True):
            _refuse_conflicts(conn, account_id, item["customer"], item)
            _apply(conn, account_id, item["customer"], item, change, resolving=False)
        return customers.load_customers(conn, account_id, ids)

    return db.run_in_transaction(work)


def get_customer(account_id: int, customer_id: int) -> Customer:
    if 0 < customer_id <= MAX_ID:
        found = db.fetch(lambda conn: customers.load_customers(conn, account_id, [customer_id]))
        if found:
            return found[0]
    raise errors.NotFound("Customer not found.")


def delete_customer(account_id: int, customer_id: int) -> None:
    """Erase the person: fields, identifiers, tag links and events, in one transaction."""

    def work(conn: psycopg.Connection) -> bool:
        return 0 < customer_id <= MAX_ID and customers.delete_customer(
            conn, account_id, customer_id
        )

    if not db.run_in_transaction(work):
        raise errors.NotFound("Customer not found.")


def tag_customer(account_id: int, customer_id: int, wanted: list[dict[str, Any]]) -> Customer:
    """Add tags, keeping the others (PUT /customers/{id}/tags)."""

    def work(conn: psycopg.Connection) -> Customer:
        _existing(conn, account_id, [customer_id])
        tag_ids = tags.ensure_tags(conn, account_id, [(t["name"], t.get("color")) for t in wanted])
        tags.attach(conn, account_id, customer_id, tag_ids)
        return _load(conn, account_id, customer_id)

    return db.run_in_transaction(work)


def untag_customer(account_id: int, customer_id: int, names: list[str]) -> Customer:
    """Remove the named tags (DELETE /customers/{id}/tags)."""

    def work(conn: psycopg.Connection) -> Customer:
        _existing(conn, account_id, [customer_id])
        tags.detach_named(conn, account_id, customer_id, names)
        return _load(conn, account_id, customer_id)

    return db.run_in_transaction(work)
