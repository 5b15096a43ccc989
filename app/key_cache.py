"""A per-app, per-process cache of API-key lookups, so most requests skip that round trip.

Keyed by the key's SHA-256 hash, holding the ``Account`` for ``API_KEY_CACHE_SECONDS`` from
the database read (0 turns the cache off). Only keys the database accepted are cached, in a
``TTLCache`` of at most ``MAX_ENTRIES``, so unknown keys cannot fill memory. Revoking a key
through ``services.accounts.revoke_key`` drops it from this process's cache at once; another
process (a CLI, another worker) sees the revocation when its entry expires.

One cache per app, in ``app.extensions`` (tests build many apps), like the pool in ``db``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import TTLCache

from flask import Flask, current_app, has_app_context

T = TypeVar("T")

EXTENSION = "api_key_cache"
# About 200 bytes an entry: a few MB at most, and only for keys that really exist.
MAX_ENTRIES = 10_000


class KeyCache(Generic[T]):
    """Thread-safe: gunicorn's threads share it. ``timer`` is injectable for tests."""

    def __init__(
        self,
        seconds: float,
        *,
        maxsize: int = MAX_ENTRIES,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._entries: TTLCache[bytes, tuple[str, T]] | None = (
            TTLCache(maxsize, seconds, timer=timer) if seconds > 0 else None
        )
        self._lock = threading.Lock()
        # Bumped by every ``forget``: a lookup that started before it stores nothing, so a
        # read racing an in-process revocation cannot put the revoked key back.
        self._generation = 0

    def __len__(self) -> int:
        with self._lock:
            return 0 if self._entries is None else len(self._entries)

    @property
    def maxsize(self) -> int:
        return 0 if self._entries is None else int(self._entries.maxsize)

    def get_or_load(self, key_hash: bytes, prefix: str, load: Callable[[], T | None]) -> T | None:
        """The cached value for ``key_hash``, else ``load()`` (cached unless ``None``).

        ``prefix`` is what ``forget`` will be called with when this key is revoked.
        """
        if self._entries is None:
            return load()
        with self._lock:
            hit = self._entries.get(key_hash)
            generation = self._generation
        if hit is not None:
            return hit[1]
        value = load()  # outside the lock: other threads' hits need not wait for the database
        if value is not None:
            with self._lock:
                if generation == self._generation:
                    self._entries[key_hash] = (prefix, value)
        return value

    def forget(self, prefix: str) -> None:
        """Drop every entry of the key(s) with this prefix."""
        if self._entries is None:
            return
        with self._lock:
            self._generation += 1
            for key_hash in [h for h, (p, _) in self._entries.items() if p == prefix]:
                del self._entries[key_hash]

    def clear(self) -> None:
        if self._entries is None:
            return
        with self._lock:
            self._generation += 1
            self._entries.clear()


def init_app(app: Flask, **options) -> KeyCache:
    """Give ``app`` its cache (again, with ``options`` such as ``timer``, in tests)."""
    cache: KeyCache = KeyCache(app.config["API_KEY_CACHE_SECONDS"], **options)
    app.extensions[EXTENSION] = cache
    return cache


_DISABLED: KeyCache = KeyCache(0)


def current() -> KeyCache:
    """The current app's cache; a disabled one outside an app or in an app without it."""
    if not has_app_context():
        return _DISABLED
    return current_app.extensions.get(EXTENSION, _DISABLED)
