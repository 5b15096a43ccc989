"""Listing and searching customers: filters, sorting, offset and keyset pagination.

The fields and operators a search accepts are declared once here; the API schema validates
against them and the repository turns them into one parameterized SQL statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app

from app import bounds, cursors, db, exceptions, identity, text
from app.identity import Kind
from app.repositories import customer_search, customers
from app.repositories.customers import Customer
from app.values import is_digits, parse_timestamp

# Field kinds and the operators each accepts.
OPERATORS = {
    "id": ("=", "!=", ">", "<", ">=", "<="),
    "date": ("=", "!=", ">", "<", ">=", "<="),
    "text": ("=", "!=", "~", "!~"),
    "identifier": ("=", "!=", "~", "!~"),
    "tags": ("=",),
}


@dataclass(frozen=True)
class Field:
    kind: str
    target: str  # a profiles column, or an identifier kind


FIELDS = {
    "customers.id": Field("id", "id"),
    "customers.name": Field("text", "name"),
    "customers.company": Field("text", "company"),
    "customers.countryCode": Field("text", "country_code"),
    "customers.city": Field("text", "city"),
    "customers.regionCode": Field("text", "region_code"),
    "customers.email": Field("identifier", Kind.EMAIL),
    "customers.phone": Field("identifier", Kind.PHONE),
    "customers.userId": Field("identifier", Kind.EXTERNAL_ID),
    "customers.tagsData": Field("tags", "tags"),
    "customers.firstSeen": Field("date", "first_seen"),
    "customers.lastSeen": Field("date", "last_seen"),
    "customers.createdAt": Field("date", "created_at"),
}
# `customer.` (singular) is what one published client sends.
SORTS = {
    f"{prefix}.{name}": column
    for prefix in ("customers", "customer")
    for name, column in (("firstSeen", "first_seen"), ("lastSeen", "last_seen"))
}


@dataclass(frozen=True)
class Condition:
    kind: str
    target: str
    operator: str
    value: Any


def coerce(field: Field, operator: str, value: Any) -> Any:
    """The value in the form SQL compares, or ValueError naming the expected type."""
    if field.kind in ("id", "date"):
        number = parse_timestamp(value) if field.kind == "date" else _integer(value)
        return dt.datetime.fromtimestamp(number, dt.UTC) if field.kind == "date" else number
    if field.kind == "tags":
        if (
            not isinstance(value, list)
            or not value
            or not all(
                isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"].strip()
                for t in value
            )
        ):
            raise ValueError("Must be a non-empty list of {name} objects.")
        if len(value) > bounds.MAX_FILTER_TAG_NAMES:
            raise ValueError(f"At most {bounds.MAX_FILTER_TAG_NAMES} tag names in one filter.")
        if any(len(t["name"]) > bounds.MAX_TAG_NAME_LENGTH for t in value):
            raise ValueError(f"Tag names have at most {bounds.MAX_TAG_NAME_LENGTH} characters.")
        return sorted({text.fold(t["name"]) for t in value})
    if not isinstance(value, str) or not value:
        raise ValueError("Must be a non-empty string.")
    if len(value) > bounds.MAX_FILTER_VALUE_LENGTH:
        raise ValueError(f"At most {bounds.MAX_FILTER_VALUE_LENGTH} characters.")
    if field.kind == "identifier" and operator in ("=", "!="):
        norm = identity.identifier(
            Kind(field.target), value, region=current_app.config["DEFAULT_PHONE_REGION"]
        ).norm
        return norm if norm is not None else value
    return value


def _integer(value: Any) -> int:
    if isinstance(value, str) and is_digits(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError("Must be an integer.")
    return value


def exact_filters(args: dict[str, Any]) -> list[Condition]:
    """The list endpoint's own exact filters: email, phone, userId, tag."""
    wanted = {"email": "customers.email", "phone": "customers.phone", "user_id": "customers.userId"}
    conditions = []
    for key, name in wanted.items():
        if key in args:
            field = FIELDS[name]
            conditions.append(
                Condition(field.kind, field.target, "=", coerce(field, "=", args[key]))
            )
    if "tag" in args:
        conditions.append(Condition("tags", "tags", "=", [text.fold(args["tag"])]))
    return conditions


def find(
    account_id: int,
    conditions: list[Condition],
    *,
    any_of: bool = False,
    sort: str | None = None,
    order: str = "asc",
    limit: int = 20,
    offset: int = 0,
    after: str | None = None,
) -> tuple[list[Customer], int, str | None]:
    """A page of customers, the total matching, and the cursor of the next page."""
    column = SORTS[sort] if sort else "id"
    descending = order.lower() == "desc"
    keyset = _keyset(after, column, descending)
    query = customer_search.Query(
        conditions=conditions, any_of=any_of, column=column, descending=descending,
        limit=limit + 1, offset=0 if keyset else offset, keyset=keyset,
    )  # fmt: skip

    def work(conn: Any) -> tuple[list[Customer], int, list[tuple[int, Any]]]:
        total, rows = customer_search.find_ids(conn, account_id, query)
        page = rows[:limit]
        return customers.load_customers(conn, account_id, [r[0] for r in page]), total, rows

    found, total, rows = db.fetch(work)
    next_cursor = None
    if len(rows) > limit:
        last_id, last_value = rows[limit - 1]
        value = last_value.isoformat() if isinstance(last_value, dt.datetime) else last_value
        next_cursor = cursors.encode({"c": column, "d": descending, "v": value, "id": last_id})
    return found, total, next_cursor


def _keyset(after: str | None, column: str, descending: bool) -> tuple[Any, int] | None:
    """The (sort value, id) to continue after; the cursor must come from the same sort."""
    if after is None:
        return None
    position = cursors.decode(after)
    last_id, value = position.get("id"), position.get("v")
    valid_id = isinstance(last_id, int) and not isinstance(last_id, bool) and last_id > 0
    if position.get("c") != column or position.get("d") is not descending or not valid_id:
        raise exceptions.ValidationFailed(
            "This cursor belongs to another sort or order.", field="after"
        )
    if column != "id" and value is not None:
        try:
            value = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise exceptions.ValidationFailed("Not a valid cursor.", field="after") from exc
    return value, last_id
