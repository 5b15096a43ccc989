"""Inputs a contract fuzzer (schemathesis) found answering 500; each must be a 4xx."""

from __future__ import annotations

import pytest

from app import db, errors
from app.services import customers


def test_offset_beyond_bigint_is_422_naming_it(api):
    response = api.get("/v1/customers", query_string={"offset": str(2**63)})
    assert response.status_code == 422
    assert [e.get("field") for e in response.get_json()["errors"][1:]] == ["offset"]
    search = api.post("/v1/customers/search", json={"offset": 2**63})
    assert search.status_code == 422


def test_number_too_large_for_a_float_is_400_invalid_json(api):
    response = api.post("/api/v1/partner/contacts", data=b'{"email": "a@example.com", "x": 1e400}')
    assert response.status_code == 400
    assert response.get_json()["errors"][1]["code"] == "invalid_json"


def test_event_data_out_of_float_range_is_400_not_500(api):
    customer = api.post("/v1/customers", json={"name": "Ann"}).get_json()
    body = b'{"name": "x", "customer": %d, "data": {"k": 1e400}}' % customer["id"]
    assert api.post("/v1/events", data=body).status_code == 400


def test_custom_number_too_large_for_a_float_is_422(api):
    api.post("/v1/custom-attributes", json={"name": "score", "type": "number"})
    huge = int("9" * 400)
    response = api.post(
        "/v1/customers", json={"customData": [{"property": "score", "value": huge}]}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][1]["field"] == "customData[0].value"


def test_loading_a_customer_erased_after_its_id_was_resolved_is_404(app):
    """A GET resolves the id, then loads the row; a DELETE landing in between must not 500."""
    with app.app_context(), pytest.raises(errors.NotFound):
        db.fetch(lambda conn: customers._load(conn, account_id=1, customer_id=2**62))


def test_create_update_and_search_accept_a_missing_body(api):
    created = api.post("/v1/customers")
    assert created.status_code == 201
    customer_id = created.get_json()["id"]
    assert api.request("PATCH", f"/v1/customers/{customer_id}").status_code == 200
    assert api.post("/v1/customers/search").get_json()["total"] == 1
