"""The account's identity health: how many people, how they were merged, and what the rules
left alone (phones shared by several profiles, placeholder values). One use case serves
``GET /v1/identity/stats`` and ``flask identity report``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from app.repositories import identity_stats as repo
from app.services.context import Context

MAX_DAYS = 366
RULES = ("external_id", "email", "phone_name", "manual", "unmerge")


def identity_stats(
    conn: psycopg.Connection, ctx: Context, days: int = 30, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The report as plain data (JSON-ready): profiles, merges by rule (all time and per day
    over the last ``days`` days, UTC), shared phones, placeholders, distinct pairs."""
    now = now or dt.datetime.now(dt.UTC)
    first_day = (now - dt.timedelta(days=days - 1)).date()
    since = dt.datetime.combine(first_day, dt.time(), dt.UTC)
    live, merged = repo.profiles(conn, ctx.account_id)
    totals = {rule: {"count": 0, "undone": 0} for rule in RULES}
    per_day: dict[dt.date, dict[str, int]] = {}
    for rule, day, count, undone in repo.merges_by_rule(conn, ctx.account_id, since):
        if day is None:
            totals[rule] = {"count": count, "undone": undone}
        else:
            per_day.setdefault(day, {})[rule] = count
    shared, over_limit, holders = repo.shared_phones(
        conn, ctx.account_id, ctx.settings.shared_limit
    )
    return {
        "profiles": {"live": live, "merged": merged},
        "merges": {
            "byRule": totals,
            "days": days,
            "daily": [{"day": day.isoformat(), "byRule": per_day[day]} for day in sorted(per_day)],
        },
        "sharedPhones": {
            "phones": shared,
            "profiles": holders,
            "overLimit": over_limit,
            "limit": ctx.settings.shared_limit,
        },
        "placeholders": repo.placeholders(conn, ctx.account_id),
        "distinctPairs": repo.distinct_pairs(conn, ctx.account_id),
    }
