"""Customers (HelpCrunch v1 ``/v1/customers``): create, read, update, batch update, erase.

Every write finds its person through ``identity.resolve`` (merging profiles that turn out to be
one person) and then goes through ``_apply``: one code path for fields, identifiers, tags and
custom data, so the partner API and the customers API stay two views of the same profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from flask import current_app

from app import db, exceptions
from app.identity import Identifier, Kind
from app.repositories import customers, identifiers, profiles, tags
from app.repositories import identity as identity_rows
from app.repositories.customers import Customer
from app.services import custom_data
from app.services import identity as identity_shell

IDENTIFIER_FIELDS = {"email": Kind.EMAIL, "user_id": Kind.EXTERNAL_ID, "phone": Kind.PHONE}
LOCATION_COLUMNS = ("region_code", "country_code", "city")
BOOLEAN_COLUMNS = ("unsubscribed", "blocked")
WRITABLE_COLUMNS = tuple(c for c in profiles.COLUMNS if c not in ("professional_id",))
MAX_ID = 2**63 - 1


def carried_identifiers(data: dict[str, Any]) -> dict[Kind, Identifier | None]:
    """Identifiers a write sets (``None``: it clears that kind), normalized."""
    return {
        kind: None if data[key] is None else identity_shell.identifier(kind, data[key])
        for key, kind in IDENTIFIER_FIELDS.items()
        if key in data
    }


def _present(carried: dict[Kind, Identifier | None]) -> list[Identifier]:
    return [i for i in carried.values() if i is not None]


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
    tag_ids: list[int] | None,
    *,
    resolving: bool,
) -> None:
    """Write fields, custom data, identifiers and tags of one customer write.

    ``tag_ids`` are the write's tags, ensured by the caller (``_ensure_tags``) once for the
    whole transaction; ``None`` when the write leaves the tags alone.
    """
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
            identity_shell.set_identifier(
                conn, account_id, profile_id, kind, ident, keep_previous=resolving
            )
    if tag_ids is not None:
        if resolving:
            tags.attach(conn, account_id, profile_id, tag_ids)
        else:
            tags.set_exactly(conn, account_id, profile_id, tag_ids)


def _ensure_tags(
    conn: psycopg.Connection, account_id: int, writes: Sequence[dict], *, resolving: bool
) -> list[list[int] | None]:
    """The tag ids of each write (``None``: it leaves its tags alone), creating and recoloring
    the tags of all of them in one pass, so that tag rows are locked once, in name order."""
    touches = ["tags" in data and (data["tags"] is not None or not resolving) for data in writes]
    wanted = [
        [(t["name"], t.get("color")) for t in data["tags"] or []] if touched else []
        for data, touched in zip(writes, touches, strict=True)
    ]
    ids = tags.ensure_tag_lists(conn, account_id, wanted)
    return [i if touched else None for i, touched in zip(ids, touches, strict=True)]


def _infer() -> bool:
    """Whether undefined customData properties are defined by their first value's type."""
    return current_app.config["CUSTOM_ATTRIBUTES"] == "infer"


def live_ids(conn: psycopg.Connection, account_id: int, ids: Sequence[int]) -> dict[int, int]:
    """id -> the live profile it stands for (tombstones resolve to their survivor); 404 naming
    the ids that do not exist in the account."""
    in_range = [i for i in ids if 0 < i <= MAX_ID]
    found = identity_rows.resolve_ids(conn, account_id, in_range) if in_range else {}
    missing = [i for i in ids if i not in found]
    if missing:
        listed = ", ".join(str(i) for i in dict.fromkeys(missing))
        raise exceptions.NotFound(f"Customer not found: {listed}.")
    return found


def live_id(conn: psycopg.Connection, account_id: int, customer_id: int) -> int:
    return live_ids(conn, account_id, [customer_id])[customer_id]


def lock_live(conn: psycopg.Connection, account_id: int, customer_id: int) -> int:
    """The live profile for ``customer_id``, row-locked; retried if a merge moves it meanwhile."""
    profile_id = live_id(conn, account_id, customer_id)
    identity_shell.lock_live_profiles(conn, account_id, [profile_id])
    return profile_id


def _load(conn: psycopg.Connection, account_id: int, customer_id: int) -> Customer:
    """The customer; 404 if it was erased since its id was resolved (reads take no lock)."""
    found = customers.load_customers(conn, account_id, [customer_id])
    if not found:
        raise exceptions.NotFound("Customer not found.")
    return found[0]


def create_customer(account_id: int, data: dict[str, Any]) -> tuple[Customer, bool]:
    """Create a customer, or resolve to the person its identifiers name (and only add).

    Returns the customer and whether it was created.
    """

    def work(conn: psycopg.Connection) -> tuple[Customer, bool]:
        present = _present(carried_identifiers(data))
        identifiers.lock_identifiers(conn, account_id, present)
        [change] = custom_data.resolve(
            conn, account_id, [data.get("custom_data", [])], [""], infer=_infer()
        )
        found = identity_shell.resolve(conn, account_id, present, name=data.get("name"))
        profile_id = profiles.insert_profile(conn, account_id) if found is None else found
        resolving = found is not None
        [tag_ids] = _ensure_tags(conn, account_id, [data], resolving=resolving)
        _apply(conn, account_id, profile_id, data, change, tag_ids, resolving=resolving)
        return _load(conn, account_id, profile_id), found is None

    return db.run_in_transaction(work)


