"""Duplicate suggestions (``GET /v1/customers/{id}/duplicates``): likely duplicates the
automatic rules did not merge, best first. Read-only: nothing is ever merged here; the caller
decides with the manual merge.

Four statements: the id resolved (a tombstone stands for its survivor, a foreign or unknown id
is a 404), the subject loaded, its candidates found by their blocking keys (bounded, indexed
lookups), and the customer objects of the page. The candidates are scored by the pure core
(``identity.suggestions``); at most ``MAX_SUGGESTIONS`` are kept, and pages walk that list
with an opaque cursor of the last (score, id) shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from app import cursors, exceptions
from app.identity import blocking, suggestions
from app.identity.suggestions import Matched, Suggestion
from app.identity.types import Kind
from app.repositories import customers, distinct_profiles
from app.repositories import suggestions as repo
from app.repositories.customers import Customer
from app.services import merges
from app.services.context import Context

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_SUGGESTIONS = 200  # suggestions one customer can page through
PROBED_EMAILS = 10  # the subject's emails whose domain typos are looked up
PROBED_PHONES = 5  # the subject's phones whose one-digit neighbours are looked up
RESOLVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Duplicate:
    customer: Customer
    score: float
    reasons: list[str]
    matched: list[Matched]


def not_the_same_person(
    conn: psycopg.Connection, ctx: Context, profile_id: int, candidates: Sequence[int]
) -> set[int]:
    """The candidates known to be another person than ``profile_id`` (an unmerge separated
    them): never suggested."""
    if not candidates:
        return set()
    pairs = distinct_profiles.among(conn, ctx.account_id, [profile_id, *candidates])
    return {other for pair in pairs if profile_id in pair for other in pair if other != profile_id}


def find_duplicates(
    conn: psycopg.Connection,
    ctx: Context,
    customer_id: int,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Duplicate], str | None]:
    """One page of likely duplicates of ``customer_id``, best first, and the next cursor."""
    after = _position(cursor)
    subject = _subject(conn, ctx, customer_id)
    found = _suggestions(conn, ctx, subject)
    if after is not None:
        found = [s for s in found if (-s.score, s.profile_id) > (-after[0], after[1])]
    page, next_cursor = cursors.page(
        found[: limit + 1], limit, lambda s: {"score": s.score, "id": s.profile_id}
    )
    loaded = customers.load_customers(conn, ctx.account_id, [s.profile_id for s in page])
    by_id = {c.id: c for c in loaded}
    return [
        Duplicate(by_id[s.profile_id], s.score, [str(r) for r in s.reasons], list(s.matched))
        for s in page
        if s.profile_id in by_id
    ], next_cursor


def _subject(conn: psycopg.Connection, ctx: Context, customer_id: int) -> repo.Subject:
    """The live profile ``customer_id`` stands for; resolved again if a merge moved it between
    the two statements (a read runs each in its own snapshot), 404 if it is gone."""
    for _ in range(RESOLVE_ATTEMPTS):
        profile_id = merges.live_id(conn, ctx.account_id, customer_id)
        subject = repo.load_subject(conn, ctx.account_id, profile_id)
        if subject is not None:
            return subject
    raise merges.not_found([customer_id])


def _suggestions(conn: psycopg.Connection, ctx: Context, subject: repo.Subject) -> list[Suggestion]:
    me = subject.profile
    emails = [i.norm for i in me.identifiers if i.kind is Kind.EMAIL and i.norm]
    phones = [i.norm for i in me.identifiers if i.kind is Kind.PHONE and i.norm]
    candidates = repo.find_candidates(
        conn,
        ctx.account_id,
        subject,
        email_probes=[p for e in emails[:PROBED_EMAILS] for p in blocking.email_probes(e)],
        phone_probes=[p for n in phones[:PROBED_PHONES] for p in blocking.phone_probes(n)],
    )
    excluded = not_the_same_person(conn, ctx, me.id, [c.id for c in candidates])
    scored = suggestions.suggest(
        me,
        [c for c in candidates if c.id not in excluded],
        threshold=ctx.settings.threshold,
        shared_limit=ctx.settings.shared_limit,
    )
    return scored[:MAX_SUGGESTIONS]


def _position(cursor: str | None) -> tuple[float, int] | None:
    """The (score, id) a page continues after; a cursor that is not ours is a 422."""
    if cursor is None:
        return None
    position: dict[str, Any] = cursors.decode(cursor)
    score, profile_id = position.get("score"), position.get("id")
    if not isinstance(score, int | float) or isinstance(score, bool):
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after")
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        raise exceptions.ValidationFailed("Not a valid cursor.", field="after")
    return float(score), profile_id
