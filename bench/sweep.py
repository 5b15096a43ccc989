"""The sweep at scale: a seeded database with planted duplicates, swept, timed, and scored.

    .venv/bin/python -m bench.sweep --profiles 1000000 --planted 0.05

Seeds its own database (``bench.seed`` with ``planted``: that share of the profiles are twins
of a person already written, on the same phone under a variant of the name — nickname,
initial, swapped order, a typo — that the write path never compared; households sharing a
phone under different given names are the seed's negatives), then runs the sweep of every
account in-process (``app.services.sweep``, the code `flask identity sweep` runs), twice.
Precision: of the pairs of profiles the sweep put in one person, the share that are planted
twins; recall: of the planted twins, the share now one person. Results land in
``bench/results/<time>-sweep.{md,json}``. Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.cli_identity import SWEEP_JOBS
from bench import seed as seeding

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 60.0


def sweep_all(url: str, jobs: int) -> list[dict[str, Any]]:
    """One sweep of every account, as `flask identity sweep --jobs JOBS` runs it."""
    from app import create_app
    from app import db as app_db
    from app.repositories import accounts as account_rows
    from app.services import sweep
    from app.services.context import Context, Settings

    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    runs = []
    with app.app_context():
        database = app_db.get_db()
        settings = Settings.from_config(app.config)
        for account in app_db.fetch(account_rows.list_accounts):
            ctx = Context(account.id, settings, request_id="bench-sweep", database=database)
            summary = sweep.sweep(ctx, jobs=jobs)
            runs.append({
                "account": account.name, "scanned": summary.scanned,
                "compared": summary.compared, "blocks": summary.blocks,
                "skipped_blocks": summary.skipped_blocks, "groups": len(summary.groups),
                "merges": summary.merges, "skipped_groups": summary.skipped_groups,
                "seconds": round(summary.seconds, 2),
            })  # fmt: skip
        database.close()
    return runs


def score(url: str, twins: list[tuple[int, int]]) -> dict[str, Any]:
    """Pairwise precision and recall of the people the sweep made, against the twins."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT coalesce(merged_into, id), array_agg(id) FROM profiles"
            " GROUP BY 1 HAVING count(*) > 1"
        ).fetchall()
    truth = {tuple(sorted(pair)) for pair in twins}
    merged = {pair for _, ids in rows for pair in combinations(sorted(ids), 2)}
    correct = len(merged & truth)
    return {
        "planted_pairs": len(truth),
        "merged_pairs": len(merged),
        "correct_pairs": correct,
        "precision": correct / len(merged) if merged else 1.0,
        "recall": correct / len(truth) if truth else 1.0,
    }


def report(result: dict[str, Any]) -> str:
    first, second, quality = result["first"], result["second"], result["quality"]
    seconds = sum(r["seconds"] for r in first)
    lines = [
        f"# Sweep at {result['profiles']:,} profiles ({result['started']})",
        "",
        f"Planted duplicates: {result['planted']:,} ({result['planted_share']:.1%} of the "
        f"profiles). Target: swept in under {TARGET_SECONDS:.0f} s. Merge transactions at "
        f"once (`--jobs`): {result.get('jobs', 1)}.",
        "",
        "| account | profiles scanned | sharing a phone | phones compared | groups | merges | "
        "groups changed meanwhile | seconds |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['account']} | {r['scanned']:,} | {r['compared']:,} | {r['blocks']:,} | "
            f"{r['groups']:,} | {r['merges']:,} | {r['skipped_groups']:,} | {r['seconds']} |"
            for r in first
        ),
        "",
        f"- first sweep: **{seconds:.1f} s** for every account "
        f"({'under' if seconds < TARGET_SECONDS else 'OVER'} the target)",
        f"- second sweep: {sum(r['merges'] for r in second):,} merges, "
        f"{sum(r['seconds'] for r in second):.1f} s",
        f"- precision {quality['precision']:.4f} ({quality['correct_pairs']:,} of "
        f"{quality['merged_pairs']:,} merged pairs planted), recall {quality['recall']:.4f} "
        f"({quality['correct_pairs']:,} of {quality['planted_pairs']:,} planted pairs found)",
        f"- seed: {result['seed_seconds']:.0f} s",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profiles", type=int, default=int(os.environ.get("BENCH_PROFILES", "1000000"))
    )
    parser.add_argument("--planted", type=float, default=0.05)
    default = os.environ.get("BENCH_DATABASE_URL", seeding.DEFAULT_URL)
    parser.add_argument("--database-url", default=default)
    parser.add_argument("--out", type=Path, default=Path("/tmp/contact-ingest-bench/sweep"))
    parser.add_argument(
        "--jobs", type=int, default=SWEEP_JOBS,
        help=f"merge transactions at once (default {SWEEP_JOBS}, `flask identity sweep`'s)",
    )  # fmt: skip
    parser.add_argument("--label", default="", help="added to the results' file names")
    args = parser.parse_args(argv)
    params = conninfo_to_dict(args.database_url)
    url = make_conninfo(args.database_url, dbname=f"{params.get('dbname', 'contacts')}_sweep")
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    seeding.recreate_database(url)
    try:
        seeded = seeding.seed(url, args.profiles, args.out, planted=args.planted)
        twins = [
            tuple(map(int, line.split("\t")))
            for line in Path(seeded.planted_file or "").read_text().splitlines()
        ]
        first = sweep_all(url, args.jobs)
        second = sweep_all(url, args.jobs)
        result = {
            "started": started, "profiles": args.profiles, "planted": len(twins),
            "planted_share": len(twins) / args.profiles, "first": first, "second": second,
            "quality": score(url, twins), "seed_seconds": seeded.seconds["total"],
            "time": time.time(), "jobs": args.jobs,
        }  # fmt: skip
    finally:
        seeding.drop_database(url)
    RESULTS.mkdir(exist_ok=True)
    name = f"{started}-sweep{'-' + args.label if args.label else ''}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    text = report(result)
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
