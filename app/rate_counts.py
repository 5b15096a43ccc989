"""``memory://`` rate-limit counts without a timer thread.

``limits``' own ``MemoryStorage`` expires keys from a ``threading.Timer`` of 10 ms that each
``incr`` restarts when it has run out: under steady traffic a worker starts a new thread for
nearly every request (about 300 µs of a partner upsert in ``bench/profile.py``, and one more
thread contending for the GIL). The fixed window needs none of that: a counter and the time
its window ends, looked at when the key is next counted, and expired keys dropped in passing
once there are many.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from limits.storage import Storage

# Above this many keys, a new window drops the expired ones (one pass over the dict); the next
# pass waits until the dict has doubled again, so a process with many live keys pays for a
# pass once per doubling, never once per window.
PRUNE_ABOVE = 10_000


class ProcessCounts(Storage):
    """Fixed-window counters of one process (``memory://``): exact within it only."""

    STORAGE_SCHEME = None  # not registered: init_app builds it for memory:// itself

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._prune_above = PRUNE_ABOVE

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._clock()
        with self._lock:
            ends, count = self._counts.get(key, (0.0, 0))
            if ends <= now:
                if len(self._counts) > self._prune_above:
                    self._prune(now)
                    self._prune_above = max(PRUNE_ABOVE, 2 * len(self._counts))
                ends, count = now + expiry, 0
            count += amount
            self._counts[key] = (ends, count)
            return count

    def get(self, key: str) -> int:
        ends, count = self._counts.get(key, (0.0, 0))
        return count if ends > self._clock() else 0

    def get_expiry(self, key: str) -> float:
        now = self._clock()
        ends, _ = self._counts.get(key, (now, 0))
        return ends if ends > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counts)
            self._counts.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, (ends, _) in self._counts.items() if ends <= now]:
            del self._counts[key]

    def __len__(self) -> int:
        return len(self._counts)
