"""``/metrics`` for Prometheus, and the per-request figures behind it (app/metrics.py).

No API key: keep the path private at the gateway (README, "Metrics"). ``METRICS_ENABLED=false``
registers nothing: no route, no hook.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from app import metrics
from app.db import get_db

log = logging.getLogger(__name__)
POOL_REFRESH_SECONDS = 1.0
# Methods the API serves; any other a client invents is counted as `other`, so that nobody
# can make the metrics grow by sending made-up methods.
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def _count(response: Response, refresh_pool: metrics.Every) -> Response:
    """Count the answer. Metrics never fail a request: the write has committed by now."""
    try:
        _record(response, refresh_pool)
    except OSError:  # the multiprocess folder gone or full
        log.warning("metrics not recorded for this request", exc_info=True)
    return response


def _record(response: Response, refresh_pool: metrics.Every) -> None:
    rule = request.url_rule
    route = rule.rule if rule is not None else "unmatched"
    status = response.status_code
    method = request.method if request.method in METHODS else "other"
    metrics.REQUESTS.labels(method, route, str(status)).inc()
    started = g.get("started")
    if started is not None:
        metrics.LATENCY.labels(method, route).observe(time.perf_counter() - started)
    if status == 429:
        metrics.RATE_LIMITED.labels(route).inc()
    if refresh_pool():  # each worker's pool figures, at most once a second
        metrics.pool(get_db().stats())


def _scrape() -> Response:
    body, content_type = metrics.exposition(lambda: metrics.pool(get_db().stats()))
    return Response(body, content_type=content_type)


def init_app(app: Flask) -> None:
    """Call after ``logs.init_app`` (its first hook notes when the request started)."""
    if not app.config["METRICS_ENABLED"]:
        return
    refresh_pool = metrics.Every(POOL_REFRESH_SECONDS)
    app.after_request(lambda response: _count(response, refresh_pool))
    app.add_url_rule("/metrics", "metrics", _scrape, methods=["GET"])