def update_customers(
    account_id: int, items: Sequence[dict[str, Any]], *, batch: bool = True
) -> list[Customer]:
    """Update customers named by id, in order, all or nothing (PUT, PATCH and the batch).

    Validation of every item comes first (422), then existence (404), then the writes. A write
    whose identifiers belong to other profiles merges them first and lands on the survivor;
    items that name the same customer again, or turn out to be the same person, are applied in
    order to it. The answer has one customer per item, in request order: the customer as that
    item left it where a later item names the same person, else as the batch left it. Error
    paths start with ``[i].`` in a batch.
    """
    ids = [item["customer"] for item in items]
    prefixes = [f"[{i}]." if batch else "" for i in range(len(items))]

    # Normalized once (phone parsing is not free): for the locks, the candidates and resolve.
    present = [_present(carried_identifiers(item)) for item in items]

    def work(conn: psycopg.Connection) -> list[Customer]:
        # Every lock is taken in one global order, each kind in one statement, so overlapping
        # batches (and any other writer) never wait on each other in a cycle: advisory locks
        # on the identifiers (sorted keys), custom attributes defined (sorted names), then the
        # rows of every named person and of every profile an item can resolve to (id order),
        # then the tags (name order). The items then lock nothing new, but for a candidate
        # that appears only meanwhile (see identity.lock_candidates).
        identifiers.lock_identifiers(conn, account_id, [i for p in present for i in p])
        writes = [item.get("custom_data", []) for item in items]
        changes = custom_data.resolve(conn, account_id, writes, prefixes, infer=_infer())
        named = live_ids(conn, account_id, ids)
        identity_shell.lock_candidates(
            conn,
            account_id,
            [
                (wanted, item.get("name"), named[item["customer"]])
                for item, wanted in zip(items, present, strict=True)
            ],
        )
        tag_ids = _ensure_tags(conn, account_id, items, resolving=False)
        # An item whose person a later item names again is answered as it was after that
        # item; every other item shows the final state, read in one statement at the end.
        after_item: dict[int, Customer] = {}
        steps = zip(items, present, changes, tag_ids, strict=True)
        for i, (item, wanted, change, item_tag_ids) in enumerate(steps):
            named_now = live_id(conn, account_id, item["customer"])
            survivor = identity_shell.resolve(
                conn, account_id, wanted, name=item.get("name"), named=named_now
            )
            target = survivor or named_now
            _apply(conn, account_id, target, item, change, item_tag_ids, resolving=False)
            if {named[c] for c in ids[i + 1 :]} & {named[ids[i]], target}:
                after_item[i] = _load(conn, account_id, target)
        rest = [c for i, c in enumerate(ids) if i not in after_item]
        final = live_ids(conn, account_id, rest)
        at_end = iter(customers.load_customers(conn, account_id, [final[c] for c in rest]))
        return [after_item[i] if i in after_item else next(at_end) for i in range(len(ids))]

    return db.run_in_transaction(work)


def get_customer(account_id: int, customer_id: int) -> Customer:
    return db.fetch(lambda conn: _load(conn, account_id, live_id(conn, account_id, customer_id)))


def delete_customer(account_id: int, customer_id: int) -> None:
    """Erase the person, also when named by a tombstone: the survivor, its tombstones, its
    identifiers, tag links, events and merge history with its snapshots, in one transaction.

    Erasure locks the live profile first, as every writer does: a merge into it that is under
    way finishes first (and is erased with it), and a merge of it into another profile makes
    the lock report a tombstone, so the erasure starts again and erases the whole survivor.
    """

    def work(conn: psycopg.Connection) -> None:
        identity_rows.erase_person(conn, account_id, lock_live(conn, account_id, customer_id))

    db.run_in_transaction(work)


def tag_customer(account_id: int, customer_id: int, wanted: list[dict[str, Any]]) -> Customer:
    """Add tags, keeping the others (PUT /customers/{id}/tags)."""

    def work(conn: psycopg.Connection) -> Customer:
        profile_id = lock_live(conn, account_id, customer_id)
        tag_ids = tags.ensure_tags(conn, account_id, [(t["name"], t.get("color")) for t in wanted])
        tags.attach(conn, account_id, profile_id, tag_ids)
        return _load(conn, account_id, profile_id)

    return db.run_in_transaction(work)


def untag_customer(account_id: int, customer_id: int, names: list[str]) -> Customer:
    """Remove the named tags (DELETE /customers/{id}/tags)."""

    def work(conn: psycopg.Connection) -> Customer:
        profile_id = lock_live(conn, account_id, customer_id)
        tags.detach_named(conn, account_id, profile_id, names)
        return _load(conn, account_id, profile_id)

    return db.run_in_transaction(work)
