"""Normalized forms of identifiers, used for matching and for the unique indexes.

The value as given is stored beside the normalized one; only the normalized one is compared.
"""

from __future__ import annotations

from app.identity.types import Identifier, Kind


def normalize_email(value: str | None) -> str | None:
    """Trimmed and lower-cased: mailbox case is ignored by every real provider."""
    if value is None:
        return None
    norm = value.strip().lower()
    return norm or None


def normalize_external_id(value: str | None) -> str | None:
    """Trimmed, otherwise exact: external ids are opaque and may be case-sensitive."""
    if value is None:
        return None
    norm = value.strip()
    return norm or None


_NORMALIZERS = {Kind.EMAIL: normalize_email, Kind.EXTERNAL_ID: normalize_external_id}


def identifier(kind: Kind, value: str) -> Identifier:
    """The identifier ``value`` of ``kind`` with its normalized form."""
    return Identifier(kind=kind, norm=_NORMALIZERS[kind](value), value=value)
