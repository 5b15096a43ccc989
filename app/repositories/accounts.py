"""Accounts and their API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from app.sql import queries

q = queries("accounts")


@dataclass(frozen=True)
class Account:
    id: int
    public_id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def insert_account(conn: psycopg.Connection, name: str) -> Account:
    with conn.cursor(row_factory=class_row(Account)) as cur:
        return cur.execute(q["insert_account"], {"name": name}).fetchone()


def get_account_by_name(conn: psycopg.Connection, name: str) -> Account | None:
    with conn.cursor(row_factory=class_row(Account)) as cur:
        return cur.execute(q["get_account_by_name"], {"name": name}).fetchone()


def list_accounts(conn: psycopg.Connection) -> list[Account]:
    with conn.cursor(row_factory=class_row(Account)) as cur:
        return cur.execute(q["list_accounts"]).fetchall()


def insert_api_key(
    conn: psycopg.Connection, account_id: int, prefix: str, key_hash: bytes
) -> ApiKey:
    params = {"account_id": account_id, "prefix": prefix, "key_hash": key_hash}
    with conn.cursor(row_factory=class_row(ApiKey)) as cur:
        return cur.execute(q["insert_api_key"], params).fetchone()


def find_account_by_key_hash(conn: psycopg.Connection, key_hash: bytes) -> Account | None:
    with conn.cursor(row_factory=class_row(Account)) as cur:
        return cur.execute(q["find_account_by_key_hash"], {"key_hash": key_hash}).fetchone()


def list_api_keys(conn: psycopg.Connection, account_id: int) -> list[ApiKey]:
    with conn.cursor(row_factory=class_row(ApiKey)) as cur:
        return cur.execute(q["list_api_keys"], {"account_id": account_id}).fetchall()


def revoke_api_key(conn: psycopg.Connection, prefix: str) -> ApiKey | None:
    with conn.cursor(row_factory=class_row(ApiKey)) as cur:
        return cur.execute(q["revoke_api_key"], {"prefix": prefix}).fetchone()
