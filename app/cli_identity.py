"""``flask --app app identity ...``: identity tools outside a request (report, sweep).

Each command builds a ``Context`` per account and runs the same use cases as the API. Output
goes to stdout; the sweep's progress goes to stderr (a bar on a terminal, plain lines
otherwise), so that stdout carries only the listing and the summary.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app import db, metrics
from app.repositories import accounts as account_rows
from app.services import identity_report, sweep
from app.services.context import Context, Settings

identity_cli = AppGroup("identity", help="Identity resolution: report, sweep.")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Merge transactions a sweep runs at once: two keep both cores busy (the sweep alone alternates
# between Python and PostgreSQL, each idle half the time) and leave the API its connections.
SWEEP_JOBS = 2
MAX_SWEEP_JOBS = 8


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


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``3h``, ``1d`` (or a sum such as ``1h30m``) -> seconds; at least 1 s."""
    parts = re.findall(r"(\d+)([smhd])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise click.BadParameter(f"{text!r} is not a duration such as 90s, 30m, 3h or 1d")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds < 1:
        raise click.BadParameter("the duration must be at least 1s")
    return float(seconds)


def sweep_accounts(account_name: str | None, dry_run: bool, jobs: int = SWEEP_JOBS) -> None:
    """One sweep of each account (or the one named): listing (dry run) and summary."""
    settings = Settings.from_config(current_app.config)
    for account in _accounts(account_name):
        ctx = Context(account.id, settings, request_id=f"sweep-{int(time.time())}",
                      database=db.get_db())  # fmt: skip
        summary = sweep.sweep(ctx, dry_run=dry_run, jobs=jobs, progress=_progress(account.name))
        if not dry_run:
            _count(summary)
        if dry_run:
            for group in summary.groups:
                click.echo(f"would merge {_group_text(group)}")
        click.echo(_summary_text(account.name, summary, dry_run))


def _count(s: sweep.Summary) -> None:
    """The sweep's progress in metrics (exported with the web tier's when this process shares
    its PROMETHEUS_MULTIPROC_DIR)."""
    metrics.SWEEP.labels("accounts").inc()
    metrics.SWEEP.labels("profiles_scanned").inc(s.scanned)
    metrics.SWEEP.labels("groups_found").inc(len(s.groups))
    metrics.SWEEP.labels("merges").inc(s.merges)


def _group_text(group: Any) -> str:
    scores = ", ".join(f"{link.a}~{link.b} {link.score:.1f}" for link in group.links)
    return f"customers {', '.join(map(str, group.members))} (phone + name: {scores})"


def _summary_text(name: str, s: sweep.Summary, dry_run: bool) -> str:
    done = (f"{sum(len(g.members) - 1 for g in s.groups):,} merges to do" if dry_run
            else f"{s.merges:,} merges done")  # fmt: skip
    skipped = (
        f", {s.skipped_groups:,} groups changed meanwhile (next run)" if s.skipped_groups else ""
    )
    if s.unfinished:
        skipped += f", stopped after {sweep.MAX_PASSES} passes (a next run may merge more)"
    return (
        f"account {name}: {s.scanned:,} profiles scanned, {s.compared:,} sharing a phone "
        f"({s.blocks:,} phones compared, {s.skipped_blocks:,} shared too widely), "
        f"{len(s.groups):,} groups found, {done}{skipped}, {s.seconds:.1f} s"
    )


def _progress(name: str) -> Callable[[int, int], None]:
    """Progress on stderr: a bar on a terminal, a line per tenth otherwise."""
    terminal = sys.stderr.isatty()
    state = {"shown": -1}

    def show(done: int, total: int) -> None:
        if terminal:
            width = 30
            filled = width * done // max(total, 1)
            click.echo(f"\r{name} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} groups",
                       nl=done >= total, err=True)  # fmt: skip
            return
        tenth = 10 * done // max(total, 1)
        if tenth > state["shown"] or done >= total:
            state["shown"] = tenth
            click.echo(f"{name}: merged {done:,} of {total:,} groups", err=True)

    return show


def repeat(run: Callable[[], None], every: float | None, wait: Callable[[float], None]) -> None:
    """``run`` once, or forever with ``every`` seconds between the end of one run and the start
    of the next (Ctrl-C or SIGTERM stops it between or inside runs: each batch is its own
    transaction)."""
    while True:
        run()
        if every is None:
            return
        wait(every)
