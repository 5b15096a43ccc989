"""Events, tags and custom attributes: the small resources around customers."""

from __future__ import annotations

from typing import Any

import psycopg

from app import cursors, exceptions
from app.repositories import custom_attributes, events, merges, tags
from app.repositories.custom_attributes import Attribute
from app.repositories.events import Event
from app.repositories.merges import MergeRecord
from app.services import custom_data
from app.services.context import Context
from app.services.merges import live_id, lock_live


def add_event(
    conn: psycopg.Connection, ctx: Context, customer_id: int, name: str, data: dict[str, Any]
) -> Event:
    """Record an event on the customer (``POST /v1/events``); a write."""
    profile_id = lock_live(conn, ctx.account_id, customer_id)
    return events.insert_event(conn, ctx.account_id, profile_id, name, data)


def list_events(
    conn: psycopg.Connection, ctx: Context, customer_id: int, after: str | None, limit: int
) -> tuple[list[Event], str | None]:
    """A customer's events, newest first."""
    before = cursors.time_key(after)
    profile_id = live_id(conn, ctx.account_id, customer_id)
    rows = events.list_events(conn, ctx.account_id, profile_id, before, limit + 1)
    return cursors.page(rows, limit, _time_position)


def list_merges(
    conn: psycopg.Connection, ctx: Context, customer_id: int, after: str | None, limit: int
) -> tuple[list[MergeRecord], str | None]:
    """The person's merge history, newest first (``GET /v1/customers/{id}/merges``)."""
    before = cursors.time_key(after)
    person = live_id(conn, ctx.account_id, customer_id)
    rows = merges.list_merges(conn, ctx.account_id, person, before, limit + 1)
    return cursors.page(rows, limit, _time_position)


def list_tags(
    conn: psycopg.Connection, ctx: Context, after: str | None, limit: int
) -> tuple[list[dict], str | None]:
    """The account's tags with their colors, by name."""
    start = cursors.value(after, "name", str)
    rows = tags.list_tags(conn, ctx.account_id, start, limit + 1)
    rows, cursor = cursors.page(rows, limit, lambda r: {"name": r[2]})
    return [{"name": name, "color": color} for name, color, _ in rows], cursor


def define_attribute(conn: psycopg.Connection, ctx: Context, name: str, type_: str) -> Attribute:
    """Define an attribute explicitly (``POST /v1/custom-attributes``), within the cap; a
    write."""
    if custom_data.room_for_definitions(conn, ctx.account_id) <= 0:
        if custom_attributes.types_of(conn, ctx.account_id, [name]):
            raise _exists(name)  # the name exists: a 409 says more than the cap
        raise exceptions.ValidationFailed(custom_data.cap_reached(), field="name")
    created = custom_attributes.define(
        conn, ctx.account_id, name, type_, defined=custom_data.EXPLICIT
    )
    if created is None:
        raise _exists(name)
    return created


def _exists(name: str) -> exceptions.AlreadyExists:
    return exceptions.AlreadyExists(f"A custom attribute named {name!r} already exists.")


def list_attributes(
    conn: psycopg.Connection, ctx: Context, after: str | None, limit: int
) -> tuple[list[Attribute], str | None]:
    """The account's custom attributes, by name."""
    start = cursors.value(after, "name", str)
    rows = custom_attributes.list_attributes(conn, ctx.account_id, start, limit + 1)
    return cursors.page(rows, limit, lambda a: {"name": a.name})


def _time_position(row: Event | MergeRecord) -> dict[str, Any]:
    return cursors.time_position(row.created_at, row.id)
