"""Events, tags and custom attributes: the small resources around customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from app import cursors, db, exceptions
from app.repositories import custom_attributes, events, tags
from app.repositories import identity as identity_rows
from app.repositories.custom_attributes import Attribute
from app.repositories.events import Event
from app.repositories.identity import MergeRecord
from app.services import custom_data
from app.services.customers import live_id, lock_live


def add_event(account_id: int, customer_id: int, name: str, data: dict[str, Any]) -> Event:
    """Record an event on the customer (``POST /v1/events``)."""

    def work(conn: psycopg.Connection) -> Event:
        profile_id = lock_live(conn, account_id, customer_id)
        return events.insert_event(conn, account_id, profile_id, name, data)

    return db.run_in_transaction(work)


def list_events(
    account_id: int, customer_id: int, after: str | None, limit: int
) -> tuple[list[Event], str | None]:
    """A customer's events, newest first."""
    before = _time_cursor(after)

    def work(conn: psycopg.Connection) -> list[Event]:
        profile_id = live_id(conn, account_id, customer_id)
        return events.list_events(conn, account_id, profile_id, before, limit + 1)

    return cursors.page(db.fetch(work), limit, _time_position)


def list_merges(
    account_id: int, customer_id: int, after: str | None, limit: int
) -> tuple[list[MergeRecord], str | None]:
    """The person's merge history, newest first (``GET /v1/customers/{id}/merges``)."""
    before = _time_cursor(after)

    def work(conn: psycopg.Connection) -> list[MergeRecord]:
        person = live_id(conn, account_id, customer_id)
        return identity_rows.list_merges(conn, account_id, person, before, limit + 1)

    return cursors.page(db.fetch(work), limit, _time_position)


def list_tags(account_id: int, after: str | None, limit: int) -> tuple[list[dict], str | None]:
    start = _cursor_value(after, "name", str)
    rows = db.fetch(lambda conn: tags.list_tags(conn, account_id, start, limit + 1))
    rows, cursor = cursors.page(rows, limit, lambda r: {"name": r[2]})
    return [{"name": name, "color": color} for name, color, _ in rows], cursor


def define_attribute(account_id: int, name: str, type_: str) -> Attribute:
    """Define an attribute explicitly (``POST /v1/custom-attributes``), within the cap."""

    def work(conn: psycopg.Connection) -> Attribute | None:
        if custom_data.room_for_definitions(conn, account_id) <= 0:
            if custom_attributes.types_of(conn, account_id, [name]):
                return None  # the name exists: a 409 says more than the cap
            raise exceptions.ValidationFailed(custom_data.cap_reached(), field="name")
        return custom_attributes.define(conn, account_id, name, type_, defined=custom_data.EXPLICIT)

    created = db.run_in_transaction(work)
    if created is None:
        raise exceptions.AlreadyExists(f"A custom attribute named {name!r} already exists.")
    return created


def list_attributes(
    account_id: int, after: str | None, limit: int
) -> tuple[list[Attribute], str | None]:
    start = _cursor_value(after, "name", str)
    rows = db.fetch(
        lambda conn: custom_attributes.list_attributes(conn, account_id, start, limit + 1)
    )
    return cursors.page(rows, limit, lambda a: {"name": a.name})


def _cursor_value(after: str | None, key: str, type_: type) -> Any:
    if after is None:
        return None
    value = cursors.decode(after).get(key)
    if not isinstance(value, type_) or isinstance(value, bool):
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after")
    return value


def _time_position(row: Event | MergeRecord) -> dict[str, Any]:
    return {"at": row.created_at.isoformat(), "id": row.id}


def _time_cursor(after: str | None) -> tuple[dt.datetime, int] | None:
    """The (created_at, id) a page of events or merges continues after."""
    at = _cursor_value(after, "at", str)
    if at is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError as exc:
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after") from exc
    if moment.tzinfo is None:
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after")
    return moment, _cursor_value(after, "id", int)
