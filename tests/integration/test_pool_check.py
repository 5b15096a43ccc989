"""The pool's connection check: skipped for a connection that just came back, made otherwise.

The server drops every connection of the test database (as a restart or a failover does);
the next request shows what the check window means.
"""

from __future__ import annotations

import psycopg


def _drop_server_connections(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        ).fetchone()[0]


def _get(client, key: str):
    return client.get("/api/v1/partner/contacts/00000000-0000-0000-0000-000000000000",
                      headers={"x-api-key": key})  # fmt: skip


def _key(app) -> str:
    from tests.support import accounts

    with app.app_context():
        return accounts.create_account("pool")[1]


def test_a_connection_idle_past_the_window_is_checked_and_replaced(make_app, database_url):
    app = make_app(DB_POOL_CHECK_AFTER_SECONDS=0, DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=1,
                   API_KEY_CACHE_SECONDS=0)  # fmt: skip
    client, key = app.test_client(), _key(app)
    assert _get(client, key).status_code == 404
    assert _drop_server_connections(database_url) >= 1
    for _ in range(3):
        assert _get(client, key).status_code == 404  # never a 503: the check replaced it


def test_a_connection_back_within_the_window_is_lent_unchecked(make_app, database_url):
    app = make_app(DB_POOL_CHECK_AFTER_SECONDS=3600, DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=1,
                   API_KEY_CACHE_SECONDS=0)  # fmt: skip
    client, key = app.test_client(), _key(app)
    assert _get(client, key).status_code == 404
    assert _drop_server_connections(database_url) >= 1
    failed = _get(client, key)
    assert failed.status_code == 503  # the dropped connection was used: one request fails
    assert failed.headers["Retry-After"] == str(app.config["RETRY_AFTER_SECONDS"])
    assert _get(client, key).status_code == 404  # it was discarded; the next one is fresh
