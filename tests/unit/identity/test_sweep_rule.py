"""The sweep's rule (``identity/sweep.py``): monotone, so that its closure does not depend on
the order the records came in."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations

from app.identity import Identifier, Kind, Profile
from app.identity import names as n
from app.identity.sweep import plan_sweep

PHONE = Identifier(Kind.PHONE, "+34600000001", "+34 600 000 001")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def profile(pid: int, *written: str) -> Profile:
    """A live profile on ``PHONE`` written with these names (the last one current)."""
    return Profile(pid, WHEN, written[-1], (PHONE,), names=tuple(reversed(written)))


def closure(profiles: list[Profile]) -> set[frozenset[int]]:
    plan = plan_sweep(
        [(PHONE.norm, [p.id for p in profiles])],
        {p.id: p for p in profiles},
        threshold=80.0,
        shared_limit=5,
    )
    return {frozenset(g.members) for g in plan.groups}


def test_every_compares_each_distinct_name_even_one_another_spells_out():
    assert n.best_similarity(["Fitto Patino"], ["F. Patino", "Fiot Patino"]) == 50.0
    assert n.best_similarity(["Fitto Patino"], ["F. Patino", "Fiot Patino"], every=True) == 90.0


def test_the_sweep_joins_an_initial_to_every_spelling_it_stands_for_whichever_met_first():
    # "F. Patiño" matches both spellings, which do not match each other: the write path merged
    # it with whichever came first, and the other was left apart, in either order.
    records = ("F. Patiño", "Fitto Patiño", "Fiot Patiño")
    ends = set()
    for first, second, third in permutations(records):
        split = [profile(1, first, second), profile(2, third)]  # what the write path left
        [group] = closure(split)
        ends.add(group)
    assert ends == {frozenset({1, 2})}


def test_the_sweep_still_leaves_a_household_apart():
    # Two given names on one phone, no initial written: two people.
    assert closure([profile(1, "Jane Smith"), profile(2, "John Smith")]) == set()
