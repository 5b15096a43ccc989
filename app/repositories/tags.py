"""Account tags (name + color) and the tags of each customer."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app.sql import queries

q = queries("tags")
DEFAULT_COLOR = "#c377e0"


def ensure_tags(
    conn: psycopg.Connection, account_id: int, tags: Sequence[tuple[str, str | None]]
) -> list[int]:
    """Ids of the named tags, creating missing ones; a given color recolors an existing tag."""
    latest: dict[str, tuple[str, str | None]] = {}
    for name, color in tags:  # one entry per name; the last color given wins
        previous = latest.get(name.lower())
        latest[name.lower()] = (previous[0] if previous else name, color)
    if not latest:
        return []
    params = {
        "account_id": account_id,
        "names": [name for name, _ in latest.values()],
        "colors": [color for _, color in latest.values()],
        "default_color": DEFAULT_COLOR,
        "names_norm": list(latest),
    }
    conn.execute(q["recolor_tags"], params)
    conn.execute(q["insert_tags"], params)
    return [row[0] for row in conn.execute(q["tag_ids"], params)]


def attach(conn: psycopg.Connection, account_id: int, profile_id: int, tag_ids: list[int]) -> None:
    params = {"account_id": account_id, "profile_id": profile_id, "tag_ids": tag_ids}
    conn.execute(q["attach_tags"], params)


def set_exactly(
    conn: psycopg.Connection, account_id: int, profile_id: int, tag_ids: list[int]
) -> None:
    params = {"account_id": account_id, "profile_id": profile_id, "tag_ids": tag_ids}
    conn.execute(q["detach_tags_except"], params)
    conn.execute(q["attach_tags"], params)


def detach_named(
    conn: psycopg.Connection, account_id: int, profile_id: int, names: list[str]
) -> None:
    params = {
        "account_id": account_id,
        "profile_id": profile_id,
        "names_norm": [n.lower() for n in names],
    }
    conn.execute(q["detach_tags_named"], params)


def list_tags(
    conn: psycopg.Connection, account_id: int, after: str | None, limit: int
) -> list[tuple[str, str, str]]:
    """``(name, color, name_norm)`` rows after the cursor ``after`` (a normalized name)."""
    params = {"account_id": account_id, "after": after, "limit": limit}
    return conn.execute(q["list_tags"], params).fetchall()
