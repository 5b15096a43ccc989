"""Recording the statements a piece of code sends, to EXPLAIN them afterwards."""

from __future__ import annotations

from typing import Any

import psycopg


class RecordingCursor(psycopg.Cursor):
    """Records every statement and its parameters before sending it (``log``: reset it first)."""

    log: list[tuple[Any, Any]] = []

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        RecordingCursor.log.append((query, params))
        return super().execute(query, params, **kwargs)
