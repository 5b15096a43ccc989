"""Duplicate suggestions: which profiles are likely the same person though the automatic rules
did not merge them, scored and explained. Pure: the candidates come from indexed lookups by the
blocking keys (``blocking.py``), the caller decides with a manual merge.

The reasons (stable codes), each with its score before the rarity of the name:

* ``email_domain_typo`` (90): the same local part on a known misspelling of the other's domain
  (``gmial.com``, the list ``domain_typos.json``); 60 when both have names and they are not
  even close;
* ``email_typo`` (85 / 80): emails at most one / two edits apart (a transposition is one) and
  the same name;
* ``phone_name_close`` (60..80, 85): the same phone, names close (``CLOSE`` .. threshold);
  85 when the names are at or above the threshold and nothing merged them;
* ``phone_no_name`` (55): the same phone, one of the two without a name;
* ``phone_one_digit`` (65..75): the same name, phones one national digit apart;
* ``name_company`` (60..70), ``name_city`` (55..65): the same name and company / city;
* ``name`` (30..50): the same name alone, less the more often that name occurs.

"The same name" is ``name_similarity`` at or above the threshold (the rules' own measure:
folded, any order, nicknames, initials, typos); the score grows with the similarity. A phone
held by more people than ``shared_limit`` (a front desk) suggests nothing. Several reasons add
4 each to the best one's score, at most 99.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import OSA

from app.identity import blocking
from app.identity.names import name_similarity
from app.identity.rules import DEFAULT_THRESHOLD, going_by, is_shared_phone
from app.identity.types import Kind, Profile

CLOSE = 60.0  # names at least this similar, below the threshold, are "close"
MAX_EMAIL_EDITS = 2
MIN_TYPO_LENGTH = 6  # shorter addresses are too alike by chance to call a typo
EXTRA_REASON = 4.0
MAX_SCORE = 99.0


class Reason(StrEnum):
    EMAIL_DOMAIN_TYPO = "email_domain_typo"
    EMAIL_TYPO = "email_typo"
    PHONE_NAME_CLOSE = "phone_name_close"
    PHONE_NO_NAME = "phone_no_name"
    PHONE_ONE_DIGIT = "phone_one_digit"
    NAME_COMPANY = "name_company"
    NAME_CITY = "name_city"
    NAME = "name"


@dataclass(frozen=True)
class Matched:
    """A value that matched: the suggested profile's ``value``, and this profile's ``near``
    when the two differ (a typo, another spelling)."""

    kind: str  # email, phone, name, company, city
    value: str
    near: str | None = None


@dataclass(frozen=True)
class Suggestion:
    profile_id: int
    score: float
    reasons: tuple[Reason, ...]
    matched: tuple[Matched, ...]


@dataclass(frozen=True)
class _Held:
    """A profile's distinct normalized emails and phones, in order: read once per
    suggestion request (each candidate is compared over and over)."""

    emails: tuple[str, ...]
    phones: tuple[str, ...]

    @classmethod
    def of(cls, profile: Profile) -> _Held:
        emails: dict[str, None] = {}
        phones: dict[str, None] = {}
        for i in profile.identifiers:
            if i.norm:
                if i.kind is Kind.EMAIL:
                    emails[i.norm] = None
                elif i.kind is Kind.PHONE:
                    phones[i.norm] = None
        return cls(tuple(emails), tuple(phones))


def _field(profile: Profile, name: str) -> str | None:
    return profile.fields.get(name)


def _matched(kind: str, theirs: str, mine: str | None) -> Matched:
    return Matched(kind, theirs, None if mine == theirs else mine)


def suggest(
    profile: Profile,
    candidates: Iterable[Profile],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    shared_limit: int = 5,
) -> list[Suggestion]:
    """Every candidate with a reason, best first (score, then id); never ``profile`` itself.

    ``candidates`` should include everyone the lookups found: the holders of a phone tell
    whether it is shared, and the candidates with the same name how common that name is.
    """
    others = [c for c in candidates if c.id != profile.id]
    similarity = {c.id: name_similarity(profile.name, c.name) for c in others}
    namesakes = sum(1 for c in others if similarity[c.id] >= threshold)
    held = {c.id: _Held.of(c) for c in (profile, *others)}
    shared = _shared_phones(profile, others, held, threshold, shared_limit)
    found = []
    for other in others:
        scored = _reasons(
            profile, other, held[profile.id], held[other.id], similarity[other.id],
            threshold, shared, namesakes,
        )  # fmt: skip
        if scored:
            found.append(_combine(other.id, scored))
    return sorted(found, key=lambda s: (-s.score, s.profile_id))


def _shared_phones(
    profile: Profile,
    others: Sequence[Profile],
    held: dict[int, _Held],
    threshold: float,
    limit: int,
) -> set[str]:
    """Phones of ``profile`` held by more than ``limit`` people (the rules' notion)."""
    shared = set()
    for phone in held[profile.id].phones:
        holders = [profile, *(o for o in others if phone in held[o.id].phones)]
        names = [going_by(p.name, p.names) for p in holders]
        if is_shared_phone(names, limit=limit, threshold=threshold):
            shared.add(phone)
    return shared


Scored = list[tuple[Reason, float, list[Matched]]]


def _reasons(
    me: Profile,
    other: Profile,
    mine: _Held,
    theirs: _Held,
    sim: float,
    threshold: float,
    shared: set[str],
    namesakes: int,
) -> Scored:
    found: Scored = []
    same_name = sim >= threshold
    # How strongly the names agree, 0 (at the threshold) .. 1 (equal after folding).
    q = (sim - threshold) / (100.0 - threshold) if same_name and threshold < 100 else 1.0
    name = [_matched("name", other.name, me.name)] if other.name and same_name else []
    both_named = me.name is not None and other.name is not None

    found += _email_reasons(mine.emails, theirs.emails, sim, same_name, both_named, name)
    my_phones, their_phones = mine.phones, theirs.phones
    common = [p for p in my_phones if p in their_phones and p not in shared]
    if common:
        phone = Matched("phone", common[0])
        if not both_named:
            found.append((Reason.PHONE_NO_NAME, 55.0, [phone]))
        elif sim >= CLOSE:
            score = 85.0 if same_name else 60.0 + 20.0 * (sim - CLOSE) / (threshold - CLOSE)
            named = _matched("name", other.name, me.name)
            found.append((Reason.PHONE_NAME_CLOSE, score, [phone, named]))
    if not same_name:
        return found
    near = [(t, m) for m in my_phones for t in their_phones if blocking.one_digit_apart(m, t)]
    if near and not common:
        theirs, mine = near[0]
        phone = Matched("phone", theirs, mine)
        found.append((Reason.PHONE_ONE_DIGIT, 65.0 + 10.0 * q, [phone, *name]))
    for kind, reason, base in (("company", Reason.NAME_COMPANY, 60.0),
                               ("city", Reason.NAME_CITY, 55.0)):  # fmt: skip
        mine_fold = _field(me, f"{kind}_fold")
        if mine_fold and mine_fold == _field(other, f"{kind}_fold"):
            value = _matched(kind, _field(other, kind) or "", _field(me, kind))
            found.append((reason, base + 10.0 * q, [*name, value]))
    if not found:
        # Rarer names say more: two people of one name in the account are worth a look, one
        # of hundreds is not.
        rarity = 10.0 * math.log2(max(namesakes, 1))
        found.append((Reason.NAME, max(5.0, 30.0 + 20.0 * q - rarity), name))
    return found


def _email_reasons(
    my_emails: tuple[str, ...],
    their_emails: tuple[str, ...],
    sim: float,
    same_name: bool,
    both_named: bool,
    name: list,
) -> Scored:
    found: Scored = []
    for mine in my_emails:
        for their in their_emails:
            if their == mine:
                continue
            if blocking.is_domain_typo(mine, their):
                score = 60.0 if both_named and sim < CLOSE else 90.0
                return [(Reason.EMAIL_DOMAIN_TYPO, score, [Matched("email", their, mine), *name])]
            if same_name and min(len(mine), len(their)) >= MIN_TYPO_LENGTH:
                edits = OSA.distance(mine, their, score_cutoff=MAX_EMAIL_EDITS)
                score = 85.0 if edits == 1 else 80.0
                if edits <= MAX_EMAIL_EDITS and (not found or score > found[0][1]):
                    found = [(Reason.EMAIL_TYPO, score, [Matched("email", their, mine), *name])]
    return found


def _combine(profile_id: int, scored: Scored) -> Suggestion:
    scored = sorted(scored, key=lambda item: -item[1])
    best = scored[0][1] + EXTRA_REASON * (len(scored) - 1)
    matched = tuple(dict.fromkeys(m for _, _, items in scored for m in items))
    return Suggestion(
        profile_id=profile_id,
        score=round(min(best, MAX_SCORE), 1),
        reasons=tuple(reason for reason, _, _ in scored),
        matched=matched,
    )
