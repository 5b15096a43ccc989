"""Which existing profile a write resolves to.

The partner contacts rule (eEndorsements): external id first, then email, else a new contact.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.identity.types import Holder, Identifier, Kind, MatchResult

# Order in which identifier kinds decide the match.
PRECEDENCE = (Kind.EXTERNAL_ID, Kind.EMAIL)


def match_contact(identifiers: Iterable[Identifier], holders: Iterable[Holder]) -> MatchResult:
    """Resolve a partner upsert against the profiles already holding its identifiers.

    When the external id names one profile and the email belongs to another, the result
    carries both in ``conflict``: two people claim one record, which the caller must refuse
    (a later issue turns it into a merge).
    """
    wanted = {(i.kind, i.norm) for i in identifiers if i.norm is not None}
    by_kind: dict[Kind, int] = {}
    for holder in holders:
        if (holder.kind, holder.norm) in wanted:
            by_kind.setdefault(holder.kind, holder.profile_id)
    matched = [(kind, by_kind[kind]) for kind in PRECEDENCE if kind in by_kind]
    if not matched:
        return MatchResult(profile_id=None)
    rule, profile_id = matched[0]
    others = tuple(sorted({pid for _, pid in matched if pid != profile_id}))
    if others:
        return MatchResult(profile_id=profile_id, rule=rule, conflict=(profile_id, *others))
    return MatchResult(profile_id=profile_id, rule=rule)
