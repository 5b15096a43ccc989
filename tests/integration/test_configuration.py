"""Every setting comes from the environment and is validated once, at start.

A malformed value stops the process with one line naming the variable and what is wrong:
never a traceback, never a late failure on the first request. Against a DATABASE_URL, only
`flask db upgrade` (and the servers' starts) migrate: other commands refuse a schema that is
behind. README's configuration table lists exactly the variables the code reads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app import config, migrations

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
CONF = ROOT / "deploy" / "gunicorn.conf.py"
DEADLINE = 60


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without any setting of ours, plus ``extra``."""
    ours = set(config.SETTINGS) | {"PORT", "HOST", "WEB_CONCURRENCY"}
    env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("GUNICORN_")}
    return {**env, **extra}


def run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=environment(**env), capture_output=True, text=True,
        timeout=DEADLINE,
    )  # fmt: skip


MALFORMED = [
    ("DATABASE_URL", "mysql://db/contacts", "postgresql:// URL"),
    ("DATABASE_URL", "postgresql://app@db:fivefourthreetwo/contacts", "not a port number"),
    ("DATABASE_URL", "host=db nonsense", "not a PostgreSQL connection string"),
    ("RATE_LIMIT_CUSTOMERS_API", "lots", "rate limit"),
    ("RATE_LIMIT_PARTNER_API", "120 per fortnight", "rate limit"),
    ("RATELIMIT_STORAGE_URI", "reddis://cache:6379", "storage URI"),
    ("NAME_MATCH_THRESHOLD", "eighty", "a number, from 0 to 100"),
    ("NAME_MATCH_THRESHOLD", "101", "a number, from 0 to 100"),
    ("DEFAULT_PHONE_REGION", "USA", "region code"),
    ("DB_POOL_MAX_SIZE", "0", "a whole number, 1 or more"),
    ("DB_POOL_TIMEOUT", "-1", "a number, above 0"),
    ("LOG_LEVEL", "chatty", "one of DEBUG"),
    ("CUSTOM_ATTRIBUTES", "lenient", "one of infer, strict"),
    ("PLACEHOLDERS_FILE", "/nonexistent/placeholders.json", "no such file"),
    ("METRICS_ENABLED", "maybe", "expected true or false"),
    ("BODY_READ_TIMEOUT_SECONDS", "nan", "a number, above 0"),
    ("NAME_MATCH_THRESHOLD", "inf", "a number, from 0 to 100"),
    ("RATELIMIT_STORAGE_URI", "memcached://cache:11211", "storage URI"),
    ("FORWARDED_ALLOW_IPS", "10.0.0.1/8", "not an address or network"),
    ("PGBOUNCER_TRANSACTION_MODE", "2", "expected true or false"),
    ("FORWARDED_ALLOW_IPS", "the-gateway", "not an address or network"),
    ("LOG_FORMAT", "xml", "one of json, text"),
]


@pytest.mark.parametrize(("name", "value", "why"), MALFORMED)
def test_a_malformed_setting_stops_a_command_in_one_line(name, value, why, database_url):
    settings = {"DATABASE_URL": database_url, name: value}
    ran = run([str(FLASK), "--app", "app", "keys", "list", "acme"], **settings)
    assert ran.returncode != 0
    assert ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith(f"Environment variable {name}={value!r} is not valid: "), line
    assert why in line


@pytest.mark.parametrize(("name", "value", "why"), MALFORMED[::3])
def test_a_malformed_setting_stops_the_servers_before_they_start(name, value, why):
    """The gunicorn settings file checks the app's settings in the master: workers never boot
    with them (the container's start and `make serve` run it first)."""
    ran = run([sys.executable, str(CONF)], **{name: value})
    assert ran.returncode == 64
    [line] = ran.stderr.splitlines()
    assert line.startswith(f"Environment variable {name}={value!r} is not valid: "), line
    assert why in line


@pytest.mark.parametrize("value", ["http", "0", "70000"])
def test_a_malformed_port_stops_make_runs_server_in_one_line(value, database_url):
    ran = run([sys.executable, "-m", "app.devserver"], DATABASE_URL=database_url, PORT=value)
    assert ran.returncode != 0
    [line] = ran.stderr.splitlines()
    assert line == (
        f"Environment variable PORT={value!r} is not valid: expected a whole number, "
        "from 1 to 65535"
    )


@pytest.mark.parametrize(
    ("name", "value", "printed"),
    [
        ("DATABASE_URL", "postgresql://app:s3cret@db:99999/contacts",
         "postgresql://app:***@db:99999/contacts"),
        ("DATABASE_URL", "host=db password=s3cret port=x", "host=db password=*** port=x"),
        ("RATELIMIT_STORAGE_URI", "memcached://:s3cret@cache:11211", "memcached://:***@cache:11211"),
    ],
)  # fmt: skip
def test_a_password_in_a_malformed_setting_is_never_printed(name, value, printed):
    with pytest.raises(config.ConfigError) as refused:
        config.from_environ({name: value})
    assert str(refused.value).startswith(f"Environment variable {name}={printed!r} is not valid")
    assert "s3cret" not in str(refused.value)


