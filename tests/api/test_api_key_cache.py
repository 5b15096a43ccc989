"""The in-process API-key cache: fewer lookups, bounded, and revocation within the delay."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from app import key_cache
from tests.support import accounts

URL = "/api/v1/partner/contacts"
PREFIX_CHARS = len("ck_") + 8


class FakeClock:
    """The cache's timer: time passes only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def status(client, key: str) -> int:
    """GET of an unknown contact: 404 when the key is accepted, 401 when it is not."""
    return client.get(f"{URL}/{uuid.uuid4()}", headers={"x-api-key": key}).status_code


def new_key(app, account: str = "acme") -> str:
    with app.app_context():
        return accounts.create_account(account)[1]


def revoke_in_database(database_url: str, key: str) -> None:
    """What another process's `flask keys revoke` does: this process's cache is not told."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        revoked = conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE prefix = %s", [key[:PREFIX_CHARS]]
        ).rowcount
    assert revoked == 1


@pytest.fixture
def counted_lookups(monkeypatch):
    """How many times the database was asked about a key."""
    calls: list[bytes] = []
    original = accounts.repo.find_account_by_key_hash

    def counting(conn, key_hash):
        calls.append(key_hash)
        return original(conn, key_hash)

    monkeypatch.setattr(accounts.repo, "find_account_by_key_hash", counting)
    return calls


def test_the_cache_is_on_by_default_for_five_seconds_and_bounded(app):
    cache = app.extensions[key_cache.EXTENSION]
    assert app.config["API_KEY_CACHE_SECONDS"] == 5
    assert cache.seconds == 5
    assert cache.maxsize == key_cache.MAX_ENTRIES == 10_000


def test_each_app_has_its_own_cache(make_app):
    first, second = make_app(), make_app()
    key = new_key(first)
    assert status(first.test_client(), key) == 404
    assert len(first.extensions[key_cache.EXTENSION]) == 1
    assert len(second.extensions[key_cache.EXTENSION]) == 0


def test_an_accepted_key_is_looked_up_once_within_the_delay(make_app, counted_lookups):
    app = make_app(API_KEY_CACHE_SECONDS=5)
    clock = FakeClock()
    key_cache.init_app(app, timer=clock)
    key = new_key(app)
    client = app.test_client()
    for _ in range(5):
        assert status(client, key) == 404
    assert len(counted_lookups) == 1
    clock.advance(5)
    assert status(client, key) == 404
    assert len(counted_lookups) == 2


def test_revoked_key_stops_working_within_the_documented_delay(make_app, clean_db):
    app = make_app(API_KEY_CACHE_SECONDS=5)
    clock = FakeClock()
    key_cache.init_app(app, timer=clock)
    key = new_key(app)
    client = app.test_client()
    assert status(client, key) == 404  # accepted, and now cached

    revoke_in_database(clean_db, key)  # by another process
    # Within API_KEY_CACHE_SECONDS of the lookup this process still accepts it...
    assert status(client, key) == 404
    clock.advance(4.9)
    assert status(client, key) == 404
    # ...and not a moment after.
    clock.advance(0.1)
    assert status(client, key) == 401
    assert status(client, key) == 401


def test_with_the_cache_off_revocation_is_immediate(make_app, clean_db, counted_lookups):
    app = make_app(API_KEY_CACHE_SECONDS=0)
    key = new_key(app)
    client = app.test_client()
    assert status(client, key) == 404
    assert status(client, key) == 404
    assert len(counted_lookups) == 2  # every request asks the database
    assert len(app.extensions[key_cache.EXTENSION]) == 0

    revoke_in_database(clean_db, key)
    assert status(client, key) == 401


def test_cli_revoke_in_the_same_process_is_immediate(make_app):
    app = make_app(API_KEY_CACHE_SECONDS=3600)
    key_cache.init_app(app, timer=FakeClock())  # time stands still: only revoking can help
    revoked, kept = new_key(app), None
    with app.app_context():
        kept = accounts.create_key("acme")
    client = app.test_client()
    assert status(client, revoked) == 404
    assert status(client, kept) == 404

    result = app.test_cli_runner().invoke(args=["keys", "revoke", revoked[:PREFIX_CHARS]])
    assert result.exit_code == 0, result.output

    assert status(client, revoked) == 401
    assert status(client, kept) == 404  # the account's other key stays cached and valid
    assert len(app.extensions[key_cache.EXTENSION]) == 1


def test_unknown_and_revoked_keys_are_never_cached(app, counted_lookups):
    client = app.test_client()
    for i in range(50):
        assert status(client, f"ck_{i:043d}") == 401
    assert status(client, "ck_" + "A" * 43) == 401
    assert status(client, "ck_" + "A" * 43) == 401
    assert len(app.extensions[key_cache.EXTENSION]) == 0
    assert len(counted_lookups) == 52  # each one asked the database

    # A key created after an unsuccessful try works at once (no negative caching).
    key = new_key(app)
    assert status(client, key) == 404


def test_the_cache_is_bounded_and_an_evicted_key_still_works(make_app, counted_lookups):
    app = make_app()
    cache = key_cache.init_app(app, maxsize=3)
    client = app.test_client()
    keys = [new_key(app, f"account-{i}") for i in range(5)]
    for key in keys:
        assert status(client, key) == 404
    assert len(cache) == 3
    # The oldest entries were evicted: they are looked up again, and still accepted.
    before = len(counted_lookups)
    assert status(client, keys[0]) == 404
    assert len(counted_lookups) == before + 1
    assert len(cache) == 3


def test_a_lookup_racing_an_in_process_revocation_caches_nothing(make_app):
    app = make_app()
    cache = app.extensions[key_cache.EXTENSION]

    def load_then_revoke():
        cache.forget("ck_racing1")  # the revocation lands while the lookup is in flight
        return "account"

    assert cache.get_or_load(b"hash", "ck_racing1", load_then_revoke) == "account"
    assert len(cache) == 0
