"""Idempotent retries: a write sent with an ``Idempotency-Key`` acts once; a retry with the
same key gets the first answer back, for ``IDEMPOTENCY_TTL_HOURS`` per account.

Each step is its own short transaction, so no connection is held while the request runs:
``claim`` before the use case (the key becomes this request's, or the stored answer is
replayed, or the retry is refused), then ``store`` or ``release`` after it. A claim carries a
random token; only its holder may store or release it, so a claim taken over after
``IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS`` (its worker died) cannot be overwritten by a late first
request. Stored answers are erased with the person they describe (``forget_person`` in the
repository, called by the erasure).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg

from app import db, exceptions
from app.repositories import idempotency as repo
from app.services.context import Context

MAX_KEY_LENGTH = 255
# Printable ASCII, space included: what a header value can carry unchanged through proxies.
_PRINTABLE = frozenset(chr(code) for code in range(0x20, 0x7F))


@dataclass(frozen=True)
class Policy:
    """How long answers are kept, and after how long a running claim may be taken over."""

    ttl: timedelta = timedelta(hours=24)
    stale_after: timedelta = timedelta(seconds=60)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(
            ttl=timedelta(hours=config["IDEMPOTENCY_TTL_HOURS"]),
            stale_after=timedelta(seconds=config["IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS"]),
        )


@dataclass(frozen=True)
class Answer:
    """A stored answer: what a replay sends back (the retry's own headers are added to it)."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """The key is this request's: store or release it with ``token`` when the answer is known."""

    key: str
    token: uuid.UUID


def check_key(key: str) -> str:
    """The key as given, if it is 1..255 printable ASCII characters; else a 422 naming it."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not _PRINTABLE.issuperset(key):
        raise exceptions.ValidationFailed(
            f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            field="Idempotency-Key",
        )
    return key


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> bytes:
    """SHA-256 of the request as a retry repeats it; each part is length-prefixed, so no two
    different requests can be written as the same bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "surrogateescape"), query):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(body)
    return digest.digest()


def claim(
    conn: psycopg.Connection, ctx: Context, key: str, digest: bytes, policy: Policy
) -> Claimed | Answer:
    """Claim ``key`` for the request whose fingerprint is ``digest``: ``Claimed`` when it may
    act, the stored ``Answer`` when it is a retry of one that finished.

    409 ``idempotency_key_in_use`` while the first request still runs; 422
    ``idempotency_key_reused`` when the key was used with a different request. An expired
    answer never replays: the claim replaces it.
    """
    token = uuid.uuid4()
    found = repo.claim(
        conn, ctx.account_id, key, digest, token, ttl=policy.ttl, stale_after=policy.stale_after
    )
    if found is None:
        return Claimed(key, token)
    if found.fingerprint != digest:
        raise exceptions.IdempotencyKeyReused()
    if found.state != "done" or found.status is None:
        raise exceptions.IdempotencyKeyInUse(headers={"Retry-After": "1"})
    return Answer(found.status, dict(found.headers or {}), bytes(found.body or b""))


def store(
    conn: psycopg.Connection,
    ctx: Context,
    claimed: Claimed,
    answer: Answer,
    profile_ids: Iterable[int],
    contact_ids: Iterable[uuid.UUID],
) -> bool:
    """Store the answer for retries; False when it was not stored.

    The profiles it describes are key-share locked first. One that an erasure removed since
    the write means the answer describes a person who is gone: the key is released instead
    (a retry acts again). One merged away meanwhile restarts the transaction, so that the lock
    is always on the live profile an erasure locks first.
    """
    profile_ids, contact_ids = set(profile_ids), set(contact_ids)
    ids: set[int] = set()
    if profile_ids or contact_ids:
        found = repo.resolve_described(conn, ctx.account_id, profile_ids, contact_ids)
        named = {f.id for f in found}
        if not profile_ids <= named or not contact_ids <= {f.contact_id for f in found}:
            return _release(conn, ctx, claimed)
        live = {f.live_id for f in found}
        liveness = repo.lock_live(conn, ctx.account_id, live)
        if len(liveness) < len(live):
            return _release(conn, ctx, claimed)
        if not all(liveness.values()):
            raise db.ConcurrentChange("a described profile was merged away meanwhile")
        ids = named | live
    return repo.store(
        conn,
        ctx.account_id,
        claimed.key,
        claimed.token,
        status=answer.status,
        headers=answer.headers,
        body=answer.body,
        profile_ids=ids,
    )


def release(conn: psycopg.Connection, ctx: Context, claimed: Claimed) -> None:
    """Give the key up without an answer (a 5xx, a retryable conflict): a retry acts."""
    repo.release(conn, ctx.account_id, claimed.key, claimed.token)


def _release(conn: psycopg.Connection, ctx: Context, claimed: Claimed) -> bool:
    release(conn, ctx, claimed)
    return False