def test_a_pool_smaller_than_its_minimum_is_refused():
    with pytest.raises(config.ConfigError, match="DB_POOL_MIN_SIZE='20'.*more than DB_POOL_MAX"):
        config.from_environ({"DB_POOL_MIN_SIZE": "20"})
    with pytest.raises(config.ConfigError, match="DB_POOL_MIN_SIZE='4'"):
        config.from_environ({"DB_POOL_MIN_SIZE": "4", "DB_POOL_MAX_SIZE": "2"})


@pytest.mark.parametrize(
    ("name", "value", "parsed"),
    [
        ("DATABASE_URL", "postgresql://app:secret@db:5432/contacts", None),
        ("DATABASE_URL", "postgres://db/contacts?sslmode=require", None),
        ("DATABASE_URL", "host=db port=6432 dbname=contacts user=app", None),
        ("RATELIMIT_STORAGE_URI", "rediss://cache:6380/0", None),
        ("RATELIMIT_STORAGE_URI", "redis+sentinel://s1:26379/mymaster", None),
        ("RATE_LIMIT_CUSTOMERS_API", "10/second;1000 per hour", None),
        ("NAME_MATCH_THRESHOLD", "87.5", 87.5),
        ("DEFAULT_PHONE_REGION", "gb", "GB"),
        ("LOG_LEVEL", "debug", "DEBUG"),
        ("DB_STATEMENT_TIMEOUT_MS", "0", 0),
        ("DATABASE_URL", "host=db password=a://b dbname=contacts", None),
        ("FORWARDED_ALLOW_IPS", "*,10.0.0.1", None),
        ("RATELIMIT_STORAGE_URI", "redis+unix:///run/redis.sock", None),
    ],
)
def test_well_formed_settings_are_read(name, value, parsed):
    assert config.from_environ({name: value}) == {name: value if parsed is None else parsed}


def make_behind(url: str, monkeypatch: pytest.MonkeyPatch) -> migrations.Migration:
    """Apply every migration but the last, as an older release would have; returns the last."""
    *older, last = migrations.available()
    with monkeypatch.context() as patched:
        patched.setattr(migrations, "available", lambda: older)
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.upgrade(conn)
    return last


def test_commands_refuse_a_schema_that_is_behind_and_never_migrate_it(
    make_database: Any, monkeypatch: pytest.MonkeyPatch
):
    url = make_database("behind_test")
    left = make_behind(url, monkeypatch)
    for command in (["identity", "report"], ["identity", "sweep", "--dry-run"],
                    ["accounts", "create", "acme"]):  # fmt: skip
        ran = run([str(FLASK), "--app", "app", *command], DATABASE_URL=url)
        assert ran.returncode == 1, ran
        assert ran.stdout == ""
        [line] = ran.stderr.splitlines()
        assert line == (
            f"Error: The database schema is 1 migration(s) behind this code (next: "
            f"{left.version}_{left.name}): run `flask --app app db upgrade` first."
        )
    with psycopg.connect(url) as conn:
        assert [m.version for m in migrations.pending(conn)] == [left.version]

    upgraded = run([str(FLASK), "--app", "app", "db", "upgrade"], DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    created = run([str(FLASK), "--app", "app", "accounts", "create", "acme"], DATABASE_URL=url)
    assert created.returncode == 0, created.stderr


# --- README's configuration table ---------------------------------------------------------


def documented() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def read_by_launchers() -> set[str]:
    """Variables the gunicorn settings file reads, beside the app's own SETTINGS."""
    source = CONF.read_text(encoding="utf-8")
    return set(re.findall(r'_(?:int|str)\(\s*"([A-Z][A-Z0-9_]+)"', source))


# Read by the test suite, not by the service: documented for whoever runs `make test`.
TEST_ONLY = {"TEST_DATABASE_URL", "REDIS_URL"}
# Read by a library the service configures through it (prometheus-client's multiprocess mode).
LIBRARY = {"PROMETHEUS_MULTIPROC_DIR"}


def test_the_readme_table_lists_every_setting_the_code_reads_and_no_other():
    code = set(config.SETTINGS) | read_by_launchers() | TEST_ONLY | LIBRARY
    assert {"PORT", "HOST", "WEB_CONCURRENCY", "GUNICORN_THREADS"} <= code
    assert sorted(code - documented()) == [], "read by the code, missing from README"
    assert sorted(documented() - code) == [], "in README, read by no code"
