"""Python steps of migrations: data changes that need the one text normalization (app/text.py)
and so cannot be written in SQL. ``step_NNNN(conn)`` runs right after ``NNNN_*.sql``, in its
transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
from psycopg.types.json import Jsonb

from app import text
from app.identity import blocking, names

FOLDED = ("name", "company", "city", "country_code", "region_code")
CHUNK = 1000


def _profile_chunks(conn: psycopg.Connection, columns: str) -> Iterator[list[tuple]]:
    """Every profile (tombstones too) as ``(account_id, id, *columns)`` rows, CHUNK at a time
    in key order: a backfill never holds the whole table in memory."""
    after = (0, 0)
    while True:
        rows = conn.execute(
            f"SELECT account_id, id, {columns} FROM profiles WHERE (account_id, id) > (%s, %s) "
            "ORDER BY account_id, id LIMIT %s",
            [*after, CHUNK],
        ).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][:2]


def step_0005(conn: psycopg.Connection) -> None:
    """Fill the folded copies of profile text columns; re-fold tag names, merging tags that
    only the old SQL ``lower()`` told apart (``Ärger``/``ärger``): the oldest keeps its id."""
    columns = ", ".join(FOLDED)
    for rows in _profile_chunks(conn, columns):
        folds = [[text.fold_or_none(row[2 + i]) for row in rows] for i in range(len(FOLDED))]
        sets = ", ".join(f"{c}_fold = f.{c}" for c in FOLDED)
        casts = ", ".join("%s::text[]" for _ in FOLDED)
        conn.execute(
            f"UPDATE profiles p SET {sets} FROM unnest(%s::bigint[], %s::bigint[], {casts}) "
            f"AS f(account_id, id, {columns}) WHERE p.account_id = f.account_id AND p.id = f.id",
            [[r[0] for r in rows], [r[1] for r in rows], *folds],
        )
    tags = conn.execute("SELECT account_id, id, name FROM tags ORDER BY account_id, id").fetchall()
    keep: dict[tuple[int, str], int] = {}
    for account_id, tag_id, name in tags:
        norm = text.fold(name)
        kept = keep.setdefault((account_id, norm), tag_id)
        if kept != tag_id:
            conn.execute(
                "INSERT INTO profile_tags (account_id, profile_id, tag_id) "
                "SELECT account_id, profile_id, %s FROM profile_tags "
                "WHERE account_id = %s AND tag_id = %s ON CONFLICT DO NOTHING",
                [kept, account_id, tag_id],
            )
            conn.execute("DELETE FROM tags WHERE account_id = %s AND id = %s", [account_id, tag_id])
    # Two passes, so that no intermediate state breaks the unique (account_id, name_norm).
    conn.execute("UPDATE tags SET name_norm = '#' || id")
    conn.execute(
        "UPDATE tags t SET name_norm = f.norm "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS f(account_id, id, norm) "
        "WHERE t.account_id = f.account_id AND t.id = f.id",
        [[a for a, _ in keep], list(keep.values()), [n for _, n in keep]],
    )


def step_0010(conn: psycopg.Connection) -> None:
    """Fill the name blocking keys of duplicate suggestions (app/identity/blocking.py) for every
    named profile, tombstones too (an unmerge revives them)."""
    for rows in _profile_chunks(conn, "name"):
        keys = [(a, i, blocking.profile_keys(n)) for a, i, n in rows if n is not None]
        conn.execute(
            "UPDATE profiles p SET name_key = f.name_key, name_keys = f.name_keys "
            "FROM jsonb_to_recordset(%s::jsonb) "
            "AS f(account_id bigint, id bigint, name_key text, name_keys text[]) "
            "WHERE p.account_id = f.account_id AND p.id = f.id",
            [Jsonb([{"account_id": a, "id": i, **k} for a, i, k in keys])],
        )


def step_0011(conn: psycopg.Connection) -> None:
    """Start each profile's name history (``names``) from its current name, normalized by the
    one name normalization (app/identity/names.py); tombstones too (an unmerge revives them)."""
    for rows in _profile_chunks(conn, "name"):
        named = [(a, i, names.normalize_name(n)) for a, i, n in rows]
        named = [row for row in named if row[2] is not None]
        conn.execute(
            "UPDATE profiles p SET names = ARRAY[f.name] "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS f(account_id, id, name) "
            "WHERE p.account_id = f.account_id AND p.id = f.id",
            [[r[0] for r in named], [r[1] for r in named], [r[2] for r in named]],
        )


def for_version(version: str) -> Callable[[psycopg.Connection], None] | None:
    return globals().get(f"step_{version}")
