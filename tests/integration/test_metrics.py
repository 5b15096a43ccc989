"""Prometheus metrics at /metrics: requests and latency by route template and status, rate-limited
requests, merges by rule and unmerges (counted when their transaction commits), database
errors and retries, the pool; added up over gunicorn's workers; off with METRICS_ENABLED."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import DEADLINE, ROOT, free_port, process

URL = "/v1/customers"


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_and_status(api):
    before = scrape(api.client)
    created = api.post(URL, json={"email": "ann@example.com", "name": "Ann Lee"}).get_json()
    api.get(f"{URL}/{created['id']}")
    api.get(f"{URL}/{created['id'] + 1000}")
    after = scrape(api.client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = "/v1/customers/<int:customer_id>"
    assert delta("http_requests_total", method="POST", route=URL, status="201") == 1
    assert delta("http_requests_total", method="GET", route=route, status="200") == 1
    assert delta("http_requests_total", method="GET", route=route, status="404") == 1
    assert delta("http_request_duration_seconds_count", method="GET", route=route) == 2
    assert value(after, "db_pool_connections", state="open") >= 1


def test_made_up_methods_are_counted_as_other(api):
    before = scrape(api.client)
    for method in ("QWERTY", "AAAB", "ZZZZ"):
        assert api.client.open(URL, method=method).status_code == 405
    after = scrape(api.client)
    labels = {"route": "unmatched", "status": "405"}  # no rule matched the method
    other = value(after, "http_requests_total", method="other", **labels)
    assert other - value(before, "http_requests_total", method="other", **labels) == 3
    assert not [k for k in after if ("method", "QWERTY") in k[1]]


def test_rate_limited_requests_are_counted(make_app):
    app = make_app(RATE_LIMIT_CUSTOMERS_API="2 per minute")
    client = app.test_client()
    before = value(scrape(client), "http_rate_limited_total", route=URL)
    statuses = [client.get(URL).status_code for _ in range(4)]  # no key: 401s spend no budget
    assert statuses == [401] * 4
    with app.app_context():
        from tests.support import accounts

        key = accounts.create_account("acme")[1]
    statuses = [client.get(URL, headers={"x-api-key": key}).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert value(scrape(client), "http_rate_limited_total", route=URL) - before == 2


def test_merges_count_by_rule_when_committed_and_previews_count_nothing(api):
    def merges(rule: str) -> float:
        return value(scrape(api.client), "identity_merges_total", rule=rule)

    email_before, manual_before = merges("email"), merges("manual")
    unmerges_before = value(scrape(api.client), "identity_unmerges_total")
    ann = api.post(URL, json={"email": "ann@example.com", "name": "Ann"}).get_json()
    api.post(URL, json={"email": "bob@example.com", "name": "Bob"})
    carl = api.post(URL, json={"email": "carl@example.com", "name": "Carl"}).get_json()
    # An update giving Bob's email to Ann merges them (rule email).
    batch = [{"customer": ann["id"], "email": "bob@example.com"}]
    assert api.request("PUT", f"{URL}/batch", json=batch).status_code == 200
    assert merges("email") - email_before == 1

    preview = api.post(f"{URL}/{ann['id']}/merge?dryRun=true", json={"customers": [carl["id"]]})
    assert preview.status_code == 200
    assert merges("manual") == manual_before  # rolled back: nothing happened
    merged = api.post(f"{URL}/{ann['id']}/merge", json={"customers": [carl["id"]]})
    assert merged.status_code == 200
    assert merges("manual") - manual_before == 1

    undone = api.post(f"{URL}/{ann['id']}/unmerge", json={"customer": carl["id"]})
    assert undone.status_code == 200
    assert value(scrape(api.client), "identity_unmerges_total") - unmerges_before == 1


def test_database_errors_are_counted(make_app, unreachable_database_url):
    app = make_app(DATABASE_URL=unreachable_database_url, DB_POOL_TIMEOUT=0.5)
    client = app.test_client()
    before = value(scrape(client), "db_errors_total", kind="unavailable")
    assert client.get(URL, headers={"x-api-key": "ck_whatever"}).status_code == 503
    assert value(scrape(client), "db_errors_total", kind="unavailable") - before == 1


def test_metrics_can_be_turned_off(make_app):
    client = make_app(METRICS_ENABLED=False).test_client()
    assert client.get("/metrics").status_code == 404


WRITER = """
import sys
from app import metrics
metrics.REQUESTS.labels("GET", "/healthz", "200").inc(int(sys.argv[1]))
metrics.POOL.labels("open").set(int(sys.argv[1]))
"""


def test_worker_processes_add_up(tmp_path):
    """What gunicorn's workers do: each process writes its own values into the shared folder;
    a scrape from any process adds them all up (counters) and sums live gauges."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for amount in ("3", "4"):
        subprocess.run([sys.executable, "-c", WRITER, amount], env=env, check=True, cwd=ROOT)
    assert len({re.sub(r"\D", "", p.name) for p in folder.glob("counter_*.db")}) == 2
    reader = "from app import metrics; print(metrics.exposition()[0].decode())"
    shown = subprocess.run(
        [sys.executable, "-c", reader], env=env, check=True, cwd=ROOT, capture_output=True,
        text=True,
    )  # fmt: skip
    samples = parse(shown.stdout)
    assert value(samples, "http_requests_total", method="GET", route="/healthz", status="200") == 7


def get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.mark.alone
def test_under_gunicorn_every_scrape_counts_every_workers_requests(clean_db, tmp_path: Path):
    folder = tmp_path / "metrics"
    port = free_port()
    env = {"DATABASE_URL": clean_db, "PORT": str(port), "WEB_CONCURRENCY": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(folder)}  # fmt: skip
    with process([sys.executable, "-m", "app.serve"], tmp_path, **env) as (lines, _):
        lines.containing("Booting worker with pid", 2)
        lines.containing("Listening at: ")
        assert [get(port, "/healthz")[0] for _ in range(40)] == [200] * 40
        counts = set()
        for _ in range(10):
            status, text = get(port, "/metrics")
            assert status == 200
            labels = {"method": "GET", "route": "/healthz", "status": "200"}
            counts.add(value(parse(text), "http_requests_total", **labels))
        assert counts == {40.0}  # whichever worker answered the scrape
        assert list(folder.glob("counter_*.db"))  # written by the workers into the folder
