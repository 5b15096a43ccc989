"""``make run``: database, migrations, a fresh dev key, a banner, then a threaded dev server.

With no DATABASE_URL the embedded PostgreSQL under ``.data/`` is started (and stopped again on
Ctrl-C if this process started it). One process with threads keeps the in-memory rate-limit
counters exact.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, run_simple

from app import config, create_app, db, embedded_pg

DEV_ACCOUNT = "dev"
SAMPLE = '{"email": "alex.johnson@example.com", "name": "Alex Johnson", "external_id": "cust_001"}'


# A query string, up to the next space: list filters carry emails and phones.
QUERY = re.compile(r"\?\S*")


class RequestHandler(WSGIRequestHandler):
    """werkzeug's handler with a socket timeout and an access log without query strings.

    ``timeout`` (socketserver's StreamRequestHandler applies it to the connection in
    ``setup``) bounds every wait for request bytes, the headers' and the body's alike: a
    client that stalls mid-body gets a 408 instead of holding its thread forever.
    """

    timeout: float | None = None

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access line of werkzeug's: the app writes the request's line (app/logs.py)."""

    def log(self, type: str, message: str, *args: object) -> None:
        # Access lines ("GET /v1/customers?email=... HTTP/1.1") and error lines quoting the
        # request line alike: log the path only, which erasure need not reach.
        super().log(type, message, *(QUERY.sub("", a) if isinstance(a, str) else a for a in args))


def request_handler(timeout: float) -> type[RequestHandler]:
    """``RequestHandler`` with this read timeout, for ``run_simple(request_handler=...)``."""
    return type("RequestHandler", (RequestHandler,), {"timeout": timeout})


def banner(base_url: str, key: str, database: str) -> str:
    """What `make run` prints: the key, a curl line that works as pasted, the docs URL."""
    return "\n".join(
        [
            "",
            f"Contact ingestion API: {base_url}",
            f"Database: {database}",
            f"API key for account {DEV_ACCOUNT!r} (new on every start, shown only once):",
            f"  {key}",
            "",
            "Create a contact:",
            f"curl -sS -X POST {base_url}/api/v1/partner/contacts -H 'x-api-key: {key}'"
            f" -H 'Content-Type: application/json' -d '{SAMPLE}'",
            "",
            f"Docs: {base_url}/docs   (OpenAPI: {base_url}/openapi.json)",
            "Stop with Ctrl-C.",
            "",
        ]
    )


def bootstrap(app) -> str:
    """Apply migrations, make sure the dev account exists, and issue it a new key."""
    from app import cli
    from app.services import accounts

    with app.app_context():
        cli.upgrade()
        db.run_in_transaction(lambda conn: accounts.ensure_account(conn, DEV_ACCOUNT))
        return db.run_in_transaction(lambda conn: accounts.create_key(conn, DEV_ACCOUNT))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # SIGTERM (e.g. from a process manager) stops the server like Ctrl-C does; and Ctrl-C
    # works even when started from a shell that ignores SIGINT (a background job inherits
    # SIG_IGN, and Python then installs no KeyboardInterrupt handler).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    host = os.environ.get("HOST", "127.0.0.1")
    port = config.port()
    server = None
    url = os.environ.get("DATABASE_URL", "").strip()
    described = "DATABASE_URL"
    if not url:
        data_dir = Path(os.environ.get("EMBEDDED_PG_DIR") or db.DEFAULT_EMBEDDED_DIR)
        server = embedded_pg.EmbeddedPostgres(data_dir)
        try:
            url = server.ensure_running()
        except embedded_pg.EmbeddedUnavailable as exc:
            print(exc, file=sys.stderr)
            return 1
        described = f"embedded PostgreSQL in {data_dir}"
    try:
        app = create_app({"DATABASE_URL": url})
        key = bootstrap(app)
        print(banner(f"http://{host}:{port}", key, described), flush=True)
        handler = request_handler(app.config["BODY_READ_TIMEOUT_SECONDS"])
        run_simple(host, port, app, threaded=True, request_handler=handler)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (the terminal signals make and us alike) must not abort the stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if server is not None and server.started_here:
            print("Stopping the embedded PostgreSQL...", flush=True)
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
