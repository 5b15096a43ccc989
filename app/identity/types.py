"""Values the identity core takes and returns: plain frozen dataclasses, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Kinds of identifier a profile can hold."""

    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    PHONE = "phone"


# Kind by its stored value: a dict lookup, where ``Kind(value)`` costs 20 times as much (the
# readers of candidates and merge facts turn thousands of stored kinds a request or batch).
KINDS: Mapping[str, Kind] = {kind.value: kind for kind in Kind}


@dataclass(frozen=True, order=True)
class Identifier:
    """One identifier as given, with its normalized form (``None`` never matches)."""

    kind: Kind
    norm: str | None
    value: str


class Rule(StrEnum):
    """Why a profile is the person being written (recorded with every merge)."""

    NAMED = "named"  # the request named it by id
    EXTERNAL_ID = "external_id"
    EMAIL = "email"
    PHONE_NAME = "phone_name"
    MANUAL = "manual"


@dataclass(frozen=True)
class Profile:
    """What the core needs to know of a live profile: to match it, rank it and merge it."""

    id: int
    created_at: Any  # a datetime; only compared
    name: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    custom_data: Mapping[str, Any] = field(default_factory=dict)
    tags: int = 0
    events: int = 0
    # Every name it has been written with, normalized, newest first (the phone + name rule).
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Record:
    """The person a write describes: the identifiers it sets and the name to compare."""

    identifiers: tuple[Identifier, ...]
    name: str | None = None
    named: int | None = None  # the profile the request names by id, if any
    # More names of the person written, compared too (a write naming a profile without
    # sending a name compares the profile's name history).
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """One live profile the rules say is the person, and the evidence."""

    profile_id: int
    rule: Rule
    identifier: Identifier | None = None
    score: float | None = None


@dataclass(frozen=True)
class MergedAway:
    profile_id: int
    rule: Rule
    identifier: Identifier | None
    score: float | None


@dataclass(frozen=True)
class Undo:
    """What merging one profile changed in the survivor, as ``(before, after)`` pairs: before
    is the survivor merged with the profiles ranked ahead of this one, after adds this one.
    A custom-data key missing on one side is ``ABSENT``."""

    fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    custom_data: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    created_at: tuple[Any, Any] | None = None
    # The names the merge added to the survivor's name history.
    names: tuple[str, ...] = ()


class _Absent:
    """A custom-data key that is not there (distinct from a JSON ``null`` value)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class MergePlan:
    """How several profiles become one: the survivor, who goes, and the consolidated values."""

    survivor: int
    merged: tuple[MergedAway, ...]
    fields: Mapping[str, Any]
    custom_data: Mapping[str, Any]
    created_at: Any
    # Which profile each consolidated value comes from (``None``: no profile has one).
    field_sources: Mapping[str, int | None] = field(default_factory=dict)
    custom_data_sources: Mapping[str, int] = field(default_factory=dict)
    # The merged person's name history: the survivor's names first, bounded.
    names: tuple[str, ...] = ()
    # Per merged profile, what merging it changed: what an unmerge puts back.
    undo: Mapping[int, Undo] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """What the automatic rules say about two profiles: the rule (and score) that would merge
    them, or why none would."""

    rule: Rule | None
    reason: str
    identifier: Identifier | None = None
    score: float | None = None
