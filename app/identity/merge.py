"""Merge planning: which profile survives and what the merged person looks like.

The survivor is the most complete profile (measured before the write); a tie goes to the oldest.
Its non-empty values win, empty ones are filled from the others; custom data is unioned with
the survivor winning per property; the earliest ``created_at``/``first_seen`` and the latest
``last_seen`` are kept; ``unsubscribed`` and ``blocked`` are sticky.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.identity.types import Match, MergedAway, MergePlan, Profile, Rule

STICKY = ("unsubscribed", "blocked")
EARLIEST = ("first_seen",)
LATEST = ("last_seen",)


def completeness(profile: Profile) -> int:
    """Non-null fields (booleans only when true) + identifiers + tags + custom keys + events."""
    filled = sum(1 for value in profile.fields.values() if value is not None and value is not False)
    return (
        filled + len(profile.identifiers) + profile.tags + len(profile.custom_data) + profile.events
    )


def rank(profiles: Sequence[Profile]) -> list[Profile]:
    """Most complete first; ties by age (oldest first), then id."""
    return sorted(profiles, key=lambda p: (-completeness(p), p.created_at, p.id))


def plan_merge(profiles: Sequence[Profile], matches: Sequence[Match]) -> MergePlan:
    """Merge every profile in ``profiles`` (all matched by ``matches``) into the best one."""
    if len(profiles) < 2:
        raise ValueError("a merge needs at least two profiles")
    ordered = rank(profiles)
    survivor = ordered[0]
    by_id = {m.profile_id: m for m in matches}
    return MergePlan(
        survivor=survivor.id,
        merged=tuple(_evidence(p.id, survivor.id, by_id) for p in ordered[1:]),
        fields=_fields(ordered),
        custom_data=_custom_data(ordered),
        created_at=min(p.created_at for p in ordered),
    )


def _evidence(merged_id: int, survivor_id: int, matches: dict[int, Match]) -> MergedAway:
    """The rule linking the pair: the merged profile's own, unless the request merely named it,
    then the survivor's (e.g. a PUT on #1 setting the email that #2 holds: rule `email`)."""
    for match in (matches.get(merged_id), matches.get(survivor_id)):
        if match is not None and match.rule is not Rule.NAMED:
            return MergedAway(merged_id, match.rule, match.identifier, match.score)
    return MergedAway(merged_id, Rule.MANUAL, None, None)


def _fields(ordered: Sequence[Profile]) -> dict[str, Any]:
    names = {name for p in ordered for name in p.fields}
    fields: dict[str, Any] = {}
    for name in names:
        values = [p.fields.get(name) for p in ordered]
        present = [v for v in values if v is not None and v != ""]
        if name in STICKY:
            fields[name] = any(v is True for v in values)
        elif name in EARLIEST:
            fields[name] = min(present) if present else None
        elif name in LATEST:
            fields[name] = max(present) if present else None
        else:
            fields[name] = present[0] if present else None
    return fields


def _custom_data(ordered: Sequence[Profile]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for profile in reversed(ordered):  # the survivor last, so it wins per property
        merged.update(profile.custom_data)
    return merged
