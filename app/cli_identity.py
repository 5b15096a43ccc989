"""``flask --app app identity ...``: identity tools outside a request (the report today).

Each command builds a ``Context`` per account and runs the same use cases as the API.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app import db
from app.repositories import accounts as account_rows
from app.services import identity_report
from app.services.context import Context, Settings

identity_cli = AppGroup("identity", help="Identity resolution: the report of every account.")


def _accounts(name: str | None) -> list[account_rows.Account]:
    if name is None:
        return db.fetch(account_rows.list_accounts)
    found = db.fetch(lambda conn: account_rows.get_account_by_name(conn, name))
    if found is None:
        raise click.ClickException(f"no account named {name!r}")
    return [found]


def report(account_name: str | None, as_json: bool, days: int) -> None:
    """Print each account's identity health (``--json``: one JSON document on stdout)."""
    settings = Settings.from_config(current_app.config)
    reports = []
    for account in _accounts(account_name):
        ctx = Context(account.id, settings, database=db.get_db())
        stats = db.fetch(lambda conn, ctx=ctx: identity_report.identity_stats(conn, ctx, days))
        reports.append({"account": account.name, **stats})
    if as_json:
        click.echo(json.dumps({"accounts": reports}, indent=2))
        return
    for r in reports:
        click.echo(_text(r))


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items() if value) or "none"


def _text(r: dict[str, Any]) -> str:
    merges, phones = r["merges"], r["sharedPhones"]
    by_rule = {rule: c["count"] for rule, c in merges["byRule"].items() if rule != "unmerge"}
    undone = sum(c["undone"] for c in merges["byRule"].values())
    lines = [
        f"account {r['account']}",
        f"  profiles: {r['profiles']['live']:,} live, {r['profiles']['merged']:,} merged away",
        f"  merges, all time: {_counts(by_rule)} ({undone:,} undone by unmerge)",
        f"  merges, last {merges['days']} days (UTC):" + ("" if merges["daily"] else " none"),
        *(f"    {d['day']}  {_counts(d['byRule'])}" for d in merges["daily"]),
        f"  phones held by several live profiles: {phones['phones']:,} "
        f"({phones['profiles']:,} profiles; {phones['overLimit']:,} over the shared limit "
        f"of {phones['limit']})",
        f"  placeholder values stored: {_counts(r['placeholders'])}",
        f"  pairs known to be two people: {r['distinctPairs']:,}",
    ]
    return "\n".join(lines)
