"""Driver errors that are not the request's fault, translated at the storage boundary.

Split from ``app/db.py``, which runs every use case inside ``translate_db_errors``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from app import exceptions, metrics

log = logging.getLogger(__name__)


@contextmanager
def translate_db_errors(config: Mapping[str, Any], request_id: str | None) -> Iterator[None]:
    """Driver errors that mean "database unreachable" become a 503 with Retry-After.

    A statement cancelled by ``statement_timeout`` or stopped at a server limit (stack depth,
    statement too complex) is not an outage: retrying the same request cannot succeed, and with
    every input bounded it means our SQL is at fault. It is a 500 that names the request id.
    """
    try:
        yield
    except (PoolTimeout, psycopg.OperationalError) as exc:
        sqlstate = getattr(exc, "sqlstate", None) or ""
        if sqlstate == QUERY_CANCELED or sqlstate.startswith(PROGRAM_LIMIT_CLASS):
            metrics.DB_ERRORS.labels("aborted").inc()
            raise _aborted(exc, sqlstate, config, request_id) from exc
        metrics.DB_ERRORS.labels("unavailable").inc()
        log.warning("database unavailable: %s", exc)
        retry_after = str(config["RETRY_AFTER_SECONDS"])
        raise exceptions.ServiceUnavailable(headers={"Retry-After": retry_after}) from exc


# SQLSTATEs of a statement the server stopped: cancelled (by statement_timeout), or any of
# class 54 "program limit exceeded" (stack depth, statement too complex, too many columns).
QUERY_CANCELED = "57014"
PROGRAM_LIMIT_CLASS = "54"


def _aborted(
    exc: psycopg.OperationalError, sqlstate: str, config: Mapping[str, Any], request_id: str | None
) -> exceptions.QueryAborted:
    log.error("query aborted (request %s): %s", request_id, str(exc).strip())
    if sqlstate == QUERY_CANCELED:
        timeout = config["DB_STATEMENT_TIMEOUT_MS"]
        reason = f"ran longer than the statement timeout ({timeout} ms)"
    else:
        reason = "exceeded a database server limit"
    return exceptions.QueryAborted(
        f"The database query of this request {reason}; please report request id {request_id}."
    )
