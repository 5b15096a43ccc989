"""Placeholder values ("noemail@...", "0000000000", "undefined"): never identifiers.

The lists come from a data file (``placeholders.json`` beside this module, plus a deployment's
own file); this module only decides, so it stays pure: the shell loads the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_DIGITS = re.compile(r"\D")
ASCENDING = "01234567890123456789"
DESCENDING = "98765432109876543210"


@dataclass(frozen=True)
class Placeholders:
    email_addresses: frozenset[str] = frozenset()
    email_local_parts: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    external_ids: frozenset[str] = frozenset()

    @classmethod
    def from_mappings(cls, mappings: Iterable[Mapping[str, Any]]) -> Placeholders:
        """Union of several data files' lists (built-in first, then the deployment's)."""
        merged: dict[str, set[str]] = {name: set() for name in cls.__dataclass_fields__}
        for mapping in mappings:
            for name, values in mapping.items():
                if name in merged:
                    merged[name].update(str(v).strip().lower() for v in values)
        return cls(**{name: frozenset(values) for name, values in merged.items()})

    def is_email(self, norm: str) -> bool:
        """``norm`` is an already trimmed, lower-cased address."""
        local, _, domain = norm.rpartition("@")
        return (
            norm in self.email_addresses
            or local in self.email_local_parts
            or domain in self.email_domains
        )

    def is_phone(self, e164: str, national: str | None = None) -> bool:
        """Listed numbers, and national digits all equal or one ascending/descending run."""
        return e164 in self.phones or is_trivial_digits(e164, national)

    def is_external_id(self, norm: str) -> bool:
        return norm.lower() in self.external_ids


def is_trivial_digits(number: str, national: str | None = None) -> bool:
    """All one digit (``0000000000``) or a run (``1234567890``, ``9876543210``), judged on the
    national digits when known and on all the digits of ``number``."""
    for candidate in filter(None, (national, _DIGITS.sub("", number))):
        if len(set(candidate)) == 1 or candidate in ASCENDING or candidate in DESCENDING:
            return True
    return False


NONE = Placeholders()
