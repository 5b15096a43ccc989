"""Candidates for duplicate suggestions: the subject profile, then everyone its blocking keys
find, in one statement of bounded, indexed lookups (see suggestions.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.identity import KINDS, Identifier, Kind, Profile
from app.sql import queries

q = queries("suggestions")
# Bounds of each lookup (rows): together they cap one request's candidates at about 300.
PHONE_HOLDERS = 50  # holders of the subject's phones (past a few it is a shared phone anyway)
NAMESAKES = 100  # profiles of the same name key, and as many of an overlapping loose key
OTHER = 20  # email typos, phones one digit away, same name + company, same name + city
IDENTIFIERS = 50  # emails and phones compared per profile
FIELDS = ("company", "company_fold", "city", "city_fold")


@dataclass(frozen=True)
class Subject:
    """The profile whose duplicates are asked for, with its stored blocking keys."""

    profile: Profile
    name_key: str | None
    name_keys: list[str]


def _profile(row: dict[str, Any]) -> Profile:
    identifiers = tuple(
        Identifier(KINDS[i["kind"]], i["norm"], i["value"]) for i in row["identifiers"]
    )
    return Profile(
        id=row["id"],
        created_at=None,
        name=row["name"],
        identifiers=identifiers,
        fields={name: row[name] for name in FIELDS},
    )


def load_subject(conn: psycopg.Connection, account_id: int, profile_id: int) -> Subject | None:
    """The live profile ``profile_id`` as scoring sees it; ``None`` if it is not live."""
    params = {"account_id": account_id, "id": profile_id, "identifier_limit": IDENTIFIERS}
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(q["load_subject"], params).fetchone()
    if row is None:
        return None
    return Subject(_profile(row), row["name_key"], row["name_keys"] or [])


def find_candidates(
    conn: psycopg.Connection,
    account_id: int,
    subject: Subject,
    *,
    email_probes: Sequence[str],
    phone_probes: Sequence[str],
) -> list[Profile]:
    """Live profiles of the account (never the subject) that share a blocking key with it."""
    me = subject.profile
    params = {
        "account_id": account_id,
        "id": me.id,
        "phones": [i.norm for i in me.identifiers if i.kind is Kind.PHONE],
        "email_probes": list(email_probes),
        "phone_probes": list(phone_probes),
        "name_key": subject.name_key,
        "name_keys": subject.name_keys,
        "company_fold": me.fields.get("company_fold"),
        "city_fold": me.fields.get("city_fold"),
        "phone_limit": PHONE_HOLDERS,
        "name_limit": NAMESAKES,
        "small_limit": OTHER,
        "identifier_limit": IDENTIFIERS,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(q["find_candidates"], params).fetchall()
    return [_profile(row) for row in rows]
