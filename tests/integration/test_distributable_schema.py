"""The schema stays distributable by account (Citus; docs/scaling.md).

Every tenant table has ``account_id`` in its primary key and in every unique index, and every
foreign key between tenant tables includes it on both sides, so that each tenant's rows and
every statement about them stay on one shard. The tables that are not distributed (accounts,
and API keys, looked up by hash before the account is known) are named as reference tables,
in this test and in docs/scaling.md alike; a new table must be placed in one of the two.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCALING = ROOT / "docs" / "scaling.md"
REFERENCE = {"accounts", "api_keys"}
LOCAL = {"schema_migrations"}  # the migration runner's own bookkeeping, on the coordinator


@pytest.fixture(scope="module")
def catalog(database_url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(database_url) as conn:

        def rows(sql: str) -> list[tuple]:
            return conn.execute(sql).fetchall()

        return {
            "tables": rows(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
            ),
            # (table, index, key columns, is primary) of every unique index, partial ones too
            "unique": rows(
                "SELECT t.relname, i.relname, "
                "       array(SELECT a.attname FROM unnest(x.indkey) k "
                "             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k), "
                "       x.indisprimary "
                "FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = 'public' AND x.indisunique ORDER BY 1, 2"
            ),
            # (table, referenced table, columns, referenced columns) of every foreign key
            "foreign": rows(
                "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, "
                "       array(SELECT a.attname FROM unnest(c.conkey) k "
                "             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k), "
                "       array(SELECT a.attname FROM unnest(c.confkey) k "
                "             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k) "
                "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = 'public' AND c.contype = 'f' ORDER BY 1, 2"
            ),
        }


def tenant_tables(catalog: dict[str, list[tuple]]) -> set[str]:
    return {name for (name,) in catalog["tables"]} - REFERENCE - LOCAL


def test_every_tenant_table_is_keyed_by_account_first(catalog):
    tenants = tenant_tables(catalog)
    assert {"profiles", "profile_identifiers", "events", "merges"} <= tenants
    primary = {t: cols for t, _, cols, is_primary in catalog["unique"] if is_primary}
    assert sorted(t for t in tenants if t not in primary) == [], "tenant tables without a key"
    assert {t: primary[t] for t in tenants if "account_id" not in primary[t]} == {}


def test_every_unique_index_of_a_tenant_table_includes_the_account(catalog):
    tenants = tenant_tables(catalog)
    unscoped = [(t, index, cols) for t, index, cols, _ in catalog["unique"]
                if t in tenants and "account_id" not in cols]  # fmt: skip
    assert unscoped == []


def test_foreign_keys_between_tenant_tables_include_the_account(catalog):
    tenants = tenant_tables(catalog)
    between = [(t, ref, cols, refcols) for t, ref, cols, refcols in catalog["foreign"]
               if t in tenants and ref in tenants]  # fmt: skip
    assert between, "no foreign keys between tenant tables were found"
    unscoped = [fk for fk in between if "account_id" not in fk[2] or "account_id" not in fk[3]]
    assert unscoped == []
    # Tenant tables refer to reference tables only (never the other way round).
    for t, ref, _, _ in catalog["foreign"]:
        assert t in tenants or ref in REFERENCE, (t, ref)


def test_docs_name_each_table_as_distributed_or_reference(catalog):
    text = SCALING.read_text(encoding="utf-8")
    distributed = set(re.findall(r"create_distributed_table\('(\w+)', 'account_id'", text))
    reference = set(re.findall(r"create_reference_table\('(\w+)'\)", text))
    assert distributed == tenant_tables(catalog)
    assert reference == REFERENCE
