"""Command-line interface: ``flask --app app db|accounts|keys|identity ...``.

With no DATABASE_URL these use the checkout's embedded PostgreSQL (``.data/``), whether or not
``make run`` is serving. Commands that print a new API key print it alone on the last line of
stdout, so scripts can take it with ``tail -n 1``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from app import cli_identity, db, errors, key_cache, migrations
from app.services import accounts

db_cli = AppGroup("db", help="Database schema.")
accounts_cli = AppGroup("accounts", help="Tenant accounts.")
keys_cli = AppGroup("keys", help="API keys of an account.")


def upgrade() -> list[migrations.Migration]:
    """Apply pending migrations on a dedicated connection (not the request pool)."""
    with db.connect(db.get_db().conninfo()) as conn:
        return migrations.upgrade(conn)


def require_current_schema() -> None:
    """Against a DATABASE_URL, refuse to run on a schema that is behind: only ``flask db
    upgrade``, ``make run``, ``make serve`` and the container's start migrate (a cron'd sweep
    must never migrate production). The embedded development database migrates itself."""
    database = db.get_db()
    if database.embedded:
        upgrade()
        return
    with db.connect(database.conninfo()) as conn:
        behind = migrations.pending(conn)
    if behind:
        first = behind[0]
        raise click.ClickException(
            f"The database schema is {len(behind)} migration(s) behind this code (next: "
            f"{first.version}_{first.name}): run `flask --app app db upgrade` first."
        )


def _friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Check the schema first; turn service errors into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            require_current_schema()
            return func(*args, **kwargs)
        except errors.AppError as exc:
            raise click.ClickException(exc.message) from exc

    return wrapper


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration, in order."""
    done = upgrade()
    for migration in done:
        click.echo(f"applied {migration.version}_{migration.name}")
    click.echo(f"database is up to date ({len(migrations.available())} migrations)")


@accounts_cli.command("create")
@click.argument("name")
@_friendly
def accounts_create(name: str) -> None:
    """Create account NAME and print its first API key (last line)."""
    account, key = db.run_in_transaction(lambda conn: accounts.create_account(conn, name))
    click.echo(f"created account {account.name!r} ({account.public_id})")
    click.echo("API key (shown only once; store it now):")
    click.echo(key)


@keys_cli.command("create")
@click.argument("account_name")
@_friendly
def keys_create(account_name: str) -> None:
    """Issue a new API key for ACCOUNT_NAME (printed alone on the last line)."""
    key = db.run_in_transaction(lambda conn: accounts.create_key(conn, account_name))
    click.echo(f"new API key for {account_name!r} (shown only once; store it now):")
    click.echo(key)


@keys_cli.command("list")
@click.argument("account_name")
@_friendly
def keys_list(account_name: str) -> None:
    """List ACCOUNT_NAME's keys by prefix (the keys themselves are never stored)."""
    for key in db.fetch(lambda conn: accounts.list_keys(conn, account_name)):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M:%S}" if key.revoked_at else "active"
        click.echo(f"{key.prefix}\tcreated {key.created_at:%Y-%m-%d %H:%M:%S}\t{state}")


@keys_cli.command("revoke")
@click.argument("key_prefix")
@_friendly
def keys_revoke(key_prefix: str) -> None:
    """Revoke the key starting with KEY_PREFIX (as shown by `keys list`)."""
    key = db.run_in_transaction(lambda conn: accounts.revoke_key(conn, key_prefix))
    key_cache.current().forget(key.prefix)  # this process stops accepting it at once
    click.echo(f"revoked {key.prefix}")


@cli_identity.identity_cli.command("report")
@click.option("--account", "account_name", help="One account (default: every account).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366),
              help="Days of daily merge counts.")  # fmt: skip
@_friendly
def identity_report(account_name: str | None, as_json: bool, days: int) -> None:
    """Print the identity health of each account (the figures of GET /v1/identity/stats)."""
    cli_identity.report(account_name, as_json, days)


@cli_identity.identity_cli.command("sweep")
@click.option("--account", "account_name", help="One account (default: every account).")
@click.option("--dry-run", is_flag=True, help="List what would be merged; merge nothing.")
@click.option("--every", "every", metavar="DURATION", default=None,
              help="Repeat, this long after each run ends (90s, 30m, 3h, 1d).")  # fmt: skip
@click.option("--jobs", type=click.IntRange(1, cli_identity.MAX_SWEEP_JOBS),
              default=cli_identity.SWEEP_JOBS, show_default=True,
              help="Batches of merges run at once, each in its own transaction.")  # fmt: skip
@_friendly
def identity_sweep(account_name: str | None, dry_run: bool, every: str | None, jobs: int) -> None:
    """Find and merge the people the write path left split (phone + name between profiles)."""
    seconds = None if every is None else cli_identity.parse_duration(every)
    cli_identity.repeat(
        lambda: cli_identity.sweep_accounts(account_name, dry_run, jobs), seconds, time.sleep
    )


def init_app(app: Flask) -> None:
    for group in (db_cli, accounts_cli, keys_cli, cli_identity.identity_cli):
        app.cli.add_command(group)
