"""Readiness: the database answers and has applied every migration this build ships.

The probe has no account, so it runs on the database it is given rather than on a request's
``Context``; like every use case, ``pending_migrations`` works on any connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from app import migrations

if TYPE_CHECKING:  # imported for the annotation only: services import no web code
    from app.db import Database


def pending_migrations(conn: psycopg.Connection) -> list[migrations.Migration]:
    """The migrations this build ships that the database has not applied yet."""
    return migrations.pending(conn)


def readiness(database: Database, request_id: str | None = None) -> list[migrations.Migration]:
    """``pending_migrations`` on a short checkout of ``database``; raises
    ``ServiceUnavailable`` when the database does not answer."""
    return database.read(pending_migrations, request_id)
