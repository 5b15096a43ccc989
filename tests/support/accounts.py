"""Accounts and keys for tests, made the way the CLI makes them: each call its own
transaction in the current app (``with app.app_context():``)."""

from __future__ import annotations

from app import db
from app.repositories.accounts import Account, ApiKey
from app.services import accounts as use_cases
from app.services.accounts import KEY_PREFIX, SHOWN_CHARS, hash_key, shown_prefix

repo = use_cases.repo  # the module the use cases read through (tests count its calls)

__all__ = [
    "KEY_PREFIX",
    "SHOWN_CHARS",
    "authenticate",
    "create_account",
    "create_key",
    "ensure_account",
    "hash_key",
    "list_keys",
    "repo",
    "revoke_key",
    "shown_prefix",
]


def create_account(name: str) -> tuple[Account, str]:
    return db.run_in_transaction(lambda conn: use_cases.create_account(conn, name))


def ensure_account(name: str) -> Account:
    return db.run_in_transaction(lambda conn: use_cases.ensure_account(conn, name))


def create_key(account_name: str) -> str:
    return db.run_in_transaction(lambda conn: use_cases.create_key(conn, account_name))


def list_keys(account_name: str) -> list[ApiKey]:
    return db.fetch(lambda conn: use_cases.list_keys(conn, account_name))


def revoke_key(prefix: str) -> ApiKey:
    return db.run_in_transaction(lambda conn: use_cases.revoke_key(conn, prefix))


def authenticate(key: str) -> Account | None:
    return db.fetch(lambda conn: use_cases.authenticate(conn, key))
