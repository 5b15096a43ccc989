"""Account tags (name + color) and the tags of each customer."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from app import text
from app.sql import queries

q = queries("tags")
DEFAULT_COLOR = "#c377e0"


def ensure_tags(
    conn: psycopg.Connection, account_id: int, tags: Sequence[tuple[str, str | None]]
) -> list[int]:
    """Ids of the named tags, creating missing ones; a given color recolors an existing tag."""
    [norms] = ensure_tag_lists(conn, account_id, [tags])
    if not norms:
        return []
    params = {"account_id": account_id, "names_norm": norms}
    ids = dict(conn.execute(q["tag_ids"], params).fetchall())
    return [ids[norm] for norm in norms if norm in ids]


def ensure_tag_lists(
    conn: psycopg.Connection, account_id: int, lists: Sequence[Sequence[tuple[str, str | None]]]
) -> list[list[str]]:
    """``ensure_tags`` for several writes of one transaction at once (a batch), as if applied
    one after the other; the normalized names each write names, by write (writes link tags
    by normalized name, in the statement that follows).

    Tag rows are written in one pass, in the order of their normalized names: every writer
    takes its tag row locks in that one order, and only once per transaction, so writers
    sharing tags never wait on each other in a cycle. Nothing is read back: one statement,
    two when a color is sent.
    """
    writes = [_latest(tags) for tags in lists]
    combined: dict[str, tuple[str, str | None]] = {}
    for latest in writes:  # the first spelling stays; a later color wins, no color keeps it
        for norm, (name, color) in latest.items():
            previous = combined.get(norm)
            if previous is not None:
                combined[norm] = (previous[0], previous[1] if color is None else color)
            else:
                combined[norm] = (name, color)
    if combined:
        ordered = sorted(combined)  # the lock order
        params = {
            "account_id": account_id,
            "names": [combined[norm][0] for norm in ordered],
            "colors": [combined[norm][1] for norm in ordered],
            "default_color": DEFAULT_COLOR,
            "names_norm": ordered,
        }
        # Insert first, then recolor: a recolor's row locks must not be held while inserting
        # (an insert waits for a concurrent recolor of the same name).
        conn.execute(q["insert_tags"], params)
        if any(color is not None for _, color in combined.values()):
            conn.execute(q["recolor_tags"], params)
    return [list(latest) for latest in writes]


def _latest(tags: Sequence[tuple[str, str | None]]) -> dict[str, tuple[str, str | None]]:
    """One entry per normalized name: the spelling given first, the last color given."""
    latest: dict[str, tuple[str, str | None]] = {}
    for name, color in tags:
        norm = text.fold(name)  # trimmed and case-folded, in Python (app/text.py)
        previous = latest.get(norm)
        latest[norm] = (previous[0] if previous else name.strip(), color)
    return latest


def attach(conn: psycopg.Connection, account_id: int, profile_id: int, tag_ids: list[int]) -> None:
    params = {"account_id": account_id, "profile_id": profile_id, "tag_ids": tag_ids}
    conn.execute(q["attach_tags"], params)


def detach_named(
    conn: psycopg.Connection, account_id: int, profile_id: int, names: list[str]
) -> None:
    params = {
        "account_id": account_id,
        "profile_id": profile_id,
        "names_norm": [text.fold(n) for n in names],
    }
    conn.execute(q["detach_tags_named"], params)


def list_tags(
    conn: psycopg.Connection, account_id: int, after: str | None, limit: int
) -> list[tuple[str, str, str]]:
    """``(name, color, name_norm)`` rows after the cursor ``after`` (a normalized name)."""
    params = {"account_id": account_id, "after": after, "limit": limit}
    return conn.execute(q["list_tags"], params).fetchall()
