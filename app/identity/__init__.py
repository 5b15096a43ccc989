"""Identity resolution core: pure rules, no Flask, no database, no clock.

Imports only the standard library, ``phonenumbers`` and ``rapidfuzz``. The service layer loads
candidates with SQL, asks this package for a decision, and applies it in the same transaction.
"""

from app.identity.merge import completeness, plan_merge, rank
from app.identity.names import name_similarity, normalize_name
from app.identity.normalize import (
    identifier,
    is_possible_phone,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from app.identity.placeholders import Placeholders
from app.identity.rules import DEFAULT_THRESHOLD, explain_pair, find_matches, is_shared_phone
from app.identity.types import (
    ABSENT,
    KINDS,
    Explanation,
    Identifier,
    Kind,
    Match,
    MergedAway,
    MergePlan,
    Profile,
    Record,
    Rule,
    Undo,
)

__all__ = [
    "ABSENT",
    "DEFAULT_THRESHOLD",
    "Explanation",
    "Identifier",
    "KINDS",
    "Kind",
    "Match",
    "MergePlan",
    "MergedAway",
    "Placeholders",
    "Profile",
    "Record",
    "Rule",
    "Undo",
    "completeness",
    "explain_pair",
    "find_matches",
    "identifier",
    "is_possible_phone",
    "is_shared_phone",
    "name_similarity",
    "normalize_email",
    "normalize_external_id",
    "normalize_name",
    "normalize_phone",
    "plan_merge",
    "rank",
]
