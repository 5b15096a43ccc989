"""Parsing of values that the schemas and the services both need."""

from __future__ import annotations

from typing import Any

# Largest accepted UNIX timestamp: 9999-12-31T23:59:59Z.
MAX_TIMESTAMP = 253_402_300_799


def is_digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` (and ``int``) also accept ``８`` or ``٣``."""
    return text.isascii() and text.isdigit()


def parse_timestamp(value: Any) -> int:
    """A UNIX timestamp sent as an integer or as a string of digits (clients send both)."""
    if isinstance(value, str) and is_digits(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIMESTAMP:
        raise ValueError("Not a valid UNIX timestamp (integer or string of digits).")
    return value
