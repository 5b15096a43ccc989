"""Flask's JSON provider with orjson writing the responses (bench/overhead.py measures it).

Every response reads as before: the same key order (``sort_keys`` as configured), compact
separators and a final newline, non-ASCII escaped as ``\\uXXXX`` (Flask's ``ensure_ascii``),
and dates, datetimes, UUIDs, decimals and dataclasses through Flask's own ``default`` (HTTP
dates, ``str``, ``asdict``). Our schemas turn values into JSON types before this sees them.
The one difference in bytes, not in meaning: floats with small exponents (``1e-7`` where
``json`` writes ``1e-07``).

Whatever orjson refuses (integers beyond 64 bits, non-string keys, lone surrogates, a type
``default`` rejects) goes through ``json`` exactly as before, errors included. ``dumps``,
``loads`` and the indented output of debug mode stay Flask's own.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from flask import Response
from flask.json.provider import DefaultJSONProvider

# ``json``'s ensure_ascii escapes everything outside printable ASCII: orjson already escapes
# what lies below the space, which leaves DEL and all of non-ASCII (only ever inside strings).
_UNESCAPED = re.compile(r"[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    """``json``'s escape of one character: ``\\u00e9``, astral planes as surrogate pairs."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


class OrjsonProvider(DefaultJSONProvider):
    """``DefaultJSONProvider`` whose compact responses are written by orjson."""

    # Dates and dataclasses reach ``default`` (Flask's HTTP dates, ``asdict``), not orjson's.
    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def dumpb(self, obj: Any) -> bytes:
        """Compact JSON as ``json.dumps(obj, separators=(",", ":"))`` with our settings."""
        option = self._OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        try:
            data = orjson.dumps(obj, default=self.default, option=option)
        except orjson.JSONEncodeError:
            return self.dumps(obj, separators=(",", ":")).encode()
        if self.ensure_ascii and not (data.isascii() and b"\x7f" not in data):
            return _UNESCAPED.sub(_escape, data.decode("utf-8")).encode("ascii")
        return data

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented: rare, leave it to json
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumpb(obj) + b"\n", mimetype=self.mimetype)
