"""Fixtures in flaskr's vocabulary (app, client, runner, api) on a real PostgreSQL.

The server is the one named by TEST_DATABASE_URL, or an embedded, throwaway cluster in a temp
dir. Either way the suite runs in a database of its own, created here, migrated once, and
dropped at the end; each test that uses the app starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from flask import Flask
from flask.testing import FlaskClient

from app import create_app, migrations
from app.embedded_pg import EmbeddedPostgres


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server's URL (maintenance database)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="contacts-test-pg-"))
    server = EmbeddedPostgres(folder, database="postgres", durable=False)
    try:
        yield server.ensure_running()
    finally:
        server.remove()  # as root the cluster lives in the launcher's folder, not in folder
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def make_database(server_url: str) -> Iterator[Any]:
    """Factory of throwaway databases on the test server, all dropped at session end."""
    created: list[str] = []

    def make(prefix: str = "contacts_test") -> str:
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return make_conninfo(server_url, dbname=name)

    yield make
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def database_url(make_database: Any) -> str:
    """The suite's database, migrated once."""
    url = make_database()
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    return url


def _emptying_statement(conn: psycopg.Connection) -> sql.Composed:
    """DELETE from every table (referencing tables first) and restart every sequence.

    On tables this small, DELETE takes about a tenth of TRUNCATE's time, which pays once per
    test; the order comes from the catalog's foreign keys, so new tables are covered.
    """
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename <> 'schema_migrations'"
        )
    ]
    refs = conn.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ).fetchall()
    ordered: list[str] = []
    while len(ordered) < len(tables):
        before = len(ordered)
        for table in tables:
            referencing = {child for child, parent in refs if parent == table and child != table}
            if table not in ordered and referencing <= set(ordered):
                ordered.append(table)
        assert len(ordered) > before, f"foreign keys form a cycle among {tables}"
    sequences = [
        r[0]
        for r in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
        )
    ]
    parts = [sql.SQL("DELETE FROM {}").format(sql.Identifier(t)) for t in ordered]
    parts += [sql.SQL("SELECT setval({}, 1, false)").format(sql.Literal(s)) for s in sequences]
    return sql.SQL("; ").join(parts)


@pytest.fixture(scope="session")
def emptying_statement(database_url: str) -> sql.Composed:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return _emptying_statement(conn)


@pytest.fixture
def clean_db(database_url: str, emptying_statement: sql.Composed) -> str:
    """The suite's database with every table empty and every sequence restarted."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(emptying_statement)
    return database_url


@pytest.fixture
def app(clean_db: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": clean_db, "DB_POOL_MAX_SIZE": 25})
    yield app
    app.extensions["db"].close()


@pytest.fixture
def make_app(clean_db: str) -> Iterator[Any]:
    """Apps with extra settings (``DATABASE_URL`` defaults to the test database); their pools
    are closed at the end."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app({"TESTING": True, "DATABASE_URL": clean_db, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["db"].close()


@pytest.fixture
def unreachable_database_url() -> str:
    """A PostgreSQL URL on a local port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/nowhere?connect_timeout=1"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class ApiActions:
    """Like flaskr's AuthActions: accounts with keys, and requests that carry a key."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self._keys: dict[str, str] = {}

    def key(self, account: str = "acme") -> str:
        """The API key of ``account``, created on first use."""
        if account not in self._keys:
            from tests.support import accounts

            with self.app.app_context():
                _, self._keys[account] = accounts.create_account(account)
        return self._keys[account]

    def request(self, method: str, path: str, *, account: str = "acme", **kwargs: Any):
        headers = {"x-api-key": self.key(account), **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> ApiActions:
    return ApiActions(app, client)


@pytest.fixture
def strict_api(make_app: Any) -> ApiActions:
    """``api`` on an app with ``CUSTOM_ATTRIBUTES=strict`` (undefined properties are a 422)."""
    app = make_app(CUSTOM_ATTRIBUTES="strict")
    return ApiActions(app, app.test_client())
