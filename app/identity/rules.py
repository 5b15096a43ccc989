"""The matching rules: which live profiles are the person a write describes.

1. the profile the request names; 2. the one holding the external id; 3. the one holding the
email (an identical email is always the same person); 4. profiles holding the phone with a name
at least ``threshold`` similar (``names.name_similarity``) to the record's, among every name
the profile has been written with. Only direct matches against the record count: a merge never
chains through a profile that merely resembles another match.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from app.identity import names
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
                score = names.best_similarity((record.name, *record.names), known_names(profile))
                if score >= threshold:
                    offer(Match(profile.id, Rule.PHONE_NAME, ident, score))
    return sorted(best.values(), key=lambda m: (STRENGTH.index(m.rule), m.profile_id))


def known_names(profile: Profile) -> tuple[str | None, ...]:
    """Every name the profile is known by: its current one and its history."""
    return (profile.name, *profile.names)


def going_by(name: str | None, names: Iterable[str]) -> str | None:
    """The name a phone holder counts as for ``is_shared_phone``: its current one, else its
    latest. The write path and the sweep judge a phone by the same names."""
    return name or next(iter(names), None)


def is_shared_phone(names: Iterable[str | None], *, limit: int, threshold: float) -> bool:
    """More than ``limit`` holders whose names are pairwise below the threshold: a front desk
    or call centre number, not a person's. Nameless holders count as distinct people."""
    held = list(names)
    if len(held) <= limit:  # too few to be more than ``limit`` people: nothing to compare
        return False
    distinct: list[str | None] = []
    for name in held:
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
    written with its identifiers and one of its names: the strongest rule and best score, or
    why not (a household: "different given names: jane / john")."""
    record = Record(identifiers=other.identifiers, name=other.name, names=other.names)
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
    comparison, left, right = names.best_comparison(known_names(survivor), known_names(other))
    if left is None or right is None:
        return Explanation(None, "they share a phone but one of them has no name", phones[0], 0.0)
    score = comparison.score
    reason = f"their names are {score:.1f} similar (threshold {threshold:g})"
    differ = _differing_words(comparison, _given(survivor, left), _given(other, right))
    reason = f"they share a phone but {differ + '; ' if differ else ''}{reason}"
    return Explanation(None, reason, phones[0], score)


def _given(profile: Profile, name: str) -> str | None:
    """The word in the given-name position of ``name`` (one of the profile's names)."""
    if profile.name is not None and names.normalize_name(profile.name) == name:
        return names.given_name(profile.name)
    return names.given_name(name)


def _differing_words(comparison: names.Comparison, left: str | None, right: str | None) -> str:
    """Which words make two names two people, when others agree: "have different given names:
    jane / john" (a household), "have different names: smith / jones"."""
    conflicts = comparison.conflicts
    if not conflicts or not comparison.agreements:
        return ""
    listed = ", ".join(f"{x} / {y}" for x, y in conflicts)
    given = len(conflicts) == 1 and (conflicts[0][0] == left or conflicts[0][1] == right)
    return f"have different {'given names' if given else 'names'}: {listed}"
