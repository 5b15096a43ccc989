"""Customer search and listing as one parameterized SQL statement.

The statement is composed with ``psycopg.sql`` from the fixed fragments below; every value
travels as a bound parameter, and every column name comes from this module, never from input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from app import text

COLUMNS = {
    "id", "name", "company", "country_code", "city", "region_code", "first_seen", "last_seen",
    "created_at",
}  # fmt: skip
COMPARE = {"=": "=", "!=": "<>", ">": ">", "<": "<", ">=": ">=", "<=": "<="}

_IDENTIFIER = sql.SQL(
    "EXISTS (SELECT 1 FROM profile_identifiers i WHERE i.account_id = p.account_id"
    " AND i.profile_id = p.id AND i.kind = {kind} AND {test})"
)
_TAG = sql.SQL(
    "EXISTS (SELECT 1 FROM profile_tags pt JOIN tags t"
    " ON t.account_id = pt.account_id AND t.id = pt.tag_id"
    " WHERE pt.account_id = p.account_id AND pt.profile_id = p.id AND t.name_norm = {name})"
)
_STATEMENT = sql.SQL(
    "WITH matched AS NOT MATERIALIZED ("
    " SELECT p.id, p.{column} AS sort_value FROM profiles p"
    " WHERE p.account_id = {account_id} AND p.merged_into IS NULL AND ({where}))"
    " SELECT total.n, page.id, page.sort_value"
    " FROM ({total}) total"
    " LEFT JOIN LATERAL (SELECT id, sort_value FROM matched WHERE {keyset}"
    " ORDER BY sort_value {direction} NULLS LAST, id {direction}"
    " LIMIT {limit} OFFSET {offset}) page ON true"
)
# Without the count, `total` reads no row: a page costs what its rows cost.
_COUNT = sql.SQL("SELECT count(*) AS n FROM matched")
_NO_COUNT = sql.SQL("SELECT NULL::bigint AS n")


@dataclass(frozen=True)
class Query:
    conditions: list[Any]  # services.customer_queries.Condition
    any_of: bool = False
    column: str = "id"
    descending: bool = False
    limit: int = 21
    offset: int = 0
    keyset: tuple[Any, int] | None = None
    count: bool = True  # count every matching customer (the whole account, at worst)


@dataclass
class _Builder:
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def condition(self, cond: Any) -> sql.Composable:
        if cond.kind in ("id", "date", "text"):
            return self._column(cond)
        if cond.kind == "identifier":
            return self._identifier(cond)
        if cond.kind == "tags":
            return sql.SQL(" AND ").join(_TAG.format(name=self.param(name)) for name in cond.value)
        raise AssertionError(f"unknown condition kind {cond.kind!r}")

    def _column(self, cond: Any) -> sql.Composable:
        if cond.target not in COLUMNS:
            raise AssertionError(f"not a searchable column: {cond.target!r}")
        column = sql.SQL("p.{}").format(sql.Identifier(cond.target))
        if cond.kind == "date":  # compared to the second, as UNIX timestamps are
            column = sql.SQL("date_trunc('second', {})").format(column)
        if cond.kind == "text":
            folded = sql.SQL("p.{}").format(sql.Identifier(f"{cond.target}_fold"))
            return self._text(folded, cond.operator, cond.value)
        if cond.operator == "!=":
            test = sql.SQL("{} = {}").format(column, self.param(cond.value))
            return sql.SQL("({} IS NULL OR NOT {})").format(column, test)
        return sql.SQL("{} {} {}").format(
            column, sql.SQL(COMPARE[cond.operator]), self.param(cond.value)
        )

    def _text(self, folded: sql.Composable, operator: str, value: str) -> sql.Composable:
        """`=` is case-insensitive equality, `~` case-insensitive containment, both on the
        column's folded copy against the folded value; negations include empty fields."""
        if operator in ("=", "!="):
            test = sql.SQL("{} = {}").format(folded, self.param(text.fold(value)))
        else:
            test = sql.SQL("{} LIKE {}").format(folded, self.param(_contains(text.fold(value))))
        if operator in ("!=", "!~"):
            return sql.SQL("({} IS NULL OR NOT {})").format(folded, test)
        return test

    def _identifier(self, cond: Any) -> sql.Composable:
        """Every identifier a profile holds counts, not only the one shown."""
        if cond.operator in ("=", "!="):
            test = sql.SQL("i.value_norm = {}").format(self.param(cond.value))
        else:
            test = sql.SQL("i.value ILIKE {}").format(self.param(_contains(cond.value)))
        exists = _IDENTIFIER.format(kind=self.param(str(cond.target)), test=test)
        return sql.SQL("NOT {}").format(exists) if cond.operator in ("!=", "!~") else exists

    def keyset(self, query: Query) -> sql.Composable:
        """Rows after (sort value, id) in the page order, nulls last."""
        if query.keyset is None:
            return sql.SQL("true")
        value, last_id = query.keyset
        after = sql.SQL("<" if query.descending else ">")
        last = self.param(last_id)
        if query.column == "id":
            return sql.SQL("id {} {}").format(after, last)
        if value is None:
            return sql.SQL("(sort_value IS NULL AND id {} {})").format(after, last)
        v = self.param(value)
        return sql.SQL(
            "(sort_value {after} {v} OR (sort_value = {v} AND id {after} {last})"
            " OR sort_value IS NULL)"
        ).format(after=after, v=v, last=last)


def _contains(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_ids(
    conn: psycopg.Connection, account_id: int, query: Query
) -> tuple[int, list[tuple[int, Any]]]:
    """The number of matching customers (``None`` without ``query.count``) and one page of
    ``(id, sort value)``."""
    if query.column not in COLUMNS:
        raise AssertionError(f"not a sortable column: {query.column!r}")
    builder = _Builder()
    joiner = sql.SQL(" OR ") if query.any_of else sql.SQL(" AND ")
    parts = [sql.SQL("({})").format(builder.condition(c)) for c in query.conditions]
    statement = _STATEMENT.format(
        column=sql.Identifier(query.column),
        account_id=builder.param(account_id),
        where=joiner.join(parts) if parts else sql.SQL("true"),
        keyset=builder.keyset(query),
        direction=sql.SQL("DESC" if query.descending else "ASC"),
        limit=builder.param(query.limit),
        offset=builder.param(query.offset),
        total=_COUNT if query.count else _NO_COUNT,
    )
    rows = conn.execute(statement, builder.params).fetchall()
    total = rows[0][0] if rows else None
    return total, [(row[1], row[2]) for row in rows if row[1] is not None]
