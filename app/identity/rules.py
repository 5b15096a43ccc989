"""The matching rules: which live profiles are the person a write describes.

1. the profile the request names; 2. the one holding the external id; 3. the one holding the
email (an identical email is always the same person); 4. profiles holding the phone whose name
is at least ``threshold`` similar. Only direct matches against the record count: a merge never
chains through a profile that merely resembles another match.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from app.identity.names import name_similarity
from app.identity.types import Explanation, Kind, Match, Profile, Record, Rule

DEFAULT_THRESHOLD = 80.0
STRENGTH = (Rule.NAMED, Rule.EXTERNAL_ID, Rule.EMAIL, Rule.PHONE_NAME)
_BY_KIND = {Kind.EXTERNAL_ID: Rule.EXTERNAL_ID, Kind.EMAIL: Rule.EMAIL}


def find_matches(
    record: Record,
    candidates: Iterable[Profile],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    shared_phones: Collection[str] = (),
) -> list[Match]:
    """Every candidate that is the person, once each, by its strongest rule; named first."""
    best: dict[int, Match] = {}

    def offer(match: Match) -> None:
        current = best.get(match.profile_id)
        if current is None or STRENGTH.index(match.rule) < STRENGTH.index(current.rule):
            best[match.profile_id] = match

    wanted = {(i.kind, i.norm): i for i in record.identifiers if i.norm is not None}
    for profile in candidates:
        if profile.id == record.named:
            offer(Match(profile.id, Rule.NAMED))
        for held in profile.identifiers:
            ident = wanted.get((held.kind, held.norm))
            if ident is None:
                continue
            if held.kind in _BY_KIND:
                offer(Match(profile.id, _BY_KIND[held.kind], ident))
            elif held.kind is Kind.PHONE and held.norm not in shared_phones:
                score = name_similarity(record.name, profile.name)
                if score >= threshold:
                    offer(Match(profile.id, Rule.PHONE_NAME, ident, score))
    return sorted(best.values(), key=lambda m: (STRENGTH.index(m.rule), m.profile_id))


def is_shared_phone(names: Iterable[str | None], *, limit: int, threshold: float) -> bool:
    """More than ``limit`` holders whose names are pairwise below the threshold: a front desk
    or call centre number, not a person's. Nameless holders count as distinct people."""
    distinct: list[str | None] = []
    for name in names:
        if name is None or all(
            other is None or name_similarity(name, other) < threshold for other in distinct
        ):
            distinct.append(name)
            if len(distinct) > limit:
                return True
    return False


def explain_pair(
    survivor: Profile,
    other: Profile,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    shared_phones: Collection[str] = (),
) -> Explanation:
    """Whether the automatic rules would merge ``other`` into ``survivor`` had ``other`` been
    written with its identifiers and name: the strongest rule and score, or why not."""
    record = Record(identifiers=other.identifiers, name=other.name)
    [match, *_] = find_matches(
        record, [survivor], threshold=threshold, shared_phones=shared_phones
    ) or [None]
    if match is not None:
        reason = f"they share {match.identifier.kind}" if match.identifier else "named"
        if match.rule is Rule.PHONE_NAME:
            reason = f"they share a phone and their names are {match.score:.1f} similar"
        return Explanation(match.rule, reason, match.identifier, match.score)
    mine = {(i.kind, i.norm) for i in survivor.identifiers if i.norm is not None}
    phones = [
        i for i in other.identifiers
        if i.kind is Kind.PHONE and i.norm is not None and (i.kind, i.norm) in mine
    ]  # fmt: skip
    if not phones:
        return Explanation(None, "no email, external id or phone in common")
    if all(p.norm in shared_phones for p in phones):
        return Explanation(None, "their only common phone is shared by too many people", phones[0])
    score = name_similarity(survivor.name, other.name)
    reason = f"they share a phone but their names are {score:.1f} similar (threshold {threshold:g})"
    if survivor.name is None or other.name is None:
        reason = "they share a phone but one of them has no name"
    return Explanation(None, reason, phones[0], score)
