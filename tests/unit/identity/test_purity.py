"""The identity core is pure: importing it loads neither Flask nor psycopg."""

from __future__ import annotations

import subprocess
import sys


def test_importing_app_identity_imports_neither_flask_nor_psycopg():
    code = (
        "import sys, app.identity; "
        "loaded = sorted(m for m in ('flask', 'psycopg', 'werkzeug') if m in sys.modules); "
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
