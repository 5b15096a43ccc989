"""Liveness (/healthz) and readiness (/readyz) probes."""

from __future__ import annotations

import psycopg
import pytest

from app import migrations

GENERIC = {"code": "invalid_request", "message": "Invalid request"}


def assert_service_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    errors = response.get_json()["errors"]
    assert errors[0] == GENERIC
    assert [e["code"] for e in errors[1:]] == ["service_unavailable"]
    assert all("field" not in e for e in errors)
    assert int(response.headers["Retry-After"]) > 0


def test_healthz_is_200_ok_without_auth(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok"}


def test_healthz_ignores_an_invalid_key(client):
    response = client.get("/healthz", headers={"x-api-key": "nope", "Authorization": "Basic x"})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_does_not_need_the_database(make_app, unreachable_database_url):
    app = make_app(DATABASE_URL=unreachable_database_url, DB_POOL_TIMEOUT=1)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    # The probe never even opened the pool.
    assert app.extensions["db"].stats() == {}


def test_readyz_is_200_ready_when_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ready"}


def test_readyz_needs_no_auth(client):
    response = client.get("/readyz", headers={"x-api-key": "nope"})
    assert response.status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable(make_app, unreachable_database_url):
    app = make_app(DATABASE_URL=unreachable_database_url, DB_POOL_TIMEOUT=1)
    assert_service_unavailable(app.test_client().get("/readyz"))


def test_readyz_is_503_when_migrations_are_pending(make_app, make_database):
    app = make_app(DATABASE_URL=make_database("contacts_unmigrated"))
    response = app.test_client().get("/readyz")
    assert_service_unavailable(response)
    assert "migration" in response.get_json()["errors"][1]["message"]


def test_readyz_is_503_when_only_some_migrations_are_applied(make_app, make_database):
    url = make_database("contacts_partial")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
        conn.execute(
            "DELETE FROM schema_migrations WHERE version = %s", [migrations.available()[-1].version]
        )
    assert_service_unavailable(make_app(DATABASE_URL=url).test_client().get("/readyz"))


def test_readyz_becomes_ready_once_migrated(make_app, make_database):
    url = make_database("contacts_late")
    app = make_app(DATABASE_URL=url)
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_get_only(client, path):
    response = client.post(path)
    assert response.status_code == 405
    assert response.get_json()["errors"][0] == GENERIC
