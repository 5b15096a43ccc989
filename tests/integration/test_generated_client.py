"""The contract as a product: the committed spec validates, and a client generated from it with
openapi-python-client drives the main flows against a running server.

What the generator chokes on is fixed in the spec, never worked around here: bodies are built
with the generated models' own ``from_dict`` and answers read through the generated models.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from werkzeug.serving import make_server

from app import create_app
from tests.support import accounts

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.yaml"
BIN = Path(sys.executable).parent
PACKAGE = "contact_ingest_client"


def test_the_committed_spec_is_valid_openapi():
    validate(yaml.safe_load(SPEC.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated package, imported from a temporary folder."""
    folder = tmp_path_factory.mktemp("generated")
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    ran = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(SPEC), "--meta", "none",
         "--output-path", str(folder / PACKAGE)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Warning" not in ran.stdout, ran.stdout  # nothing of the spec was skipped
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def server(clean_db: str) -> Iterator[tuple[str, str]]:
    """A real HTTP server on the app (werkzeug, threaded), and an API key."""
    app = create_app({"DATABASE_URL": clean_db})
    with app.app_context():
        key = accounts.create_account("acme")[1]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", key
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=60)
        app.extensions["db"].close()


class Api:
    """Calls an operation of the generated client by its module, the body built by the
    operation's own model (``from_dict``)."""

    def __init__(self, package: Any, client: Any) -> None:
        self.package, self.client = package, client

    def __call__(self, operation: str, *args: Any, body: Any = None, **kwargs: Any) -> Any:
        group, name = operation.split(".")
        module = importlib.import_module(f"{PACKAGE}.api.{group}.{name}")
        if body is not None:
            kwargs["body"] = self._model(module, body)
        response = module.sync_detailed(*args, client=self.client, **kwargs)
        return response

    @staticmethod
    def _model(module: Any, body: Any) -> Any:
        hint = typing.get_type_hints(module.sync_detailed)["body"]
        if typing.get_origin(hint) is list:
            (item,) = typing.get_args(hint)
            return [item.from_dict(b) for b in body]
        for candidate in typing.get_args(hint) or (hint,):
            if hasattr(candidate, "from_dict"):
                return candidate.from_dict(body)
        raise AssertionError(f"no model for the body of {module.__name__}")


def test_a_generated_client_drives_the_main_flows(generated, server):
    base_url, key = server
    client = generated.AuthenticatedClient(base_url=base_url, token=key)
    api = Api(generated, client)

    upserted = api(
        "partner_contacts.post_api_v1_partner_contacts",
        body={"email": "ann@example.com", "name": "Ann Lee", "external_id": "crm-1"},
    )
    assert upserted.status_code == 201, upserted.content
    assert upserted.parsed.email == "ann@example.com"
    assert upserted.headers["X-Request-Id"]
    assert int(upserted.headers["X-RateLimit-Remaining"]) >= 0

    created = api(
        "customers.post_v1_customers",
        body={"email": "bob@example.com", "name": "Bob Stone", "phone": "+1 415 555 0100"},
    )
    assert created.status_code == 201, created.content
    bob = created.parsed.id
    carl = api(
        "customers.post_v1_customers", body={"name": "Carl Berg", "company": "Acme"}
    ).parsed.id

    batch = api(
        "customers.put_v1_customers_batch",
        body=[{"customer": bob, "company": "Acme"}, {"customer": carl, "city": None}],
    )
    assert batch.status_code == 200, batch.content
    assert [c.id for c in batch.parsed] == [bob, carl]

    listed = api("customers.get_v1_customers", email="bob@example.com")
    assert listed.status_code == 200 and listed.parsed.total == 1
    found = api(
        "customers.post_v1_customers_search",
        body={"filter": [{"field": "customers.company", "operator": "=", "value": "Acme"}]},
    )
    assert found.status_code == 200 and found.parsed.total == 2

    tagged = api(
        "customers.put_v1_customers_customer_id_tags",
        bob,
        body={"tags": [{"name": "vip", "color": "#ff0000"}]},
    )
    assert tagged.status_code == 200 and [t.name for t in tagged.parsed.tags] == ["vip"]
    untagged = api(
        "customers.delete_v1_customers_customer_id_tags", bob, body={"tags": [{"name": "vip"}]}
    )
    assert untagged.status_code == 200 and untagged.parsed.tags == []

    event = api(
        "customer_extras.post_v1_events",
        body={"customer": bob, "name": "order_placed", "data": {"total": 42}},
    )
    assert event.status_code == 200, event.content

    preview = api(
        "identity_tools.post_v1_customers_customer_id_merge",
        bob,
        body={"customers": [carl]},
        dry_run=True,
    )
    assert preview.status_code == 200, preview.content
    assert type(preview.parsed).__name__ == "MergePreview"  # the oneOf's second schema
    assert (preview.parsed.survivor, preview.parsed.merged) == (bob, [carl])
    merged = api(
        "identity_tools.post_v1_customers_customer_id_merge", bob, body={"customers": [carl]}
    )
    assert merged.status_code == 200 and merged.parsed.merged_ids == [carl]
    assert type(merged.parsed).__name__ == "Customer"
    unmerged = api(
        "identity_tools.post_v1_customers_customer_id_unmerge", bob, body={"customer": carl}
    )
    assert unmerged.status_code == 200, unmerged.content
    assert unmerged.parsed.restored.id == carl

    duplicates = api("duplicates.get_v1_customers_customer_id_duplicates", bob)
    assert duplicates.status_code == 200, duplicates.content
    stats = api("identity_stats.get_v1_identity_stats")
    assert stats.status_code == 200, stats.content
    assert stats.parsed.profiles.live == 3
