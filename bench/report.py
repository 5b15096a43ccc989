"""bench/results/<run>.json -> <run>.md (tables) and <run>-throughput.png, <run>-latency.png.

    .venv/bin/python -m bench.report bench/results/2026-12-02T001500Z.json

Each figure is the median over a configuration's repeats (the machine drifts within a run);
non-2xx answers are summed, peak RSS is the highest of any worker. Per-worker CPU is shown for
the repeat with the median throughput. Latencies are the scripts' own per-request figures,
never wrk's coordinated-omission-corrected ones.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

TARGETS = ("service", "ceiling", "floor", "pgbench")
COLORS = {
    "service": "tab:red",
    "ceiling": "tab:orange",
    "floor": "tab:blue",
    "pgbench": "tab:green",
}


def _median(values: list[Any]) -> Any:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """Median figures per (profiles, scenario, variant, concurrency, target)."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        key = (run["profiles"], run["scenario"], run["variant"], run["concurrency"], run["target"])
        groups[key].append(run)
    summary = {}
    for key, group in groups.items():
        by_rps = sorted(group, key=lambda r: r["rps"])
        typical = by_rps[(len(by_rps) - 1) // 2]
        lat = {
            q: _median([r["latency_ms"][q] for r in group]) for q in ("p50", "p95", "p99", "max")
        }
        summary[key] = {
            "title": group[0]["title"], "repeats": len(group),
            "rps": _median([r["rps"] for r in group]),
            "items_per_s": _median([r["items_per_s"] for r in group]),
            **lat,
            "non_2xx": sum(r["non_2xx"] for r in group),
            "requests": sum(r["requests"] for r in group),
            "peak_rss_mb": max((r["peak_rss_mb"] for r in group if r["peak_rss_mb"]), default=None),
            "worker_cpu": [w["cpu_share"] for w in typical["workers"]],
            "workers_seen": max(r["workers_seen"] for r in group),
            "tool_cpu_share": _median([r["tool_cpu_share"] for r in group]),
            "db_cpu_share": _median([r["db_cpu_share"] for r in group]),
            "machine_busy_share": _median([r["machine_busy_share"] for r in group]),
            "merges": sum(r.get("merges", 0) for r in group),
            "deadlocks": sum(r.get("deadlocks", 0) for r in group),
        }  # fmt: skip
    return summary


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _order(key: tuple) -> tuple:
    return (key[0], key[1], key[2] != "upsert", key[2], key[3], TARGETS.index(key[4]))


def markdown(results: dict[str, Any], summary: dict[tuple, dict[str, Any]], stem: str) -> str:
    machine = results["machine"]
    gun = results["gunicorn"]
    largest = max(k[0] for k in summary)
    lines = [
        f"# Benchmark {stem}",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB,"
        f" {machine['os']}, Linux {machine['kernel']}; {machine['postgresql']} on the same"
        f" machine; Python {machine['python']}; {machine['wrk']}.",
        f"Service: {gun['service_started_by']}; floor: bench/floor/app.py; both gunicorn"
        f" {gun['workers']} workers x {gun['threads']} threads ({gun['worker_class']}"
        + (f", {gun['config']}, max_requests {gun.get('max_requests')}" if "config" in gun else "")
        + ").",
        f"Command: `{results['command']}` ({results['started']} – {results.get('finished')},"
        f" {results.get('elapsed_s', 0) / 60:.0f} min).",
        "",
        "## Seeding",
        "",
        "| profiles | total s | COPY s | indexes + VACUUM ANALYZE s | identifiers | tag links"
        " | events |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in results["seeds"]:
        sec, counts = s["seconds"], s["counts"]
        lines.append(
            f"| {s['profiles']:,} | {sec['total']:.1f} | {sec['copy']:.1f} |"
            f" {sec['indexes_vacuum_analyze']:.1f} | {counts['profile_identifiers']:,} |"
            f" {counts['profile_tags']:,} | {counts['events']:,} |"
        )
    lines += [
        "",
        f"## {largest:,} profiles",
        "",
        "Medians of the repeats. Latency in ms, timed per request by the wrk scripts (pgbench:"
        " its per-transaction log). CPU: share of one core (100% = one core busy) of each"
        " gunicorn worker, of wrk or pgbench, and of the database backends.",
        "",
        "| scenario | c | target | req/s | customers/s | p50 | p95 | p99 | max | non-2xx |"
        " peak RSS/worker MB | worker CPU | wrk/pgbench CPU | DB CPU |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for key in sorted((k for k in summary if k[0] == largest), key=_order):
        s = summary[key]
        _, scenario, variant, c, target = key
        cpu = " / ".join(_pct(v) for v in s["worker_cpu"]) or "–"
        if s["workers_seen"] > len(s["worker_cpu"]) or len(s["worker_cpu"]) > 2:
            cpu += f" ({s['workers_seen']} seen)"
        items = _f(s["items_per_s"]) if s["items_per_s"] != s["rps"] else ""
        lines.append(
            f"| {scenario} {s['title']} | {c} | {target} | {_f(s['rps'])} | {items} |"
            f" {_f(s['p50'], 2)} | {_f(s['p95'], 2)} | {_f(s['p99'], 2)} | {_f(s['max'], 1)} |"
            f" {s['non_2xx']} | {_f(s['peak_rss_mb'])} | {cpu} | {_pct(s['tool_cpu_share'])} |"
            f" {_pct(s['db_cpu_share'])} |"
        )
    merges = {k: s["merges"] for k, s in summary.items() if k[1] == "6" and k[4] == "service"}
    if merges:
        lines += ["", "Scenario 6, merges the service recorded (requests beyond the seeded"
                  " pairs only update): " + ", ".join(
                      f"{k[2]} c={k[3]}: {m:,} of {summary[k]['requests']:,} requests"
                      for k, m in sorted(merges.items()))]  # fmt: skip
    deadlocks = sum(s["deadlocks"] for s in summary.values())
    lines += ["", f"Deadlocks reported by PostgreSQL during the runs: {deadlocks}."]
    lines += [
        "",
        "## Ratios",
        "",
        "Throughput of the service as a share of the floor's and of pgbench's, and how many"
        " times the floor's median latency the service's is. The ceiling (when it ran:"
        " bench/ceiling.py, the service with its use cases answered from memory) bounds what"
        " any write path could give.",
        "",
        "| profiles | scenario | c | service/floor req/s | service/pgbench req/s |"
        " floor/pgbench req/s | service/floor p50 | ceiling/floor req/s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted({k[:4] for k in summary}, key=lambda k: _order((*k, "service"))):
        service = summary.get((*key, "service"))
        floor = summary.get((*key, "floor"))
        pgbench = summary.get((*key, "pgbench"))
        ceiling = summary.get((*key, "ceiling"))
        if not service:
            continue

        def ratio(a: Any, b: Any, field: str) -> str:
            if not a or not b or not a[field] or not b[field]:
                return "–"
            return f"{a[field] / b[field]:.2f}"

        lines.append(
            f"| {key[0]:,} | {key[1]} {service['title']} | {key[3]} |"
            f" {ratio(service, floor, 'rps')} | {ratio(service, pgbench, 'rps')} |"
            f" {ratio(floor, pgbench, 'rps')} | {ratio(service, floor, 'p50')} |"
            f" {ratio(ceiling, floor, 'rps')} |"
        )
    counts = sorted({k[0] for k in summary})
    if len(counts) > 1:
        lines += ["", "## Growth (p50 / p99 ms)", "",
                  "| scenario | c | target | " + " | ".join(f"{n:,}" for n in counts) + " |",
                  "|---|---:|---|" + "---:|" * len(counts)]  # fmt: skip
        growth_c = results["settings"].get("growth_concurrency", 8)
        for key in sorted(
            {k[1:] for k in summary if k[3] == growth_c}, key=lambda k: _order((0, *k))
        ):
            cells = []
            for n in counts:
                s = summary.get((n, *key))
                cells.append(f"{_f(s['p50'], 2)} / {_f(s['p99'], 2)}" if s else "–")
            title = next(s["title"] for k, s in summary.items() if k[1:] == key)
            lines.append(f"| {key[0]} {title} | {key[2]} | {key[3]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plots(summary: dict[tuple, dict[str, Any]], prefix: Path, growth_c: int) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    largest = max(k[0] for k in summary)
    variants = sorted({k[1:3] for k in summary}, key=lambda v: _order((0, *v, 0, "service")))
    titles = {k[1:3]: s["title"] for k, s in summary.items()}

    cols = 3
    rows = (len(variants) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, variant in zip(axes.flat, variants, strict=False):
        for target in TARGETS:
            points = sorted(
                (k[3], s["rps"]) for k, s in summary.items()
                if k[0] == largest and k[1:3] == variant and k[4] == target
            )  # fmt: skip
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=target, color=COLORS[target])
        ax.set_title(f"{variant[0]} {titles[variant]}", fontsize=9)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("concurrency (connections)", fontsize=8)
        ax.set_ylabel("requests/s", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.flat[len(variants) :]:
        ax.axis("off")
    fig.suptitle(f"Throughput against concurrency, {largest:,} profiles (median of repeats)")
    fig.tight_layout()
    path = prefix.with_name(prefix.name + "-throughput.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    growth = [v for v in variants if v[0] in "12345"]
    counts = sorted({k[0] for k in summary})
    if growth and len(counts) > 1:  # one profile count: nothing grows
        rows = (len(growth) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
        for ax, variant in zip(axes.flat, growth, strict=False):
            for target in TARGETS:
                for q, style in (("p50", "-"), ("p99", "--")):
                    points = sorted(
                        (k[0], s[q]) for k, s in summary.items()
                        if k[1:3] == variant and k[3] == growth_c and k[4] == target and s[q]
                    )  # fmt: skip
                    if points:
                        ax.plot(*zip(*points, strict=True), style, marker="o",
                                color=COLORS[target], label=f"{target} {q}")  # fmt: skip
            ax.set_title(f"{variant[0]} {titles[variant]}", fontsize=9)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(counts, [f"{n:,}" for n in counts], fontsize=7)
            ax.set_xlabel("profiles", fontsize=8)
            ax.set_ylabel("ms", fontsize=8)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6)
        for ax in axes.flat[len(growth) :]:
            ax.axis("off")
        fig.suptitle(f"p50 (solid) and p99 (dashed) against profile count, c={growth_c}")
        fig.tight_layout()
        path = prefix.with_name(prefix.name + "-latency.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def write(path: Path) -> list[Path]:
    import json

    results = json.loads(path.read_text())
    summary = summarize(results["runs"])
    md = path.with_suffix(".md")
    md.write_text(markdown(results, summary, path.stem))
    growth_c = results["settings"].get("growth_concurrency", 8)
    if len({k[3] for k in summary}) == 1:
        growth_c = next(iter(summary))[3]
    return [md, *plots(summary, path.with_suffix(""), growth_c)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    for written in write(parser.parse_args().results):
        print(written)


if __name__ == "__main__":
    main()
