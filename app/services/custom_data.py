"""Typed custom data: each property is a custom attribute of the account, and each value must
fit that attribute's type. A property used without a definition is defined on first use: by
its typed suffix, else by the JSON type of its first value (unless CUSTOM_ATTRIBUTES=strict)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg

from app import bounds, exceptions
from app.repositories import custom_attributes
from app.values import parse_timestamp

TYPES = ("string", "text", "number", "boolean", "date", "url")
# How an attribute came to be: POST /v1/custom-attributes, or first use in customData.
EXPLICIT, INFERRED = "explicit", "inferred"
MAX_TEXT = 1024
# `planNameStr`, `renewedAt`: a lower-case letter or digit, then a typed suffix.
_SUFFIX = re.compile(r"[a-z0-9](Str|Txt|Num|At|Bool|Url)$")
SUFFIX_TYPES = {
    "Str": "string", "Txt": "text", "Num": "number", "At": "date", "Bool": "boolean", "Url": "url",
}  # fmt: skip


def type_from_suffix(name: str) -> str | None:
    match = _SUFFIX.search(name)
    return SUFFIX_TYPES[match[1]] if match else None


def coerce(type_: str, value: Any) -> Any:
    """The stored form of ``value`` for an attribute of ``type_``; ValueError says why not."""
    if type_ in ("string", "text"):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValueError(f"Must be a string of at most {MAX_TEXT} characters.")
        return value
    if type_ == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            raise ValueError("Must be a finite number.")
        return value
    if type_ == "boolean":
        if not isinstance(value, bool):
            raise ValueError("Must be true or false.")
        return value
    if type_ == "date":
        return _date(value)
    if type_ == "url":
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("Must be an absolute http or https URL.")
        return value
    raise AssertionError(f"unknown attribute type {type_!r}")


def _finite(value: int | float) -> bool:
    """Within float range: jsonb numbers must stay readable by every client."""
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _date(value: Any) -> int:
    """UNIX timestamp (integer or digit string) or ISO 8601; stored as an integer timestamp."""
    try:
        return parse_timestamp(value)
    except ValueError:
        pass  # not a timestamp: maybe ISO 8601
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return int(parsed.timestamp())
    raise ValueError("Must be a UNIX timestamp (integer or string of digits) or ISO 8601 date.")


@dataclass
class Change:
    """What one write does to a customer's custom data."""

    set: dict[str, Any] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    clear: bool = False


def inferred_type(value: Any) -> str | None:
    """The attribute type a first value implies: JSON string, number or boolean."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None  # null defines nothing; objects and lists are refused


def resolve(
    conn: psycopg.Connection,
    account_id: int,
    writes: Sequence[list[dict[str, Any]] | None],
    prefixes: Sequence[str],
    *,
    infer: bool = True,
) -> list[Change]:
    """Check every write's ``customData`` items at once (a batch fails as a whole).

    ``writes[i]`` is the list of ``{property, value}`` items of write i (``None`` clears all);
    ``prefixes[i]`` starts its error paths (``"[3]."`` in a batch). Undefined properties are
    defined here, in the caller's transaction: by their typed suffix, else (``infer``) by the
    JSON type of their first value. With ``infer`` off (``CUSTOM_ATTRIBUTES=strict``) other
    undefined properties are a 422 ``unknown_attribute``.
    """
    items = [item for write in writes if write for item in write]
    names = list(dict.fromkeys(item["property"] for item in items))
    types = custom_attributes.types_of(conn, account_id, names) if names else {}
    new: dict[str, str] = {}
    for item in items:  # in write order: the first value decides
        name = item["property"]
        if name in types or name in new:
            continue
        type_ = type_from_suffix(name) or (inferred_type(item["value"]) if infer else None)
        if type_ is not None:
            new[name] = type_
    if new:
        _define_on_first_use(conn, account_id, new, types, writes, prefixes)
    problems: list[dict[str, str]] = []
    changes: list[Change] = []
    for write, prefix in zip(writes, prefixes, strict=True):
        change = Change(clear=write is None)
        for j, item in enumerate(write or []):
            name, value = item["property"], item["value"]
            path = f"{prefix}customData[{j}]"
            if value is None and (name in types or infer):
                change.remove.append(name)  # nothing to remove if it was never defined
                change.set.pop(name, None)
            elif isinstance(value, dict | list):
                message = "Must be a string, a number or a boolean (values are scalars)."
                problems.append(_problem("invalid_field", f"{path}.value", message))
            elif name not in types:
                message = f"No custom attribute named {name!r} is defined."
                problems.append(_problem("unknown_attribute", f"{path}.property", message))
            else:
                try:
                    change.set[name] = coerce(types[name], value)
                except ValueError as exc:
                    message = f"{name!r} is a {types[name]} attribute: {exc}"
                    problems.append(_problem("invalid_field", f"{path}.value", message))
        changes.append(change)
    if problems:
        raise exceptions.ValidationFailed(details=problems)
    return changes


def cap_reached() -> str:
    limit = bounds.MAX_CUSTOM_ATTRIBUTES_PER_ACCOUNT
    return f"The account has reached its limit of {limit} custom attributes."


def room_for_definitions(conn: psycopg.Connection, account_id: int) -> int:
    """How many more attributes the account may define, with its definitions locked until
    the transaction ends, so that concurrent writers cannot pass the cap together."""
    custom_attributes.lock_definitions(conn, account_id)
    return bounds.MAX_CUSTOM_ATTRIBUTES_PER_ACCOUNT - custom_attributes.count(conn, account_id)


def _define_on_first_use(
    conn: psycopg.Connection,
    account_id: int,
    new: dict[str, str],
    types: dict[str, str],
    writes: Sequence[list[dict[str, Any]] | None],
    prefixes: Sequence[str],
) -> None:
    """Define the ``new`` names (name -> type) as inferred, within the account's cap; a name
    another writer defined meanwhile keeps that writer's type. Names are defined in sorted
    order."""
    room = room_for_definitions(conn, account_id)
    types.update(custom_attributes.types_of(conn, account_id, list(new)))
    undefined = sorted(name for name in new if name not in types)
    if len(undefined) > room:
        over = set(undefined[max(room, 0) :])
        raise exceptions.ValidationFailed(
            details=[
                _problem("too_many_attributes", f"{prefix}customData[{j}].property", cap_reached())
                for write, prefix in zip(writes, prefixes, strict=True)
                for j, item in enumerate(write or [])
                if item["property"] in over
            ]
        )
    for name in undefined:
        custom_attributes.define(conn, account_id, name, new[name], defined=INFERRED)
        types[name] = new[name]


def _problem(code: str, field_path: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message, "field": field_path}
