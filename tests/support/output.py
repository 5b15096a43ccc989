"""Reading a server subprocess's output with deadlines, shared by the tests that start one."""

from __future__ import annotations

import queue
import re
import threading
import time
from typing import Any

import pytest

DEADLINE = 60


class Lines:
    """A subprocess's output read in a thread, so that waiting for a line has a deadline."""

    def __init__(self, stream: Any, deadline: float = DEADLINE) -> None:
        self.seen: list[str] = []
        self.deadline = deadline
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _next(self, until: float, waiting_for: str) -> str:
        try:
            line = self._queue.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"no {waiting_for} in time; got {self.seen}")
        if line is None:
            pytest.fail(f"output ended before {waiting_for}; got {self.seen}")
        self.seen.append(line)
        return line

    def wait_for(self, pattern: str, count: int = 1) -> list[re.Match[str]]:
        """Read on until ``count`` lines (in all) match the regex ``pattern``; their matches."""
        until = time.monotonic() + self.deadline
        while len(found := [m for line in self.seen if (m := re.search(pattern, line))]) < count:
            self._next(until, f"{count} lines matching {pattern!r}")
        return found

    def containing(self, text: str, count: int = 1) -> list[str]:
        """Read on until ``count`` lines (in all) contain ``text``; those lines."""
        return [m.string for m in self.wait_for(re.escape(text), count)]

    def until(self, prefix: str) -> list[str]:
        """Read on until a line starts with ``prefix``; every line up to and including it."""
        until = time.monotonic() + self.deadline
        while not any(line.startswith(prefix) for line in self.seen):
            self._next(until, f"a line starting with {prefix!r}")
        end = next(i for i, line in enumerate(self.seen) if line.startswith(prefix))
        return self.seen[: end + 1]

    def finish(self) -> list[str]:
        """Every line, once the stream has ended."""
        self._thread.join(timeout=self.deadline)
        assert not self._thread.is_alive(), "the output did not end"
        while not self._queue.empty():
            if (line := self._queue.get_nowait()) is not None:
                self.seen.append(line)
        return self.seen

    def join(self) -> None:
        self._thread.join(timeout=self.deadline)
