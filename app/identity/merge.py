"""Merge planning: which profile survives and what the merged person looks like.

The survivor is the most complete profile (measured before the write); a tie goes to the oldest.
Its non-empty values win, empty ones are filled from the others; custom data is unioned with
the survivor winning per property; the earliest ``created_at``/``first_seen`` and the latest
``last_seen`` are kept; ``unsubscribed`` and ``blocked`` are sticky.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.identity.names import union
from app.identity.types import ABSENT, Match, MergedAway, MergePlan, Profile, Rule, Undo

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


def plan_merge(
    profiles: Sequence[Profile], matches: Sequence[Match], *, survivor: int | None = None
) -> MergePlan:
    """Merge every profile in ``profiles`` (all matched by ``matches``) into the best one, or
    into ``survivor`` when the caller picks it (a manual merge); the others keep their rank."""
    if len(profiles) < 2:
        raise ValueError("a merge needs at least two profiles")
    ordered = rank(profiles)
    if survivor is not None:
        chosen = [p for p in ordered if p.id == survivor]
        if not chosen:
            raise ValueError(f"the survivor {survivor} is not one of the profiles")
        ordered = chosen + [p for p in ordered if p.id != survivor]
    first = ordered[0]
    by_id = {m.profile_id: m for m in matches}
    # The merged state after each profile in rank order: the plan is the last, and each
    # profile's undo is the step from the state before it to the state after it.
    states = [_State.of(ordered[:k]) for k in range(1, len(ordered) + 1)]
    final = states[-1]
    return MergePlan(
        survivor=first.id,
        merged=tuple(_evidence(p.id, first.id, by_id) for p in ordered[1:]),
        fields=final.fields,
        custom_data=final.custom_data,
        created_at=final.created_at,
        names=final.names,
        field_sources=final.field_sources,
        custom_data_sources=final.custom_data_sources,
        undo={p.id: _undo(states[k - 1], states[k]) for k, p in enumerate(ordered) if k},
    )


@dataclass(frozen=True)
class _State:
    """The merged person's values after merging a prefix of the profiles in rank order."""

    fields: dict[str, Any]
    field_sources: dict[str, int | None]
    custom_data: dict[str, Any]
    custom_data_sources: dict[str, int]
    created_at: Any
    names: tuple[str, ...]

    @classmethod
    def of(cls, ordered: Sequence[Profile]) -> _State:
        fields, sources = _fields(ordered)
        custom_data, custom_sources = _custom_data(ordered)
        created_at = min(p.created_at for p in ordered)
        return cls(
            fields, sources, custom_data, custom_sources, created_at, _history(fields, ordered)
        )


def _undo(before: _State, after: _State) -> Undo:
    """What merging one more profile into the survivor changes. Merges of one plan are
    recorded (and undone, last first) in rank order, so each one's "before" is the state the
    previous one left."""
    return Undo(
        fields={
            name: (before.fields.get(name), value)
            for name, value in after.fields.items()
            if before.fields.get(name) != value
        },
        custom_data={
            key: (before.custom_data.get(key, ABSENT), value)
            for key, value in after.custom_data.items()
            if before.custom_data.get(key, ABSENT) != value
        },
        created_at=None
        if after.created_at == before.created_at
        else (before.created_at, after.created_at),
        names=tuple(n for n in after.names if n not in before.names),
    )


def _history(fields: dict[str, Any], ordered: Sequence[Profile]) -> tuple[str, ...]:
    """The merged person's name history: its name first, then every profile's, rank order."""
    return union([fields.get("name")], *((p.name, *p.names) for p in ordered))


def _evidence(merged_id: int, survivor_id: int, matches: dict[int, Match]) -> MergedAway:
    """The rule linking the pair: the merged profile's own, unless the request merely named it,
    then the survivor's (e.g. a PUT on #1 setting the email that #2 holds: rule `email`)."""
    for match in (matches.get(merged_id), matches.get(survivor_id)):
        if match is not None and match.rule is not Rule.NAMED:
            return MergedAway(merged_id, match.rule, match.identifier, match.score)
    return MergedAway(merged_id, Rule.MANUAL, None, None)


def _fields(ordered: Sequence[Profile]) -> tuple[dict[str, Any], dict[str, int | None]]:
    """The consolidated fields, and the profile each value comes from (the first in rank
    order holding it; ``None`` when none does)."""
    names = {name for p in ordered for name in p.fields}
    fields: dict[str, Any] = {}
    sources: dict[str, int | None] = {}
    for name in names:
        held = [(p.fields.get(name), p.id) for p in ordered]
        present = [(v, pid) for v, pid in held if v is not None and v != ""]
        if name in STICKY:
            value = any(v is True for v, _ in held)
            source = next((pid for v, pid in held if v is True), None)
        elif not present:
            value, source = None, None
        elif name in EARLIEST:
            value, source = min(present, key=lambda vp: vp[0])
        elif name in LATEST:
            value, source = max(present, key=lambda vp: vp[0])
        else:
            value, source = present[0]
        fields[name], sources[name] = value, source
    return fields, sources


def _custom_data(ordered: Sequence[Profile]) -> tuple[dict[str, Any], dict[str, int]]:
    merged: dict[str, Any] = {}
    sources: dict[str, int] = {}
    for profile in reversed(ordered):  # the survivor last, so it wins per property
        merged.update(profile.custom_data)
        sources.update(dict.fromkeys(profile.custom_data, profile.id))
    return merged, sources
