"""`make bench` / `make bench-quick`: the service against its floor and pgbench, under wrk.

    .venv/bin/python -m bench.run           # 1M profiles (BENCH_PROFILES), growth at 10k, 100k
    .venv/bin/python -m bench.run --quick   # 10k profiles, c=8, 10 s a scenario

For each profile count: a fresh database (BENCH_DATABASE_URL, default contacts_bench on the
local server), seeded by bench/seed.py; the service started as `make serve` starts it
(``python -m app.serve``: deploy/gunicorn.conf.py, migrations first) with rate limits raised
by configuration; the floor (bench/floor/app.py) under the same gunicorn settings; then every
scenario at every concurrency, service, floor and pgbench runs alternating, repeated. wrk runs
with one connection per thread (-t N -c N) and Lua scripts that time every request themselves
(see bench/lua/common.lua). Results: bench/results/<UTC time>.json, then bench/report.py's
Markdown table and PNG plots beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from app import cursors
from bench import procstat, report, seed
from bench.floor import app as floor_app

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
CONF = ROOT / "deploy" / "gunicorn.conf.py"
RAISED_LIMIT = "1000000 per minute"
MAX_REQUESTS = [0]  # --max-requests


@dataclass(frozen=True)
class Variant:
    scenario: str
    name: str
    title: str
    lua: str
    data: str  # sample | list | pairs
    items: int = 1  # customers per request
    pgbench: str | None = None
    floor: bool = True  # the floor serves it too


VARIANTS = (
    Variant("1", "upsert", "partner upsert, half new", "upsert.lua", "sample", pgbench="upsert"),
    Variant("2", "batch", "batch update of 10", "batch.lua", "sample", 10, "batch"),
    Variant("3", "get", "GET /v1/customers/{id}", "get.lua", "sample", pgbench="get"),
    Variant("4", "email", "search by email", "search.lua", "sample", pgbench="search_email"),
    Variant("4", "userId", "search by userId", "search.lua", "sample", pgbench="search_user_id"),
    Variant("5", "offset", "list 100, deep offset", "list.lua", "list", pgbench="list_offset"),
    Variant("5", "cursor", "list 100, deep cursor", "list.lua", "list", pgbench="list_cursor"),
    Variant("6", "email", "create merging on email", "merge.lua", "pairs"),
    Variant("6", "phone", "create merging on phone+name", "merge.lua", "pairs"),
    Variant(
        "duplicates",
        "duplicates",
        "GET /v1/customers/{id}/duplicates",
        "duplicates.lua",
        "sample",
        floor=False,
    ),
)


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_pgbench() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise SystemExit("pgbench not found (PostgreSQL's client tools)")


# --- servers -----------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log_path: Path

    def master(self) -> int:
        """The gunicorn master: the process itself, or its child under app.serve."""
        if self.name == "service" and Path(ROOT / "app" / "serve.py").is_file():
            kids = procstat.children(self.process.pid)
            if kids:
                return kids[0]
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(url: str, port: int, workers: int, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS=str(threads), RATE_LIMIT_PARTNER_API=RAISED_LIMIT,
        RATE_LIMIT_CUSTOMERS_API=RAISED_LIMIT, RATELIMIT_STORAGE_URI="memory://",
        LOG_LEVEL="WARNING", GUNICORN_MAX_REQUESTS=str(MAX_REQUESTS[0]),
    )  # fmt: skip
    return env


def gunicorn_args(module: str, workers: int, threads: int, port: int) -> list[str]:
    if CONF.is_file():
        return [sys.executable, "-m", "gunicorn", "-c", str(CONF), module]
    return [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", module,
    ]  # fmt: skip


def start_servers(
    url: str, work: Path, workers: int, threads: int, ceiling: bool = False
) -> dict[str, Server]:
    """The service and the floor; with ``ceiling``, bench/ceiling.py (the service with its use
    cases answered from memory) too."""
    servers = {}
    for name in ("service", "floor", "ceiling") if ceiling else ("service", "floor"):
        port = free_port()
        env = server_env(url, port, workers, threads)
        if name == "service" and (ROOT / "app" / "serve.py").is_file():
            args = [sys.executable, "-m", "app.serve"]  # what `make serve` runs
        elif name == "service":
            subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                           cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
            args = gunicorn_args("app:create_app()", workers, threads, port)
        elif name == "ceiling":
            args = gunicorn_args("bench.ceiling:app", workers, threads, port)
        else:
            args = gunicorn_args("bench.floor.app:app", workers, threads, port)
        log_path = work / f"{name}.log"
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        servers[name] = Server(name, process, port, log_path)
    for server in servers.values():
        wait_ready(server)
    return servers


def wait_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited; see {server.log_path}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2)
            if len(procstat.children(server.master())) > 0:
                return
        except urllib.error.HTTPError:  # the floor has no /healthz: any answer is an answer
            return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer within {timeout:.0f} s; see {server.log_path}")


# --- one run -----------------------------------------------------------------------------


def percentiles(latencies_us: list[float]) -> dict[str, float]:
    if not latencies_us:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(latencies_us)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

    return {"p50": round(at(0.50), 3), "p95": round(at(0.95), 3), "p99": round(at(0.99), 3),
            "max": round(ordered[-1] / 1000, 3),
            "mean": round(statistics.fmean(ordered) / 1000, 3)}  # fmt: skip


def parse_wrk_out(path: Path) -> dict[str, Any]:
    latencies: list[float] = []
    codes: dict[str, int] = {}
    duration_us, errors = 0, [0, 0, 0, 0, 0]
    for line in path.read_text().splitlines():
        if line[:1].isdigit():
            latencies.append(float(line))
        elif line.startswith("code "):
            _, code, count = line.split()
            codes[code] = codes.get(code, 0) + int(count)
        elif line.startswith("duration_us "):
            duration_us = int(line.split()[1])
        elif line.startswith("errors "):
            errors = [int(v) for v in line.split()[1:]]
    return {"latencies": latencies, "codes": codes, "duration_s": duration_us / 1e6,
            "socket_errors": dict(zip(("connect", "read", "write", "timeout"), errors[:4],
                                      strict=True))}  # fmt: skip


def wait_with_rusage(process: subprocess.Popen, timeout: float) -> float:
    """Wait for ``process``; its user + system CPU seconds (from wait4)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        time.sleep(0.05)
    process.kill()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.url = args.database_url
        self.pgbench = find_pgbench()
        self.wrk = shutil.which("wrk") or "wrk"
        self.runs: list[dict[str, Any]] = []
        self.seeds: list[dict[str, Any]] = []
        self.run_counter = 0

    # data files of a seeded database
    def prepare(self, seeded: seed.SeedResult) -> None:
        self.seeded = seeded
        self.data = {"sample": seeded.sample_file, "list": str(self.work / "list.tsv")}
        large = seeded.large
        rng = random.Random(5)
        size = large.profiles
        lines = []
        for _ in range(5000):
            offset = rng.randrange(size // 2, size - 101)
            after = large.id_lo + offset - 1
            # A cursor as a walk from the first page carries it: with the total counted there.
            token = cursors.encode({"c": "id", "d": False, "v": after, "id": after, "t": size})
            lines.append(f"{offset}\t{token}\n")
        Path(self.data["list"]).write_text("".join(lines))
        self.pairs = {v: Path(p).read_text().splitlines(keepends=True)
                      for v, p in seeded.pairs_files.items()}  # fmt: skip
        self.pairs_used = {v: 0 for v in self.pairs}
        self.write_pgbench_scripts()

    def write_pgbench_scripts(self) -> None:
        """pgbench runs the floor's own statements (bench/floor/app.py STATEMENTS), their
        parameters drawn by pgbench or read from bench_sample in the same statement."""
        s = floor_app.STATEMENTS
        sample = "(SELECT {} FROM bench_sample WHERE n = :n)".format

        def fill(statement: str, **values: str) -> str:
            for name, value in values.items():
                statement = statement.replace(f"%({name})s", value)
            assert "%(" not in statement, statement
            return statement.strip() + ";\n"

        new_email = "'pgb.' || CAST(:k AS text) || '@example.org'"
        scripts = {
            "upsert": "\\set n random(1, :nsample)\n\\set k random(1, 1000000000000)\n"
            "\\set r random(0, 1)\n\\if :r = 1\n"
            + fill(s["upsert_contact"], account_id=":acct", email=sample("email_norm"),
                   name=sample("name"), external_id=sample("external_id"))
            + "\\else\n"
            + fill(s["upsert_contact"], account_id=":acct", email=new_email,
                   name=sample("name"), external_id="'pgb_' || CAST(:k AS text)")
            + "\\endif\n",
            "batch": "\\set n random(1, :nsample - 9)\n" + fill(
                s["update_batch"], account_id=":acct",
                ids="ARRAY(SELECT profile_id FROM bench_sample WHERE n BETWEEN :n AND :n + 9"
                " ORDER BY profile_id)",
                companies="ARRAY['Acme Corp', 'Globex', 'Initech', 'Hooli', 'Wonka', 'Acme Corp',"
                " 'Globex', 'Initech', 'Hooli', 'Wonka']",
                notes="array_fill('Batch pgbench'::text, ARRAY[10])",
                tags="""array_fill('[{"name": "vip"}, {"name": "EU"}]'::jsonb, ARRAY[10])""",
                custom_data="""array_fill('{"plan": "pro", "visitsNum": 42, "vipBool": false}'"""
                "::jsonb, ARRAY[10])",
            ),
            "get": "\\set id random(:lo, :hi)\n"
            + fill(s["get_customer"], account_id=":acct", id=":id"),
            "search_email": "\\set n random(1, :nsample)\n"
            + fill(s["find_by_email"], account_id=":acct", value=sample("email_norm")),
            "search_user_id": "\\set n random(1, :nsample)\n"
            + fill(s["find_by_external_id"], account_id=":acct",
                   value="(SELECT external_id FROM bench_sample WHERE n >= :n"
                   " AND external_id IS NOT NULL ORDER BY n LIMIT 1)"),
            "list_offset": "\\set off random(:deep_lo, :deep_hi)\n"
            + fill(s["list_customers"], account_id=":acct", after="0", limit="101",
                   offset=":off"),
            "list_cursor": "\\set after random(:lo + :deep_lo, :lo + :deep_hi)\n"
            + fill(s["list_customers"], account_id=":acct", after=":after", limit="101",
                   offset="0"),
        }  # fmt: skip
        for name, script in scripts.items():
            (self.work / f"pgbench-{name}.sql").write_text(script)

    def data_file(self, variant: Variant, target: str, repeat_key: tuple) -> str:
        if variant.data != "pairs":
            return self.data[variant.data]
        rows = self.pairs[variant.name]
        start = self.pairs_used[variant.name]
        window = rows[start:] or rows  # all pairs used: wraps (creates then only update)
        path = self.work / f"pairs-{variant.name}-{'-'.join(map(str, repeat_key))}.tsv"
        if not path.exists():
            path.write_text("".join(window))
        return str(path)

    def sampler(self, servers: dict[str, Server]) -> procstat.Sampler:
        conn = self.stats_conn

        def backends() -> list[int]:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            ).fetchall()
            return [r[0] for r in rows]

        return procstat.Sampler({n: s.master() for n, s in servers.items()}, backends)

    def db_counters(self) -> dict[str, int]:
        row = self.stats_conn.execute(
            "SELECT deadlocks, (SELECT count(*) FROM merges) FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
        return {"deadlocks": row[0], "merges": row[1]}

    def run_wrk(
        self,
        variant: Variant,
        target: str,
        servers: dict[str, Server],
        concurrency: int,
        duration: float,
        repeat_key: tuple,
    ) -> dict[str, Any]:
        self.run_counter += 1
        out = self.work / f"wrk-{self.run_counter}.txt"
        env = dict(os.environ)
        env.update(
            BENCH_KEY=self.seeded.large.key, BENCH_DATA=self.data_file(variant, target, repeat_key),
            BENCH_VARIANT=variant.name, BENCH_RUN=f"{os.getpid()}x{self.run_counter}",
            BENCH_OUT=str(out), BENCH_LUA_DIR=str(LUA), BENCH_THREADS=str(concurrency),
        )  # fmt: skip
        port = servers[target].port
        args = [self.wrk, "-t", str(concurrency), "-c", str(concurrency), "-d",
                f"{duration:g}s", "--timeout", "30s", "-s", str(LUA / variant.lua),
                f"http://127.0.0.1:{port}"]  # fmt: skip
        before = self.db_counters()
        sampler = self.sampler(servers)
        with (self.work / f"wrk-{self.run_counter}.stdout").open("wb") as stdout:
            process = subprocess.Popen(args, env=env, stdout=stdout, stderr=subprocess.STDOUT)
            tool_cpu = wait_with_rusage(process, duration + 60)
        usage = sampler.stop()
        after = self.db_counters()
        if process.returncode != 0 or not out.exists():
            raise SystemExit(f"wrk failed ({process.returncode}); see {out}.stdout")
        parsed = parse_wrk_out(out)
        requests = len(parsed["latencies"])
        non_2xx = sum(n for code, n in parsed["codes"].items() if not code.startswith("2"))
        if variant.data == "pairs" and target == "service":
            self.pairs_used[variant.name] += requests
        workers = usage["workers"][target]
        return {
            "requests": requests, "rps": round(requests / parsed["duration_s"], 1),
            "items_per_s": round(requests * variant.items / parsed["duration_s"], 1),
            "latency_ms": percentiles(parsed["latencies"]), "non_2xx": non_2xx,
            "codes": parsed["codes"], "socket_errors": parsed["socket_errors"],
            "tool_cpu_share": round(tool_cpu / parsed["duration_s"], 3),
            "workers": workers,
            "worker_cpu_share": round(sum(w["cpu_share"] for w in workers), 3),
            "peak_rss_mb": max((w["peak_rss_mb"] for w in workers), default=None),
            "workers_seen": len(workers),
            "db_cpu_share": usage["db_cpu_share"],
            "machine_busy_share": usage["machine_busy_share"],
            "deadlocks": after["deadlocks"] - before["deadlocks"],
            "merges": after["merges"] - before["merges"],
            "duration_s": round(parsed["duration_s"], 2),
        }  # fmt: skip

    def run_pgbench(self, variant: Variant, servers: dict[str, Server], concurrency: int,
                    duration: float) -> dict[str, Any]:  # fmt: skip
        self.run_counter += 1
        info = psycopg.conninfo.conninfo_to_dict(self.url)
        large = self.seeded.large
        size = large.profiles
        ordinary_hi = large.id_hi - 4 * self.seeded.pairs_per_variant
        prefix = self.work / f"pgb-{self.run_counter}"
        args = [
            self.pgbench, "-n", "-M", "prepared", "-c", str(concurrency), "-j", str(concurrency),
            "-T", str(max(1, round(duration))), "-f",
            str(self.work / f"pgbench-{variant.pgbench}.sql"), "-l", f"--log-prefix={prefix}",
            "-D", f"acct={large.id}", "-D", f"nsample={self.seeded.counts['bench_sample']}",
            "-D", f"lo={large.id_lo}", "-D", f"hi={ordinary_hi}",
            "-D", f"deep_lo={size // 2}", "-D", f"deep_hi={size - 101}",
            "-h", info.get("host", "127.0.0.1"), "-p", str(info.get("port", 5432)),
            "-U", info.get("user", "postgres"), info["dbname"],
        ]  # fmt: skip
        sampler = self.sampler(servers)
        before = self.db_counters()
        started = time.monotonic()
        stdout_path = self.work / f"pgb-{self.run_counter}.stdout"
        with stdout_path.open("wb") as stdout:
            process = subprocess.Popen(args, stdout=stdout, stderr=subprocess.STDOUT)
            tool_cpu = wait_with_rusage(process, duration + 60)
        wall = time.monotonic() - started
        usage = sampler.stop()
        after = self.db_counters()
        text = stdout_path.read_text()
        if process.returncode != 0:
            raise SystemExit(f"pgbench failed ({process.returncode}); see {stdout_path}")
        latencies = []
        for path in self.work.glob(f"pgb-{self.run_counter}.*"):
            if path.suffix == ".stdout":
                continue
            for line in path.read_text().splitlines():
                latencies.append(float(line.split()[2]))
            path.unlink()
        failed = 0
        for line in text.splitlines():
            if line.startswith("number of failed transactions:"):
                failed = int(line.split(":")[1].split()[0])
        duration_s = min(wall, max(1, round(duration)))
        return {
            "requests": len(latencies), "rps": round(len(latencies) / duration_s, 1),
            "items_per_s": round(len(latencies) * variant.items / duration_s, 1),
            "latency_ms": percentiles(latencies), "non_2xx": failed, "codes": {},
            "tool_cpu_share": round(tool_cpu / duration_s, 3), "workers": [],
            "worker_cpu_share": None, "peak_rss_mb": None, "workers_seen": 0,
            "db_cpu_share": usage["db_cpu_share"],
            "machine_busy_share": usage["machine_busy_share"],
            "deadlocks": after["deadlocks"] - before["deadlocks"], "merges": 0,
            "duration_s": round(duration_s, 2),
        }  # fmt: skip

    # one profile count
    def profile_count(self, profiles: int, concurrencies: list[int], scenarios: list[str]) -> None:
        log(f"seeding {profiles:,} profiles")
        seed.recreate_database(self.url)
        seeded = seed.seed(self.url, profiles, self.work / f"seed-{profiles}")
        log(f"seeded in {seeded.seconds['total']:.1f} s: {json.dumps(seeded.counts)}")
        self.seeds.append({"profiles": profiles, "seconds": seeded.seconds,
                           "counts": seeded.counts})  # fmt: skip
        self.prepare(seeded)
        self.stats_conn = psycopg.connect(self.url, autocommit=True)
        servers = start_servers(self.url, self.work, self.args.workers, self.args.threads,
                                ceiling="ceiling" in self.args.targets)  # fmt: skip
        try:
            log(", ".join(f"{name} on :{server.port}" for name, server in servers.items()))
            warm = next(v for v in VARIANTS if v.name == "get")
            for target in servers:  # pools, prepared statements, caches
                self.run_wrk(warm, target, servers, 8, 2, ("warm",))
            for concurrency in concurrencies:
                for scenario in scenarios:
                    variants = [v for v in VARIANTS if v.scenario == scenario]
                    duration = self.args.duration / len(variants)
                    pg_duration = self.args.pgbench_duration / len(variants)
                    for repeat in range(self.args.repeats):
                        for variant in variants:
                            for target in self.args.targets:
                                if target == "pgbench" and not variant.pgbench:
                                    continue
                                if target in ("floor", "ceiling") and not variant.floor:
                                    continue
                                key = (profiles, concurrency, repeat)
                                if target == "pgbench":
                                    result = self.run_pgbench(variant, servers, concurrency,
                                                              pg_duration)  # fmt: skip
                                else:
                                    result = self.run_wrk(variant, target, servers,
                                                          concurrency, duration, key)  # fmt: skip
                                result.update(
                                    profiles=profiles, scenario=variant.scenario,
                                    variant=variant.name, title=variant.title, target=target,
                                    concurrency=concurrency, repeat=repeat,
                                )  # fmt: skip
                                self.runs.append(result)
                                lat = result["latency_ms"]
                                log(f"{profiles:>9,} s{variant.scenario} {variant.name:<7}"
                                    f" c={concurrency:<2} {target:<8} {result['rps']:>8.1f}/s"
                                    f" p50 {lat['p50']} p99 {lat['p99']} max {lat['max']} ms"
                                    f" non-2xx {result['non_2xx']}")  # fmt: skip
        finally:
            for server in servers.values():
                server.stop()
            self.stats_conn.close()


def machine_info(url: str) -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    with psycopg.connect(url, autocommit=True) as conn:
        pg = conn.execute("SELECT version()").fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers',"
            " 'synchronous_commit', 'fsync', 'max_connections', 'work_mem')"
        ).fetchall())  # fmt: skip
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    debian = Path("/etc/debian_version")
    return {
        "cpu": model, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(), "os": ("Debian " + debian.read_text().strip())
        if debian.exists() else platform.platform(),
        "python": platform.python_version(), "postgresql": pg.split(" on ")[0],
        "postgresql_settings": settings,
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0],
    }  # fmt: skip


