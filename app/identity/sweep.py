"""The sweep's rule: which live profiles are one person, whatever order they were written in.

Write-time resolution merges only what the record being written matches directly, so its
outcome depends on arrival order. The sweep closes that gap: two live profiles that hold a
common phone and are known by names at least ``threshold`` similar are one person (the phone +
name rule applied between profiles, every name of each compared), and so, transitively, is
every profile linked to them that way. Since merged profiles keep every phone and name of
their parts, that closure is the same for any order the records came in — within limits: a
person keeps the latest ``names.HISTORY_LIMIT`` distinct names only; a phone counts as shared
by the names its holders go by (``rules.going_by``, as at write time), which a merge may
change, and a block over ``MAX_BLOCK`` holders is skipped, both judged on the partition of the
moment; pairs unmerged by hand are kept apart in whichever order links come.

That holds only for a monotone rule: what links two profiles must still link them once either
has absorbed others. So the sweep compares every distinct name of each side, where the write
path leaves out a name another of the person's names spells out (``names.telling``: an initial
beside the spelled-out given name). With that filter, "F. Patiño" merged first with "Fitto
Patiño" no longer met "Fiot Patiño", merged first with "Fiot" it no longer met "Fitto": which
two ended together depended on arrival order. Compared in full, the initial joins all three in
every order. The price: a household where one record was written with an initial on the shared
phone ends as one person (the write path may already have merged it that way, depending on the
order; the sweep makes every order agree).

Emails and external ids need no sweep: each is held by one live profile per account (a unique
index), so two profiles never share one. Blocks are the holders of one phone; a phone shared
too widely (``rules.is_shared_phone``) links nobody, and a pair known to be two people
(unmerged) is never joined, directly or through others.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.identity import names
from app.identity.rules import going_by, is_shared_phone, known_names
from app.identity.types import Profile

# Holders of one phone compared pairwise at most: a block this large is a shared line, not a
# household; it is skipped (and counted) rather than compared in quadratic time.
MAX_BLOCK = 50


@dataclass(frozen=True)
class Link:
    """Two profiles the phone + name rule joins: the phone (normalized) and the best score."""

    a: int
    b: int
    phone: str
    score: float


@dataclass(frozen=True)
class Group:
    """Profiles that are one person: each member with the link that brought it in (the
    first member has none)."""

    members: tuple[int, ...]
    links: tuple[Link, ...]


@dataclass(frozen=True)
class SweepPlan:
    groups: tuple[Group, ...]
    blocks: int  # phones compared
    skipped_blocks: int  # phones shared too widely, or held by more than MAX_BLOCK


def similarity(a: Profile, b: Profile) -> float:
    """The sweep's measure of two profiles: the best pair of every name of each (monotone,
    see above). Planning and the re-check on locked rows both use it, so they agree."""
    return names.best_similarity(known_names(a), known_names(b), every=True)


def links_in(
    phone: str, holders: Sequence[Profile], *, threshold: float, shared_limit: int
) -> list[Link] | None:
    """The pairs of one phone's holders that the rule joins; ``None`` for a shared line."""
    if len(holders) > MAX_BLOCK or is_shared_phone(
        (going_by(p.name, p.names) for p in holders), limit=shared_limit, threshold=threshold
    ):
        return None
    found = []
    for i, a in enumerate(holders):
        for b in holders[i + 1 :]:
            score = similarity(a, b)
            if score >= threshold:
                found.append(Link(min(a.id, b.id), max(a.id, b.id), phone, score))
    return found


def plan_sweep(
    blocks: Iterable[tuple[str, Sequence[int]]],
    profiles: Mapping[int, Profile],
    *,
    threshold: float,
    shared_limit: int,
    distinct: Collection[frozenset[int]] = (),
) -> SweepPlan:
    """Group ``profiles`` by the links of every block (phone, holder ids). Strongest links
    join first (then by ids: deterministic); a link that would put a known distinct pair in
    one group is left out."""
    links: list[Link] = []
    compared = skipped = 0
    for phone, ids in blocks:
        holders = [profiles[i] for i in sorted(set(ids)) if i in profiles]
        if len(holders) < 2:
            continue
        found = links_in(phone, holders, threshold=threshold, shared_limit=shared_limit)
        if found is None:
            skipped += 1
            continue
        compared += 1
        links.extend(found)
    links.sort(key=lambda link: (-link.score, link.a, link.b, link.phone))
    return SweepPlan(_join(links, distinct), compared, skipped)


def _join(links: Sequence[Link], distinct: Collection[frozenset[int]]) -> tuple[Group, ...]:
    """Union-find with cannot-link pairs; groups ordered by their smallest id."""
    parent: dict[int, int] = {}
    members: dict[int, set[int]] = {}
    used: dict[int, list[Link]] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        members.setdefault(x, {x})
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    apart = {tuple(sorted(pair)) for pair in distinct if len(pair) == 2}
    for link in links:
        ra, rb = root(link.a), root(link.b)
        if ra == rb:
            continue
        if apart and any((min(x, y), max(x, y)) in apart for x in members[ra] for y in members[rb]):
            continue
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        members[ra] |= members.pop(rb)
        used.setdefault(ra, []).extend([*used.pop(rb, []), link])
    groups = [
        Group(tuple(sorted(group)), tuple(used.get(r, ())))
        for r, group in members.items()
        if parent[r] == r and len(group) > 1
    ]
    return tuple(sorted(groups, key=lambda g: g.members))
