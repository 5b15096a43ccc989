"""The OpenAPI document: committed, served, complete, and its docs UI works offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

SPEC_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
DRIFT_HINT = "openapi/openapi.yaml is out of date with the code: run `make openapi` and commit it."


def committed_text() -> str:
    return SPEC_FILE.read_text(encoding="utf-8")


def committed() -> dict[str, Any]:
    return yaml.safe_load(committed_text())


def generated_text(app) -> str:
    result = app.test_cli_runner().invoke(args=["openapi", "print", "--format=yaml"])
    assert result.exit_code == 0, result.output
    return result.output


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def api_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [op for op in operations(spec) if op[0].startswith("/api/")]
    assert found, "the spec documents no /api/ operation"
    return found


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref``s (``#/components/...``) until a concrete object."""
    seen = set()
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        assert ref not in seen, f"cyclic $ref {ref}"
        seen.add(ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


# --- drift ----------------------------------------------------------------------------------


def test_committed_spec_equals_the_generated_one(app):
    generated = generated_text(app)
    assert yaml.safe_load(generated) == committed(), DRIFT_HINT


def test_committed_spec_text_equals_the_generated_text(app):
    generated = generated_text(app)
    assert generated.rstrip("\n") == committed_text().rstrip("\n"), DRIFT_HINT


# --- served ---------------------------------------------------------------------------------


def test_openapi_json_is_served_without_auth_and_equals_the_yaml(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == committed()


def test_openapi_json_ignores_an_invalid_key(client):
    response = client.get("/openapi.json", headers={"x-api-key": "nope"})
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


# --- security -------------------------------------------------------------------------------


def test_spec_declares_both_security_schemes():
    schemes = committed()["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["BearerAuth"]["type"] == "http"
    assert schemes["BearerAuth"]["scheme"].lower() == "bearer"


def test_global_security_accepts_either_scheme():
    # A list of alternatives: each requirement object alone is enough.
    assert committed()["security"] == [{"ApiKeyHeader": []}, {"BearerAuth": []}]


def test_api_operations_use_the_global_security():
    spec = committed()
    for path, method, operation in api_operations(spec):
        security = operation.get("security", spec["security"])
        assert {"ApiKeyHeader": []} in security, (method, path)
        assert {"BearerAuth": []} in security, (method, path)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_need_no_security(path):
    assert committed()["paths"][path]["get"]["security"] == []


# --- error responses ------------------------------------------------------------------------


def test_every_api_operation_documents_401_500_and_503():
    for path, method, operation in api_operations(committed()):
        missing = {"401", "500", "503"} - set(operation["responses"])
        assert not missing, (method, path, missing)


def test_every_post_documents_400_413_415_and_422():
    posts = [op for op in operations(committed()) if op[1] == "post"]
    assert posts
    for path, method, operation in posts:
        missing = {"400", "413", "415", "422"} - set(operation["responses"])
        assert not missing, (method, path, missing)


def test_every_documented_error_response_is_the_error_envelope():
    spec = committed()
    checked = 0
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if str(status) != "default" and int(status) < 400:
                continue
            content = resolve(spec, response).get("content")
            assert content, (method, path, status)
            for media_type, body in content.items():
                assert body["schema"] == {"$ref": ENVELOPE_REF}, (method, path, status, media_type)
                checked += 1
    assert checked


def test_error_envelope_schema_matches_the_responses():
    schemas = committed()["components"]["schemas"]
    envelope = schemas["ErrorEnvelope"]
    assert envelope["required"] == ["errors"]
    assert envelope["properties"]["errors"]["type"] == "array"
    assert envelope["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ErrorEntry"}
    entry = schemas["ErrorEntry"]
    assert set(entry["properties"]) == {"code", "message", "field"}
    assert sorted(entry["required"]) == ["code", "message"]


# --- schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["email", "name", "professional_id", "external_id"])
def test_nullable_contact_fields_are_marked_nullable(field):
    contact = committed()["components"]["schemas"]["Contact"]
    assert contact["properties"][field].get("nullable") is True
    assert field in contact["required"]


@pytest.mark.parametrize("field", ["id", "created_at"])
def test_non_nullable_contact_fields_are_not_marked_nullable(field):
    contact = committed()["components"]["schemas"]["Contact"]
    assert not contact["properties"][field].get("nullable", False)


# --- docs UI --------------------------------------------------------------------------------


class AssetCollector(HTMLParser):
    """Collects ``src``/``href`` of script and link tags, and the inline scripts' text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = True
            if values.get("src"):
                self.urls.append(values["src"])
        elif tag == "link" and values.get("href"):
            self.urls.append(values["href"])
        elif tag in ("img", "iframe") and values.get("src"):
            self.urls.append(values["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def docs_page(client) -> tuple[str, AssetCollector]:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    collector = AssetCollector()
    collector.feed(html)
    return html, collector


def test_docs_page_is_served_without_auth(client):
    html, collector = docs_page(client)
    assert "SwaggerUIBundle" in html
    assert collector.urls


def test_docs_page_references_no_external_url(client):
    html, collector = docs_page(client)
    for url in collector.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
    for text in [*collector.urls, *collector.inline]:
        for external in ("http://", "https://", "//cdn"):
            assert external not in text


def test_docs_page_disables_the_online_validator_badge(client):
    # Swagger UI's default validatorUrl is https://validator.swagger.io: unless turned off,
    # every docs view sends the spec's URL to a third party (and shows a broken badge offline).
    _, collector = docs_page(client)
    config = "\n".join(collector.inline)
    assert re.search(r"""["']?validatorUrl["']?\s*:\s*(null|["']none["'])""", config), config


def test_every_docs_asset_is_served_by_the_app(client):
    _, collector = docs_page(client)
    assets = [urljoin("/docs", url) for url in collector.urls]
    assert "/docs/assets/swagger-ui-bundle.js" in assets
    assert "/docs/assets/swagger-ui.css" in assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.data, asset
        if asset.endswith(".js"):
            assert "javascript" in response.mimetype, asset
        if asset.endswith(".css"):
            assert response.mimetype == "text/css", asset
        response.close()


def test_docs_page_spec_url_is_served_by_the_app(client):
    _, collector = docs_page(client)
    urls = re.findall(r"""url\s*:\s*["']([^"']+)["']""", "\n".join(collector.inline))
    assert urls
    for url in urls:
        assert not urlsplit(url).netloc, url
        assert client.get(urljoin("/docs", url)).status_code == 200, url


def test_source_maps_of_docs_assets_are_served_by_the_app(client):
    _, collector = docs_page(client)
    for url in collector.urls:
        asset = urljoin("/docs", url)
        response = client.get(asset)
        text = response.get_data(as_text=True)
        response.close()
        for source_map in re.findall(r"sourceMappingURL=([^\s*]+)", text):
            assert not urlsplit(source_map).netloc, source_map
            map_response = client.get(urljoin(asset, source_map))
            assert map_response.status_code == 200, source_map
            map_response.close()


@pytest.mark.parametrize("response", ["TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"])
def test_429_and_503_responses_document_retry_after(response):
    headers = committed()["components"]["responses"][response]["headers"]
    assert headers["Retry-After"]["schema"]["type"] == "integer"


# --- headers every answer carries, and the batch's bounds ----------------------------------


RATE_LIMIT_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def rate_limited_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [op for op in operations(spec) if op[0].startswith(("/api/", "/v1/"))]


def test_every_response_declares_its_request_id_header():
    spec = committed()
    missing = [(path, method, status)
               for path, method, operation in operations(spec)
               for status, response in operation["responses"].items()
               if "X-Request-Id" not in resolve(spec, response).get("headers", {})]  # fmt: skip
    assert missing == []
    assert spec["components"]["headers"]["X-Request-Id"]["schema"]["pattern"]


def test_every_operation_accepts_a_request_id_header():
    spec = committed()
    for path, method, operation in operations(spec):
        names = {resolve(spec, p)["name"] for p in operation.get("parameters", [])}
        assert "X-Request-Id" in names, (path, method)


def test_rate_limited_answers_declare_the_rate_limit_headers():
    spec = committed()
    for path, method, operation in rate_limited_operations(spec):
        for status, response in operation["responses"].items():
            if str(status).startswith("2") or str(status) == "429":
                headers = set(resolve(spec, response).get("headers", {}))
                assert RATE_LIMIT_HEADERS <= headers, (path, method, status)


def test_rate_limit_headers_are_what_the_server_sends(api):
    response = api.get("/v1/customers")
    assert response.status_code == 200
    assert RATE_LIMIT_HEADERS <= set(response.headers.keys())
    assert response.headers["X-Request-Id"]


def test_the_batch_declares_its_bounds():
    spec = committed()
    body = spec["paths"]["/v1/customers/batch"]["put"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    assert (schema["type"], schema["minItems"], schema["maxItems"]) == ("array", 1, 10)


def test_search_filters_and_event_data_declare_what_the_server_checks():
    schemas = committed()["components"]["schemas"]
    operator = schemas["Filter"]["properties"]["operator"]
    assert set(operator["enum"]) == {"=", "!=", ">", "<", ">=", "<=", "~", "!~"}
    kinds = schemas["Filter"]["properties"]["value"]["oneOf"]
    assert [k["type"] for k in kinds] == ["string", "integer", "array"]
    assert kinds[0]["maxLength"] == 255 and (kinds[2]["minItems"], kinds[2]["maxItems"]) == (1, 20)
    values = schemas["EventCreate"]["properties"]["data"]["additionalProperties"]
    assert [v["type"] for v in values["oneOf"]] == ["string", "number", "boolean"]
    assert schemas["EventCreate"]["properties"]["name"]["maxLength"] == 255


@pytest.mark.parametrize("operator", ["like", "==", "in"])
def test_an_operator_outside_the_declared_enum_is_refused(api, operator):
    body = {"filter": [{"field": "customers.name", "operator": operator, "value": "Ann"}]}
    assert api.post("/v1/customers/search", json=body).status_code == 422


def test_event_data_values_outside_the_declared_kinds_are_refused(api):
    customer = api.post("/v1/customers", json={"name": "Ann"}).get_json()["id"]
    body = {"customer": customer, "name": "order", "data": {"items": [1, 2]}}
    assert api.post("/v1/events", json=body).status_code == 422
