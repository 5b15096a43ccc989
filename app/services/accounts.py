"""Accounts and API keys: creation, listing, revocation, authentication.

Use cases on a given connection, like every other; callers (the CLI, `make run`, the
authentication hook) give them their transaction.
"""

from __future__ import annotations

import hashlib
import secrets

import psycopg

from app import exceptions
from app.repositories import accounts as repo
from app.repositories.accounts import Account, ApiKey

KEY_PREFIX = "ck_"
# Characters of a key (after KEY_PREFIX) shown in listings and used to revoke it.
SHOWN_CHARS = 8


def hash_key(key: str) -> bytes:
    """SHA-256 is enough: keys carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _new_key(conn: psycopg.Connection, account_id: int) -> str:
    """Insert a new key for the account; return it in full (the only time it exists)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)  # 32 bytes of randomness
    repo.insert_api_key(conn, account_id, shown_prefix(key), hash_key(key))
    return key


def create_account(conn: psycopg.Connection, name: str) -> tuple[Account, str]:
    """A new account and its first key."""
    if repo.get_account_by_name(conn, name) is not None:
        raise exceptions.Conflict(f"An account named {name!r} already exists.")
    account = repo.insert_account(conn, name)
    return account, _new_key(conn, account.id)


def ensure_account(conn: psycopg.Connection, name: str) -> Account:
    """The account with this name, created if missing (the dev account of `make run`)."""
    return repo.get_account_by_name(conn, name) or repo.insert_account(conn, name)


def _account(conn: psycopg.Connection, name: str) -> Account:
    account = repo.get_account_by_name(conn, name)
    if account is None:
        raise exceptions.NotFound(f"No account named {name!r}.")
    return account


def create_key(conn: psycopg.Connection, account_name: str) -> str:
    return _new_key(conn, _account(conn, account_name).id)


def list_keys(conn: psycopg.Connection, account_name: str) -> list[ApiKey]:
    return repo.list_api_keys(conn, _account(conn, account_name).id)


def revoke_key(conn: psycopg.Connection, prefix: str) -> ApiKey:
    key = repo.revoke_api_key(conn, prefix)
    if key is None:
        raise exceptions.NotFound(f"No API key with prefix {prefix!r}.")
    return key


def shown_prefix(key: str) -> str:
    """The part of a key that is stored, listed and used to revoke it."""
    return key[: len(KEY_PREFIX) + SHOWN_CHARS]


def authenticate(conn: psycopg.Connection, key: str) -> Account | None:
    """The account owning an unrevoked ``key``, else ``None`` (one indexed lookup; the HTTP
    layer caches accepted keys, see app/key_cache.py)."""
    return repo.find_account_by_key_hash(conn, hash_key(key))
