"""Normalized forms of identifiers, used for matching and for the unique indexes.

The value as given is stored beside the normalized one; only the normalized one is compared.
A placeholder ("noemail@...", "0000000000", "undefined") has no normalized form: it is kept
as given but never matches.
"""

from __future__ import annotations

import phonenumbers

from app.identity.placeholders import NONE, Placeholders
from app.identity.types import Identifier, Kind

DEFAULT_REGION = "US"


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


def parse_phone(value: str, region: str = DEFAULT_REGION) -> phonenumbers.PhoneNumber | None:
    """The parsed number, or ``None`` when ``phonenumbers`` cannot read it as a phone number."""
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None


def is_possible_phone(value: str, region: str = DEFAULT_REGION) -> bool:
    """*Possible*, not *valid*: the mimicked API's own example +10233456781 must pass."""
    number = parse_phone(value, region)
    return number is not None and phonenumbers.is_possible_number(number)


def normalize_phone(
    value: str | None, region: str = DEFAULT_REGION, placeholders: Placeholders = NONE
) -> str | None:
    """E.164 (``+14155550100``); numbers without a country code are read in ``region``."""
    if value is None:
        return None
    number = parse_phone(value, region)
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.national_significant_number(number)
    return None if placeholders.is_phone(e164, national) else e164


def identifier(
    kind: Kind, value: str, *, region: str = DEFAULT_REGION, placeholders: Placeholders = NONE
) -> Identifier:
    """The identifier ``value`` of ``kind`` with its normalized form (``None``: never matches)."""
    if kind is Kind.PHONE:
        norm = normalize_phone(value, region, placeholders)
    elif kind is Kind.EMAIL:
        norm = normalize_email(value)
        norm = None if norm is None or placeholders.is_email(norm) else norm
    else:
        norm = normalize_external_id(value)
        norm = None if norm is None or placeholders.is_external_id(norm) else norm
    return Identifier(kind=kind, norm=norm, value=value)
