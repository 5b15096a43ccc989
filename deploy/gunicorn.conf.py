"""gunicorn settings of the container (deploy/entrypoint.sh) and of `make serve` (app/serve.py).

    gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'

Every value comes from an environment variable, with defaults fit for a 2-core container. A
malformed value stops the start with one line naming the variable. gunicorn itself reads
WEB_CONCURRENCY while it imports, before this file, and fails on a malformed one with a
traceback: so both launchers run this file first (``python deploy/gunicorn.conf.py`` only
checks the environment) and gunicorn never sees a bad value.

No preload: each worker imports the app after fork and opens its own psycopg pool on first use
(a pool opened before fork would hand the workers shared, broken sockets).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def _fail(name: str, raw: str, expected: str) -> NoReturn:
    # SystemExit passes through gunicorn's config loader: the message is the only output.
    print(f"Environment variable {name}={raw!r} is not valid: {expected}", file=sys.stderr)
    raise SystemExit(64)


def _int(name: str, default: int, least: int, most: int | None = None) -> int:
    """The environment's whole number ``name`` (unset or empty: ``default``), range-checked."""
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    bound = f"from {least} to {most}" if most is not None else f"{least} or more"
    try:
        value = int(raw)
    except ValueError:
        _fail(name, raw, f"expected a whole number, {bound}")
    if value < least or (most is not None and value > most):
        _fail(name, raw, f"expected a whole number, {bound}")
    return value


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


# All interfaces in a container; `make serve` sets HOST=127.0.0.1 unless HOST is set.
_host = _str("HOST", "0.0.0.0")
_port = _int("PORT", 8000, 1, 65535)
bind = [f"[{_host}]:{_port}" if ":" in _host and not _host.startswith("[") else f"{_host}:{_port}"]

# Processes x threads: 2 x 4 requests at once on 2 cores. Each worker has its own pool of up to
# DB_POOL_MAX_SIZE connections (10): keep GUNICORN_THREADS at or below it, or threads queue for
# a connection (and answer 503 after DB_POOL_TIMEOUT).
workers = _int("WEB_CONCURRENCY", 2, 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4, 1)
preload_app = False

# A worker that stops sending heartbeats for this long is killed and replaced (gthread's main
# loop beats while its threads work, so this does not bound a request).
timeout = _int("GUNICORN_TIMEOUT", 30, 0)
# After SIGTERM, workers stop accepting and finish in-flight requests for up to this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, 0)
# Idle keep-alive connections wait in the worker's poller, not in a thread. Behind a gateway
# that reuses upstream connections, its idle timeout should be the shorter of the two.
keepalive = _int("GUNICORN_KEEPALIVE", 5, 0)
# Replace each worker after this many requests (plus up to the jitter, so that workers do not
# restart together): bounds slow leaks. 0 disables.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000, 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100, 0)

# The heartbeat file is touched every second: on tmpfs, not on the container's overlay disk.
_tmp = _str("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else "")
if _tmp and not os.path.isdir(_tmp):
    _fail("GUNICORN_WORKER_TMP_DIR", _tmp, "expected an existing directory")
worker_tmp_dir = _tmp or None  # None: the system's temporary directory

# The application's own settings too, here in the master: a malformed one stops the start in
# one line, instead of every worker failing to boot with a traceback.
# Kept: the hooks below read the settings they need from it (checked once, here).
_app_settings: dict = {}
try:
    from app import config as _config

    _app_settings = _config.load()
except ImportError:  # not beside the app: gunicorn itself reports what it cannot import
    pass
except SystemExit as _exc:  # app.config.ConfigError
    print(_exc, file=sys.stderr)
    raise SystemExit(64) from None

# No access log of gunicorn's: the app writes one line per request, JSON by default, naming
# the route template rather than the path and its query (app/logs.py).
accesslog = None


def _metrics_folder() -> None:
    """Prometheus multiprocess mode: every worker writes its values into one folder, which a
    scrape adds up. Set before the workers start (they inherit it); emptied of an earlier
    run's files."""
    if not _app_settings.get("METRICS_ENABLED", True):
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not folder:
        import atexit
        import tempfile

        folder = tempfile.mkdtemp(prefix="contact-ingest-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(_remove_in, os.getpid(), folder)  # ours: gone with the master
    os.makedirs(folder, exist_ok=True)
    for entry in os.scandir(folder):
        if entry.name.endswith(".db"):
            os.unlink(entry.path)


def _remove_in(master: int, folder: str) -> None:
    """At exit, in the master only: forked workers inherit this atexit handler, and a worker
    leaving first must not take the folder from the others still finishing requests."""
    if os.getpid() == master:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker) -> None:
    """A worker's live gauges (the pool's) stop counting when it exits."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# No runtime control socket (gunicorn >= 25.1; older versions ignore the name): nothing to
# manage at runtime, and no socket file in $XDG_RUNTIME_DIR or the home directory.
control_socket_disable = True


def on_starting(server) -> None:
    """In the master, once: metrics in multiprocess mode; a warning if rate limits would count
    per worker."""
    _metrics_folder()
    name = "RATELIMIT_STORAGE_URI"
    storage = _app_settings.get(name, "memory://")
    if storage.startswith("memory://") and server.cfg.workers > 1:
        server.log.warning(
            "%s is memory:// with %d workers: rate limits count per worker (an account may send "
            "up to %d times its limit) and restart with each replaced worker; set %s to a shared "
            "Redis (redis://host:6379/0) to count across workers",
            name,
            server.cfg.workers,
            server.cfg.workers,
            name,
        )
