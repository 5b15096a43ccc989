"""Opaque keyset-pagination cursors: base64url-encoded JSON of the last row's sort key.

Opaque so that clients pass them back untouched, and the encoding can change without breaking
anyone; a cursor that does not decode is a 422 naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from app import exceptions


def encode(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, field: str = "after") -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise exceptions.ValidationFailed("Not a valid cursor.", field=field) from exc
    if not isinstance(position, dict) or not all(map(_storable, position.values())):
        raise exceptions.ValidationFailed("Not a valid cursor.", field=field)
    return position


def _storable(value: Any) -> bool:
    """Values PostgreSQL can compare: bigint-sized integers, text without NUL or surrogates."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, str):
        return "\x00" not in value and value.encode("utf-8", "ignore").decode() == value
    return isinstance(value, float)


def page(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """Cut one extra fetched row off ``rows``; the next cursor points after the last kept row."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(key(rows[-1]))


def value(after: str | None, key: str, type_: type) -> Any:
    """The ``key`` of the position ``after`` encodes (``None`` without a cursor); 422 if the
    cursor does not hold one of that type."""
    if after is None:
        return None
    found = decode(after).get(key)
    if not isinstance(found, type_) or isinstance(found, bool):
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after")
    return found


def time_position(created_at: dt.datetime, row_id: int) -> dict[str, Any]:
    """The position of a row in a newest-first list ordered by (creation time, id)."""
    return {"at": created_at.isoformat(), "id": row_id}


def time_key(after: str | None) -> tuple[dt.datetime, int] | None:
    """The (created_at, id) a newest-first page continues after."""
    at = value(after, "at", str)
    if at is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError as exc:
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after") from exc
    if moment.tzinfo is None:
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after")
    return moment, value(after, "id", int)