def gunicorn_settings(args: argparse.Namespace) -> dict[str, Any]:
    env = server_env("", 0, args.workers, args.threads)
    settings = {"workers": args.workers, "threads": args.threads, "worker_class": "gthread"}
    if CONF.is_file():
        settings["config"] = str(CONF.relative_to(ROOT))
        for name, default in (("GUNICORN_MAX_REQUESTS", "1000"), ("GUNICORN_KEEPALIVE", "5"),
                              ("GUNICORN_MAX_REQUESTS_JITTER", "100")):  # fmt: skip
            settings[name.removeprefix("GUNICORN_").lower()] = int(env.get(name) or default)
    settings["service_started_by"] = (
        "python -m app.serve (make serve)" if (ROOT / "app" / "serve.py").is_file()
        else "flask db upgrade + gunicorn"
    )  # fmt: skip
    settings["db_pool_max_size"] = int(os.environ.get("DB_POOL_MAX_SIZE") or 10)
    return settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ints = lambda s: [int(v) for v in s.split(",") if v]  # noqa: E731
    words = lambda s: [v for v in s.split(",") if v]  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add(
        "--profiles",
        type=int,
        help="profiles of the full matrix (default BENCH_PROFILES, else 1,000,000)",
    )
    add(
        "--growth",
        type=ints,
        help="smaller profile counts run for growth, scenarios 1-5 at"
        " --growth-concurrency (default 10000,100000)",
    )
    add("--growth-concurrency", type=int, default=8)
    add("--concurrency", type=ints, help="connections = wrk threads (default 1,8,32)")
    add(
        "--duration",
        type=float,
        help="seconds a scenario runs per target; its two variants share them (default 20)",
    )
    add("--pgbench-duration", type=float, help="the same for pgbench (default --duration)")
    add("--repeats", type=int, help="runs of each configuration; medians reported (default 3)")
    add("--scenarios", type=words, default=[*"123456", "duplicates"])
    add("--targets", type=words, default=["service", "floor", "pgbench"])
    add("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY") or 2))
    add("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS") or 4))
    add(
        "--max-requests",
        type=int,
        default=0,
        help="gunicorn max_requests of both servers"
        " (default 0, off: deploy/gunicorn.conf.py's 1000 would replace a worker every few"
        " seconds at these rates and measure its start instead of requests)",
    )
    add("--database-url", default=os.environ.get("BENCH_DATABASE_URL") or seed.DEFAULT_URL)
    add(
        "--quick",
        action="store_true",
        help="10k profiles, c=8, 10 s a scenario (pgbench 3 s), one repeat, no growth",
    )
    add("--keep", action="store_true", help="keep the database at the end")
    add("--label", default="", help="added to the results' file names")
    args = parser.parse_args(argv)
    defaults: dict[str, Any] = {
        "profiles": int(os.environ.get("BENCH_PROFILES") or 1_000_000),
        "growth": [10_000, 100_000], "concurrency": [1, 8, 32], "duration": 20.0, "repeats": 3,
    }  # fmt: skip
    if args.quick:
        defaults.update(profiles=10_000, growth=[], concurrency=[8], duration=10.0, repeats=1)
        defaults["pgbench_duration"] = 3.0
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.pgbench_duration is None:
        args.pgbench_duration = args.duration
    args.growth = [g for g in args.growth if g < args.profiles]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    MAX_REQUESTS[0] = args.max_requests
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ") + (
        f"-{args.label}" if args.label else ""
    )
    work = Path(os.environ.get("BENCH_WORK_DIR") or f"/tmp/contact-ingest-bench/{stamp}")
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    command = "make bench-quick" if args.quick else "make bench"
    if argv is not None or sys.argv[1:] not in ([], ["--quick"]):
        command = "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv)
    seed.recreate_database(args.database_url)
    bench = Bench(args, work)
    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command, "machine": machine_info(args.database_url),
        "gunicorn": gunicorn_settings(args),
        "settings": {k: v for k, v in vars(args).items() if k not in ("database_url",)},
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    try:
        growth_scenarios = [s for s in args.scenarios if s in "12345"]
        for profiles in args.growth:
            bench.profile_count(profiles, [args.growth_concurrency], growth_scenarios)
        bench.profile_count(args.profiles, args.concurrency, args.scenarios)
    finally:
        results.update(
            finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            elapsed_s=round(time.monotonic() - started, 1), seeds=bench.seeds, runs=bench.runs,
        )  # fmt: skip
        if bench.runs:
            path.write_text(json.dumps(results, indent=1) + "\n")
            log(f"results: {path.relative_to(ROOT)}")
        if not args.keep:
            seed.drop_database(args.database_url)
    if bench.runs:
        for written in report.write(path):
            log(f"report: {written.relative_to(ROOT)}")
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
