"""Round trips on the wire, read from libpq's own trace of a connection's protocol messages.

A round trip is one turn of the conversation: the client sends one or more messages, then
reads what the server answers. Counted as the turns from frontend (``F``) to backend (``B``)
lines of the trace, so pipelined statements sent together count once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import Trace


class Wire:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def round_trips(self) -> int:
        turns, previous = 0, ""
        for line in self.lines:
            direction = line.split("\t", 1)[0]
            if direction == "B" and previous == "F":
                turns += 1
            if direction in ("F", "B"):
                previous = direction
        return turns

    @property
    def sent(self) -> list[str]:
        """What the client sent, one line a message (``Parse "" "BEGIN"`` and so on)."""
        return [
            " ".join(part.strip() for part in line.split("\t")[2:])
            for line in self.lines
            if line.startswith("F\t")
        ]


@contextmanager
def traced(conn: psycopg.Connection, wire: Wire) -> Iterator[None]:
    """Append ``conn``'s protocol messages to ``wire`` while the block runs."""
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        try:
            yield
        finally:
            conn.pgconn.untrace()
            trace.seek(0)
            wire.lines.extend(trace.read().splitlines())
