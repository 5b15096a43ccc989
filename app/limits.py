"""Rate limits: one counter per (account, API), shared by every endpoint of that API.

A thin pair of hooks on ``limits`` (the engine under flask-limiter, with the same storages and
the same fixed-window strategy). flask-limiter's per-request work — resolving the limits of the
endpoint, its blueprint and the app, exemptions, meta limits, deferred deductions — cost about
110 µs a request, for one shared limit per API known when the app is built (``bench/README.md``).

Each app gets its own storage and strategy (tests build many apps), so counts never leak
between apps. Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://`` is exact within one
process only; ``redis://`` makes the limit hold across every worker and replica sharing that
Redis (``memory://`` is counted by ``app.rate_counts``, without limits' timer thread). A storage
that fails is logged and the request is served without limit headers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import limits
import limits.storage
import limits.strategies
from limits.storage import RedisStorage

from flask import Blueprint, Flask, Response, current_app, g, request

from app.exceptions import TooManyRequests
from app.rate_counts import ProcessCounts

log = logging.getLogger(__name__)

# A Redis that stops answering must not hang requests: connecting and reading are bounded.
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
REDIS_TIMEOUT_SECONDS = 1.0
# Counted by app.rate_counts (no expiry thread), not by limits' MemoryStorage.
MEMORY_SCHEME = "memory://"
EXTENSION = "rate_limits"
# limits' fixed-window increment (RedisStorage.incr's script) and the window's TTL, in one call.
INCR_EXPIRE_TTL = """
local current = redis.call('incrby', KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call('expire', KEYS[1], ARGV[1])
end
return {current, redis.call('ttl', KEYS[1])}
"""


def setting_name(group: str) -> str:
    """``partner`` -> ``RATE_LIMIT_PARTNER_API``."""
    return f"RATE_LIMIT_{group.upper()}_API"


@dataclass(frozen=True)
class Checked:
    """The limit a request was counted against, as the headers describe it."""

    item: limits.RateLimitItem
    remaining: int
    reset_at: int  # Unix seconds, the end of the window (as flask-limiter rounds it)


@dataclass
class RateLimits:
    """This app's limits: the storage, the strategy, and each blueprint's group and limits."""

    strategy: limits.strategies.FixedWindowRateLimiter
    groups: dict[str, tuple[str, list[limits.RateLimitItem]]]  # blueprint name -> group, items
    prefix: str
    enabled: bool
    redis_script: Any = None  # INCR_EXPIRE_TTL, registered on first use

    def check(self, group: str, items: list[limits.RateLimitItem], key: str) -> Checked:
        """Count one request against ``items``; raise ``TooManyRequests`` past one of them.

        Limits are counted shortest window first and counting stops at the first one
        exceeded (as flask-limiter does); the headers describe that one, else the shortest.
        """
        # flask-limiter's order (its keys were LIMITER/<prefix>/<account>/<group>/...): the
        # counters of a running deployment carry over.
        ids = (self.prefix, key, group) if self.prefix else (key, group)
        first: Checked | None = None
        for item in items:
            checked, allowed = self._count(item, ids)
            if not allowed:
                raise TooManyRequests(headers=headers(checked, retry_after=True))
            first = first or checked
        assert first is not None
        return first

    def _count(self, item: limits.RateLimitItem, ids: tuple[str, ...]) -> tuple[Checked, bool]:
        """One hit, and what the headers say.

        A fixed window needs two storage calls, not the strategy's three (its ``hit`` then
        ``get_window_stats``, which reads the count again): the increment returns the count,
        only the window's end is read. With Redis that is a round trip less a request, and the
        remaining count is this request's own, not one that other requests moved meanwhile.
        """
        if type(self.strategy) is not limits.strategies.FixedWindowRateLimiter:
            allowed = self.strategy.hit(item, *ids)  # other strategies (bench/overhead.py)
            stats = self.strategy.get_window_stats(item, *ids)
            return Checked(item, stats.remaining, int(stats.reset_time + 1)), allowed
        storage, key = self.strategy.storage, item.key_for(*ids)
        if isinstance(storage, RedisStorage):
            count, reset = self._redis_count(storage, key, item.get_expiry())
        else:
            count = storage.incr(key, item.get_expiry())
            reset = storage.get_expiry(key)
        return Checked(item, max(0, item.amount - count), int(reset + 1)), count <= item.amount

    def _redis_count(self, storage: RedisStorage, key: str, expiry: int) -> tuple[int, float]:
        """Both calls in one script, one round trip: limits' own increment (``INCRBY``, and
        ``EXPIRE`` on a new window, on the same prefixed key), then the window's ``TTL``."""
        if self.redis_script is None:
            self.redis_script = storage.get_connection().register_script(INCR_EXPIRE_TTL)
        count, ttl = self.redis_script([storage.prefixed_key(key)], [expiry, 1])
        return int(count), max(int(ttl), 0) + time.time()


def headers(checked: Checked, *, retry_after: bool = False) -> dict[str, str]:
    values = {
        "X-RateLimit-Limit": str(checked.item.amount),
        "X-RateLimit-Remaining": str(checked.remaining),
        "X-RateLimit-Reset": str(checked.reset_at),
    }
    if retry_after:
        values["Retry-After"] = str(max(0, int(checked.reset_at - time.time())))
    return values


def _before_request() -> None:
    """Count the request against its API's limit (after authentication set ``g.account``)."""
    state: RateLimits = current_app.extensions[EXTENSION]
    g.rate_limit = None  # g may outlive a request (an app context pushed around several)
    entry = state.groups.get(request.blueprint or "")
    account = g.get("account")
    if entry is None or account is None or not state.enabled:
        return
    group, items = entry
    try:
        g.rate_limit = state.check(group, items, str(account.public_id))
    except TooManyRequests:
        raise
    except Exception:  # the storage is down: keep serving, say so
        log.warning("rate limit storage failed; request served unlimited", exc_info=True)


def _after_request(response: Response) -> Response:
    checked: Checked | None = g.get("rate_limit")
    if checked is not None:
        response.headers.update(headers(checked))
    return response


def init_app(app: Flask, groups: Mapping[str, Iterable[Blueprint]]) -> RateLimits:
    """Build this app's limits; every blueprint of a group shares the group's counter.

    Call it after ``auth.init_app``: the check is an app-level ``before_request``, and
    authentication must come first so that a bad key is a 401 that spends no budget. Nothing
    is recorded on the (module-level) blueprints.
    """
    uri = app.config["RATELIMIT_STORAGE_URI"]
    options: dict[str, Any] = {}
    if uri.startswith(REDIS_SCHEMES):
        options = {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        }
    by_blueprint: dict[str, tuple[str, list[limits.RateLimitItem]]] = {}
    for group, blueprints in groups.items():
        name = setting_name(group)
        value = app.config[name]
        try:
            items = sorted(limits.parse_many(value))  # shortest window first
        except ValueError as exc:
            raise RuntimeError(f"{name}={value!r} is not a valid rate limit: {exc}") from exc
        for blueprint in blueprints:
            by_blueprint[blueprint.name] = (group, items)
    state = RateLimits(
        strategy=limits.strategies.FixedWindowRateLimiter(
            ProcessCounts()
            if uri.startswith(MEMORY_SCHEME)
            else limits.storage.storage_from_string(uri, **options)
        ),
        groups=by_blueprint,
        prefix=app.config.get("RATELIMIT_KEY_PREFIX", ""),
        enabled=bool(app.config.get("RATELIMIT_ENABLED", True)),
    )
    app.extensions[EXTENSION] = state
    app.before_request(_before_request)
    app.after_request(_after_request)
    return state
