"""Values the identity core takes and returns: plain frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Kinds of identifier a profile can hold."""

    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    PHONE = "phone"


@dataclass(frozen=True, order=True)
class Identifier:
    """One identifier as given, with its normalized form (``None`` never matches)."""

    kind: Kind
    norm: str | None
    value: str


@dataclass(frozen=True)
class Holder:
    """A live profile that already holds a normalized identifier."""

    profile_id: int
    kind: Kind
    norm: str


@dataclass(frozen=True)
class MatchResult:
    """Which profile a write resolves to, and by which rule; ``None`` means create."""

    profile_id: int | None
    rule: Kind | None = None
    conflict: tuple[int, ...] = ()
