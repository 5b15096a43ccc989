"""Rules every answer follows: ASCII-digit ids, no unknown query parameter, no-store and
nosniff on API answers, every answer of 300 and more in the error envelope, and merge
snapshots without internal columns."""

from __future__ import annotations

import pytest

CUSTOMERS = "/v1/customers"
FULLWIDTH_EIGHT = "%EF%BC%98"  # "８", a Unicode digit int() reads as 8


def create(api, **fields) -> dict:
    response = api.post(CUSTOMERS, json=fields)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def fields_of(response) -> list[str | None]:
    return [entry.get("field") for entry in response.get_json()["errors"][1:]]


@pytest.fixture
def eight(api) -> int:
    """Customers up to id 8, so that a Unicode 8 would find one."""
    ids = [create(api, email=f"c{i}@example.org")["id"] for i in range(8)]
    assert 8 in ids
    return 8


@pytest.mark.parametrize("suffix", ["", "/tags", "/events", "/merges"])
def test_a_path_id_of_non_ascii_digits_is_a_404(api, eight: int, suffix: str) -> None:
    response = api.get(f"{CUSTOMERS}/{FULLWIDTH_EIGHT}{suffix}")
    assert response.status_code in (404, 405)
    assert response.is_json
    assert api.request("DELETE", f"{CUSTOMERS}/{FULLWIDTH_EIGHT}").status_code == 404
    assert api.get(f"{CUSTOMERS}/{eight}").status_code == 200  # not erased


def test_body_ids_and_timestamps_of_non_ascii_digits_are_a_422(api, eight: int) -> None:
    response = api.request("PUT", f"{CUSTOMERS}/batch", json=[{"customer": "８", "name": "x"}])
    assert response.status_code == 422
    assert fields_of(response) == ["[0].customer"]
    response = api.post(CUSTOMERS, json={"firstSeen": "１６００００００００"})
    assert response.status_code == 422
    assert fields_of(response) == ["firstSeen"]
    response = api.post("/v1/events", json={"customer": "８", "name": "Visit"})
    assert response.status_code == 422
    assert fields_of(response) == ["customer"]


def test_query_values_of_non_ascii_digits_are_a_422(api) -> None:
    response = api.get(f"{CUSTOMERS}?limit={FULLWIDTH_EIGHT}")
    assert response.status_code == 422
    assert fields_of(response) == ["limit"]
    search = {"filter": [{"field": "customers.id", "operator": "=", "value": "８"}]}
    response = api.post(f"{CUSTOMERS}/search", json=search)
    assert response.status_code == 422
    assert fields_of(response) == ["filter[0].value"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{CUSTOMERS}?emial=alice@example.com"),
        ("GET", "/v1/tags?nmae=x"),
        ("GET", f"{CUSTOMERS}/1?fields=all"),
        ("POST", f"{CUSTOMERS}/search?emial=x"),
        ("DELETE", f"{CUSTOMERS}/1?force=1"),
        ("POST", "/api/v1/partner/contacts?upsert=1"),
    ],
)
def test_an_unknown_query_parameter_is_a_422_naming_it(api, method: str, path: str) -> None:
    create(api, email="alice@example.com")
    response = api.request(method, path, json={"email": "a@example.org"})
    assert response.status_code == 422, response.get_json()
    name = path.split("?", 1)[1].split("=", 1)[0]
    assert fields_of(response) == [name]
    assert len(api.get(CUSTOMERS).get_json()["data"]) == 1  # nothing written


def test_known_query_parameters_still_work(api) -> None:
    create(api, email="alice@example.com")
    response = api.get(f"{CUSTOMERS}?email=alice@example.com&limit=5&offset=0")
    assert response.status_code == 200
    assert response.get_json()["total"] == 1


def test_probes_ignore_query_parameters(client) -> None:
    assert client.get("/healthz?probe=1").status_code == 200


def test_api_answers_are_no_store_and_nosniff(api) -> None:
    for response in (api.get(CUSTOMERS), api.get(f"{CUSTOMERS}/999"), api.client.get(CUSTOMERS)):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_docs_stay_html_and_cacheable(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_routing_redirect_is_in_the_envelope(api) -> None:
    response = api.get("/v1/customers//1")
    assert response.status_code == 308
    assert response.is_json
    [generic, entry] = response.get_json()["errors"]
    assert entry["code"] == "permanent_redirect"
    assert response.headers["Location"].endswith("/v1/customers/1")


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", CUSTOMERS), ("POST", "/healthz"), ("PATCH", "/v1/tags")]
)
def test_method_not_allowed_is_in_the_envelope(api, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.is_json
    assert response.get_json()["errors"][1]["code"] == "method_not_allowed"
    assert "Allow" in response.headers


def test_merge_snapshots_leave_out_internal_columns(api) -> None:
    create(api, email="p@example.org", name="Ann")
    create(api, userId="u-1", company="Acme")
    merged = create(api, email="p@example.org", userId="u-1")
    [record] = api.get(f"{CUSTOMERS}/{merged['id']}/merges").get_json()["data"]
    profile = record["snapshot"]["profile"]
    assert "account_id" not in profile
    assert not [key for key in profile if key.endswith("_fold")]
    assert profile["id"] == record["merged"]
