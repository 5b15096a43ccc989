"""Logs: one line per request, and every application log line in the same shape, on stderr.

``LOG_FORMAT=json`` (the default) writes one JSON object a line (python-json-logger), for a log
pipeline behind the gateway; ``text`` a plain line for local work. Every line carries the
request id of the request it was written in (``null`` outside one), so a client's report of a
failed call leads to all of its lines.

The request line names the route template (``/v1/customers/<customer_id>``), never the path or
its query: list filters and ids in paths would put emails and phone numbers in the logs, which
erasure cannot reach. Nothing here logs keys, emails, phones or names; the account appears by
its public id.
"""

from __future__ import annotations

import logging
import sys
import time

from pythonjsonlogger.orjson import OrjsonFormatter

from flask import Flask, Response, g, has_request_context, request

ACCESS = logging.getLogger("app.access")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# The fields of a request line, in order.
REQUEST_FIELDS = ("method", "route", "status", "latency_ms", "account", "bytes", "client")


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is now (test runners swap it)."""

    marker = "contact-ingest"

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Attach the current request's id to every record (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    return OrjsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        timestamp="time",
    )


def configure(level: str, fmt: str) -> None:
    """Route the root logger to stderr in ``fmt``; safe to call again (one handler of ours)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "marker", None) == _Stderr.marker]:
        root.removeHandler(handler)
    handler = _Stderr()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)


def _start() -> None:
    g.started = time.perf_counter()


def _request_line(response: Response) -> Response:
    """The request's one line: route template, status, latency, account, bytes, client."""
    started = g.get("started")
    account = g.get("account")
    rule = request.url_rule
    fields = {
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "status": response.status_code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "account": str(account.public_id) if account is not None else None,
        "bytes": response.content_length,
        # The client's address as the gateway saw it (from a trusted proxy, app/proxy.py).
        "client": request.remote_addr,
    }
    ACCESS.info(
        "%s %s %s", request.method, fields["route"] or "-", response.status_code, extra=fields
    )
    return response


def init_app(app: Flask) -> None:
    """Logging for this app; the request line is written after every other hook has run."""
    configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    app.before_request(_start)
    app.after_request(_request_line)  # registered first: runs last
