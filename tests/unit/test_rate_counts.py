"""app.rate_counts: memory:// fixed-window counts, as limits' MemoryStorage counts them, without
its timer thread (no database)."""

from __future__ import annotations

import threading

import limits
import limits.storage
import limits.strategies

from app import rate_counts
from app.rate_counts import ProcessCounts


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_fixed_window_counts_like_limits_memory_storage():
    """The same hits on both storages give the same allowances and remaining counts."""
    clock = Clock()
    ours = limits.strategies.FixedWindowRateLimiter(ProcessCounts(clock))
    theirs = limits.strategies.FixedWindowRateLimiter(limits.storage.MemoryStorage())
    item = limits.parse("3 per minute")
    for _ in range(5):
        assert ours.hit(item, "partner", "a") == theirs.hit(item, "partner", "a")
        assert (
            ours.get_window_stats(item, "partner", "a").remaining
            == theirs.get_window_stats(item, "partner", "a").remaining
        )
    assert ours.get_window_stats(item, "partner", "a").reset_time == clock.now + 60


def test_window_starts_at_its_first_hit_and_a_new_one_after_it_ends():
    clock = Clock()
    strategy = limits.strategies.FixedWindowRateLimiter(ProcessCounts(clock))
    item = limits.parse("2 per minute")
    assert [strategy.hit(item, "k") for _ in range(3)] == [True, True, False]
    clock.now += 59.9
    assert not strategy.hit(item, "k")
    clock.now += 0.1  # the window of the first hit has ended
    assert [strategy.hit(item, "k") for _ in range(3)] == [True, True, False]
    assert strategy.get_window_stats(item, "k").reset_time == clock.now + 60


def test_keys_are_counted_apart():
    strategy = limits.strategies.FixedWindowRateLimiter(ProcessCounts(Clock()))
    item = limits.parse("1 per hour")
    assert strategy.hit(item, "partner", "a")
    assert strategy.hit(item, "customers", "a")
    assert strategy.hit(item, "partner", "b")
    assert not strategy.hit(item, "partner", "a")


def test_expired_keys_are_dropped_once_there_are_many(monkeypatch):
    monkeypatch.setattr(rate_counts, "PRUNE_ABOVE", 10)
    clock = Clock()
    counts = ProcessCounts(clock)
    for n in range(11):
        counts.incr(f"old-{n}", 60)
    clock.now += 61
    counts.incr("new", 60)  # a new window past the bound: the 11 expired keys go
    assert len(counts) == 1
    assert counts.get("new") == 1


def test_counting_starts_no_thread():
    """limits' MemoryStorage starts a Timer thread whenever its last one has run out."""
    counts = ProcessCounts()
    before = threading.active_count()
    for n in range(1000):
        counts.incr(f"key-{n % 7}", 60)
    assert threading.active_count() == before


def test_concurrent_hits_are_all_counted():
    """Eight threads, 500 hits each, on one key: every hit counted once."""
    counts = ProcessCounts()
    barrier = threading.Barrier(8)

    def hit() -> None:
        barrier.wait()
        for _ in range(500):
            counts.incr("shared", 60)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts.get("shared") == 4000


def test_live_keys_are_not_scanned_again_until_they_have_doubled(monkeypatch):
    """Many live keys: a pass drops nothing, and the next waits for twice as many keys."""
    monkeypatch.setattr(rate_counts, "PRUNE_ABOVE", 10)
    counts = ProcessCounts(Clock())
    passes = []
    original = counts._prune
    monkeypatch.setattr(counts, "_prune", lambda now: passes.append(len(counts)) or original(now))
    for n in range(45):
        counts.incr(f"live-{n}", 60)
    assert passes == [11, 23]  # past 10 keys, then past twice the 11 left after the first pass
    assert len(counts) == 45
