"""Search and list filters are bounded, and a query the database aborts is not an outage.

Unbounded, 6,000 OR'ed tag filters ran for the whole statement timeout and one filter with
20,000 tag names exhausted the server's stack; both then answered 503 with Retry-After, which
invites retrying a request that can never succeed.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg_errors

from app import bounds, db_errors, errors

SEARCH = "/v1/customers/search"


def fields_of(response) -> list[str | None]:
    return [entry.get("field") for entry in response.get_json()["errors"][1:]]


def tag_filter(names: list[str]) -> dict:
    return {"field": "customers.tagsData", "operator": "=", "value": [{"name": n} for n in names]}


def test_search_accepts_at_most_max_filters(api) -> None:
    at_limit = [tag_filter([f"t{i}"]) for i in range(bounds.MAX_FILTERS)]
    assert api.post(SEARCH, json={"filter": at_limit, "comparison": "OR"}).status_code == 200
    over = [*at_limit, tag_filter(["one-more"])]
    response = api.post(SEARCH, json={"filter": over, "comparison": "OR"})
    assert response.status_code == 422
    assert fields_of(response) == ["filter"]


def test_search_accepts_at_most_max_tag_names_in_one_filter(api) -> None:
    names = [f"tag{i}" for i in range(bounds.MAX_FILTER_TAG_NAMES)]
    assert api.post(SEARCH, json={"filter": [tag_filter(names)]}).status_code == 200
    response = api.post(SEARCH, json={"filter": [tag_filter([*names, "extra"])]})
    assert response.status_code == 422
    assert fields_of(response) == ["filter[0].value"]


@pytest.mark.parametrize("field", ["customers.name", "customers.email", "customers.userId"])
def test_search_filter_values_are_at_most_max_length(api, field: str) -> None:
    longest = "a" * bounds.MAX_FILTER_VALUE_LENGTH
    ok = {"filter": [{"field": field, "operator": "~", "value": longest}]}
    assert api.post(SEARCH, json=ok).status_code == 200
    over = {"filter": [{"field": field, "operator": "~", "value": longest + "a"}]}
    response = api.post(SEARCH, json=over)
    assert response.status_code == 422
    assert fields_of(response) == ["filter[0].value"]


def test_search_tag_names_are_at_most_the_tag_name_length(api) -> None:
    response = api.post(SEARCH, json={"filter": [tag_filter(["x" * 101])]})
    assert response.status_code == 422
    assert fields_of(response) == ["filter[0].value"]


@pytest.mark.parametrize("param", ["email", "phone", "userId", "tag"])
def test_list_filter_values_are_at_most_max_length(api, param: str) -> None:
    response = api.get(f"/v1/customers?{param}=" + "a" * (bounds.MAX_FILTER_VALUE_LENGTH + 1))
    assert response.status_code == 422
    assert fields_of(response) == [param]


def test_a_statement_timeout_is_a_500_naming_the_request_id_not_a_503(make_app, clean_db) -> None:
    """A PUT waits on a row lock held elsewhere until its statement timeout cancels it."""
    app = make_app(DB_STATEMENT_TIMEOUT_MS=300)
    client = app.test_client()
    from tests.support import accounts

    with app.app_context():
        key = accounts.create_account("acme")[1]
    headers = {"x-api-key": key, "X-Request-Id": "req-timeout-1"}
    created = client.post("/v1/customers", json={"name": "Held"}, headers=headers)
    customer = created.get_json()["id"]
    with psycopg.connect(clean_db) as blocker:
        blocker.execute("SELECT 1 FROM profiles WHERE id = %s FOR UPDATE", [customer])
        response = client.put(f"/v1/customers/{customer}", json={"notes": "x"}, headers=headers)
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    [generic, entry] = response.get_json()["errors"]
    assert entry["code"] == "query_aborted"
    assert "statement timeout (300 ms)" in entry["message"]
    assert "req-timeout-1" in entry["message"]


@pytest.mark.parametrize("exc", [pg_errors.StatementTooComplex, pg_errors.ProgramLimitExceeded])
def test_a_server_limit_is_a_500_query_aborted_not_a_503(app, exc) -> None:
    with pytest.raises(errors.QueryAborted) as raised:
        with db_errors.translate_db_errors(app.config, "req-42"):
            raise exc("stack depth limit exceeded")
    assert "server limit" in raised.value.message
    assert "req-42" in raised.value.message


def test_an_unreachable_database_is_still_a_503(app) -> None:
    with pytest.raises(errors.ServiceUnavailable):
        with db_errors.translate_db_errors(app.config, None):
            raise psycopg.OperationalError("connection refused")
