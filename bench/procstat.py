"""What a run cost, read from /proc: CPU of gunicorn workers, of wrk/pgbench, of the database
backends, and each worker's peak RSS.

Workers are the children of a gunicorn master. gunicorn replaces a worker after
``max_requests`` (deploy/gunicorn.conf.py), so a sampler thread looks every quarter second and
keeps the last figures of every worker it saw. Peak RSS is ``VmHWM``, reset at the start of
each run by writing 5 to ``/proc/<pid>/clear_refs`` (Linux >= 4.0), so it is the run's peak.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _stat(int(entry))
                if stat and int(stat[1]) == pid:
                    found.append(int(entry))
        return found


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state on (the command may contain spaces)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of ``pid`` (all its threads), in seconds."""
    stat = _stat(pid)
    if stat is None:
        return None
    return (int(stat[11]) + int(stat[12])) / TICKS  # utime, stime (fields 14, 15)


def peak_rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss(pid: int) -> None:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Seen:
    start_cpu: float
    cpu: float
    peak_rss_kib: int = 0


@dataclass
class Sampler:
    """Samples the workers of ``masters`` and the processes ``extra()`` names, until stopped."""

    masters: dict[str, int]
    extra: Callable[[], Iterable[int]] = lambda: ()
    interval: float = 0.25
    workers: dict[str, dict[int, Seen]] = field(default_factory=dict)
    backends: dict[int, Seen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._busy0 = machine_busy()
        self._t0 = time.monotonic()
        for name, master in self.masters.items():
            self.workers[name] = {}
            for pid in children(master):
                reset_peak_rss(pid)
                cpu = cpu_seconds(pid)
                if cpu is not None:
                    self.workers[name][pid] = Seen(cpu, cpu)
        for pid in self.extra():
            cpu = cpu_seconds(pid)
            if cpu is not None:
                self.backends[pid] = Seen(cpu, cpu)
        self._thread.start()

    def _sample(self) -> None:
        for name, master in self.masters.items():
            for pid in children(master):
                cpu, rss = cpu_seconds(pid), peak_rss_kib(pid)
                if cpu is None:
                    continue
                seen = self.workers[name].setdefault(pid, Seen(0.0, cpu))
                seen.cpu = cpu
                seen.peak_rss_kib = max(seen.peak_rss_kib, rss or 0)
        for pid in self.extra():
            cpu = cpu_seconds(pid)
            if cpu is not None:
                self.backends.setdefault(pid, Seen(0.0, cpu)).cpu = cpu

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> dict:
        self._sample()
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self._t0
        busy1 = machine_busy()
        busy = (busy1[0] - self._busy0[0]) / max(busy1[1] - self._busy0[1], 1)
        workers = {
            name: [
                {
                    "pid": pid,
                    "cpu_share": round((s.cpu - s.start_cpu) / wall, 3),
                    "peak_rss_mb": round(s.peak_rss_kib / 1024, 1),
                }  # fmt: skip
                for pid, s in sorted(seen.items())
            ]
            for name, seen in self.workers.items()
        }
        db_cpu = sum(s.cpu - s.start_cpu for s in self.backends.values())
        return {
            "wall_s": round(wall, 2),
            "workers": workers,
            "db_cpu_share": round(db_cpu / wall, 3),
            "machine_busy_share": round(busy, 3),
        }
