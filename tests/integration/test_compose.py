"""compose.yaml gives the whole stack and agrees with the Dockerfile, the settings and README.

No container engine runs here: these read the file. Every service's environment must be settings
the code reads and that parse (a malformed one would stop the container at start); the app's
database and Redis must be the stack's own; the sweep must run the documented command.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from app import config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
LAUNCHER_SETTINGS = {"PORT", "HOST", "WEB_CONCURRENCY"}


def test_the_stack_has_the_app_its_database_redis_and_the_sweep():
    assert set(SERVICES) == {"app", "db", "redis", "sweep"}
    assert SERVICES["app"]["build"] == "."
    assert SERVICES["sweep"]["image"] == SERVICES["app"]["image"]  # the same image


def test_every_setting_given_is_read_by_the_code_and_parses():
    for name in ("app", "sweep"):
        env = {k: str(v) for k, v in SERVICES[name]["environment"].items()}
        assert set(env) <= set(config.SETTINGS) | LAUNCHER_SETTINGS, name
        parsed = config.from_environ(env)  # raises ConfigError on a malformed value
        assert set(parsed) == set(env) - LAUNCHER_SETTINGS


def test_the_app_uses_the_stacks_database_and_redis():
    env = SERVICES["app"]["environment"]
    db = SERVICES["db"]["environment"]
    user, password, name = db["POSTGRES_USER"], db["POSTGRES_PASSWORD"], db["POSTGRES_DB"]
    assert env["DATABASE_URL"] == f"postgresql://{user}:{password}@db:5432/{name}"
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:6379/")
    assert SERVICES["sweep"]["environment"]["DATABASE_URL"] == env["DATABASE_URL"]
    assert {"db", "redis"} <= set(SERVICES["app"]["depends_on"])


def test_the_published_port_is_the_images():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    [exposed] = re.findall(r"^EXPOSE (\d+)$", dockerfile, flags=re.MULTILINE)
    port = SERVICES["app"]["environment"]["PORT"]
    assert port == exposed
    assert SERVICES["app"]["ports"] == [f"{exposed}:{port}"]


def test_the_sweep_repeats_and_never_migrates():
    command = SERVICES["sweep"]["entrypoint"]
    assert command[:5] == ["flask", "--app", "app", "identity", "sweep"]
    assert "--every" in command
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "flask --app app identity sweep --every 3h" in readme
    assert SERVICES["sweep"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_the_sweep_does_not_inherit_the_web_healthcheck():
    """The image's HEALTHCHECK polls the web server, which the sweep container never runs."""
    assert "HEALTHCHECK" in (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert SERVICES["sweep"]["healthcheck"] == {"disable": True}
