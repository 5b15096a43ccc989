"""Identity resolution core: pure rules, no Flask, no database, no clock.

Imports only the standard library (later also rapidfuzz and phonenumbers); the service layer
loads candidates with SQL, asks this package for a decision, and applies it.
"""

from app.identity.match import match_contact
from app.identity.normalize import identifier, normalize_email, normalize_external_id
from app.identity.types import Holder, Identifier, Kind, MatchResult

__all__ = [
    "Holder",
    "Identifier",
    "Kind",
    "MatchResult",
    "identifier",
    "match_contact",
    "normalize_email",
    "normalize_external_id",
]
