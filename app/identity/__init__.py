"""Identity resolution core: pure rules, no Flask, no database, no clock.

Imports only the standard library and phonenumbers (later rapidfuzz); the service layer
loads candidates with SQL, asks this package for a decision, and applies it.
"""

from app.identity.match import match_contact
from app.identity.normalize import (
    identifier,
    is_possible_phone,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from app.identity.types import Holder, Identifier, Kind, MatchResult

__all__ = [
    "Holder",
    "Identifier",
    "Kind",
    "MatchResult",
    "identifier",
    "is_possible_phone",
    "match_contact",
    "normalize_email",
    "normalize_external_id",
    "normalize_phone",
]
