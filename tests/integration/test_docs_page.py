"""The docs page renders in headless Chromium, offline: every operation of the spec listed.

Debian's chromium, started as a test machine starts it (no sandbox as root, no background
networking, a fresh profile). Chromium's virtual time runs the page's scripts to their end
before the DOM is read; the screenshot is saved under the test's temporary folder. Skipped,
saying so, where Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from werkzeug.serving import make_server

from app import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian's chromium; .ci/run installs it)"
)
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def docs_url(clean_db: str) -> Iterator[str]:
    app = create_app({"DATABASE_URL": clean_db})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/docs"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=60)
        app.extensions["db"].close()


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
               "--window-size=1280,2400", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, timeout=120)


def test_the_docs_page_lists_every_operation_offline(docs_url, tmp_path):
    spec = yaml.safe_load((ROOT / "openapi" / "openapi.yaml").read_text(encoding="utf-8"))
    operations = sum(1 for item in spec["paths"].values() for m in item if m in METHODS)

    dumped = chromium(tmp_path, "--dump-dom", docs_url)
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    dom = dumped.stdout.decode()
    blocks = re.findall(r'class="opblock opblock-(get|put|post|delete|patch)', dom)
    assert len(blocks) == operations, (len(blocks), operations)
    assert "Contact ingestion API" in dom

    shot = tmp_path / "docs.png"
    taken = chromium(tmp_path, f"--screenshot={shot}", docs_url)
    assert taken.returncode == 0, taken.stderr.decode(errors="replace")[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
