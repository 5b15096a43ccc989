"""Text normalization for matching, in one place (Python), never half in SQL.

The database compares only values folded here: its own ``lower()`` depends on the cluster's
locale (``C`` lower-cases ASCII only), Python's ``casefold`` does not.
"""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """Trimmed, NFC-composed and case-folded: ``" Ärger "`` and ``"ärger"`` match, so do
    ``"STRASSE"`` and ``"Straße"``."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold()).strip()


def fold_or_none(value: str | None) -> str | None:
    return None if value is None else fold(value)
