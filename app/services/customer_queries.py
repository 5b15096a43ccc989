"""Listing and searching customers: filters, sorting, offset and keyset pagination.

A search is a list of ``Condition``s on field kinds (id, date, text, identifier, tags) and
their targets (a profiles column or an identifier kind); the operators each kind accepts are
declared here, the public field names that stand for them in the HTTP layer. The repository
turns the conditions into one parameterized SQL statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from app import bounds, cursors, exceptions, identity, text
from app.identity import Kind
from app.repositories import customer_search, customers
from app.repositories.customers import Customer
from app.services.context import Context
from app.values import is_digits, parse_timestamp

# Field kinds and the operators each accepts.
OPERATORS = {
    "id": ("=", "!=", ">", "<", ">=", "<="),
    "date": ("=", "!=", ">", "<", ">=", "<="),
    "text": ("=", "!=", "~", "!~"),
    "identifier": ("=", "!=", "~", "!~"),
    "tags": ("=",),
}
# The columns a page can be sorted by (nulls last, then id).
SORT_COLUMNS = ("id", "first_seen", "last_seen")


@dataclass(frozen=True)
class Condition:
    """One filter: ``value`` as ``coerce`` returns it. An identifier compared with ``=`` or
    ``!=`` is normalized by ``find``, in the caller's phone region."""

    kind: str
    target: str  # a profiles column, or an identifier kind
    operator: str
    value: Any


def coerce(kind: str, operator: str, value: Any) -> Any:
    """The value in the form SQL compares, or ValueError naming the expected type."""
    if kind in ("id", "date"):
        number = parse_timestamp(value) if kind == "date" else _integer(value)
        return dt.datetime.fromtimestamp(number, dt.UTC) if kind == "date" else number
    if kind == "tags":
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
    return value


def _normalized(condition: Condition, region: str) -> Condition:
    """An identifier equality compares normalized forms; one that never matches keeps its
    value (and so matches nothing)."""
    if condition.kind != "identifier" or condition.operator not in ("=", "!="):
        return condition
    norm = identity.identifier(Kind(condition.target), condition.value, region=region).norm
    return replace(condition, value=norm) if norm is not None else condition


def _integer(value: Any) -> int:
    if isinstance(value, str) and is_digits(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError("Must be an integer.")
    return value


def find(
    conn: psycopg.Connection,
    ctx: Context,
    conditions: list[Condition],
    *,
    any_of: bool = False,
    sort_by: str = "id",
    order: str = "asc",
    limit: int = 20,
    offset: int = 0,
    after: str | None = None,
) -> tuple[list[Customer], int, str | None]:
    """A page of customers, the total matching, and the cursor of the next page."""
    if sort_by not in SORT_COLUMNS:
        raise ValueError(f"not a sort column: {sort_by!r}")
    descending = order.lower() == "desc"
    keyset, counted = _keyset(after, sort_by, descending)
    region = ctx.settings.region
    query = customer_search.Query(
        conditions=[_normalized(c, region) for c in conditions], any_of=any_of, column=sort_by,
        descending=descending, limit=limit + 1, offset=0 if keyset else offset, keyset=keyset,
        count=counted is None,
    )  # fmt: skip
    total, rows = customer_search.find_ids(conn, ctx.account_id, query)
    total = counted if total is None else total
    found = customers.load_customers(conn, ctx.account_id, [r[0] for r in rows[:limit]])
    next_cursor = None
    if len(rows) > limit:
        last_id, last_value = rows[limit - 1]
        value = last_value.isoformat() if isinstance(last_value, dt.datetime) else last_value
        # The total travels in the cursor: pages after the first repeat the count made when
        # the walk started instead of counting the whole account again.
        next_cursor = cursors.encode(
            {"c": sort_by, "d": descending, "v": value, "id": last_id, "t": total}
        )
    return found, total, next_cursor


def _keyset(
    after: str | None, column: str, descending: bool
) -> tuple[tuple[Any, int] | None, int | None]:
    """The (sort value, id) to continue after, and the total counted on the walk's first page
    (``None``: count again); the cursor must come from the same sort."""
    if after is None:
        return None, None
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
    total = position.get("t")
    valid_total = isinstance(total, int) and not isinstance(total, bool) and total >= 0
    return (value, last_id), total if valid_total else None
