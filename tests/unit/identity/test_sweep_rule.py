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
    # "F. Patiño" matches both spellings, which do not match each other (two edits in four
    # letters). Whichever of them met it first at write time, the sweep ends with all three.
    for first, second, third in (
        ("F. Patiño", "Fitto Patiño", "Fiot Patiño"),
        ("F. Patiño", "Fiot Patiño", "Fitto Patiño"),
    ):
        groups = closure([profile(1, first, second), profile(2, third)])
        assert groups == {frozenset({1, 2})}, (first, second, third)
    # Nothing merged yet: the initial links to both, and the closure is the same three.
    groups = closure(
        [profile(1, "F. Patiño"), profile(2, "Fitto Patiño"), profile(3, "Fiot Patiño")]
    )
    assert groups == {frozenset({1, 2, 3})}


NAMES = ("F. Patiño", "Fitto Patiño", "Fiot Patiño", "Patiño Fitto", "Jane Smith", "J. Smith",
         "John Smith", "Jon Smith", "Ann Lee", "Anne Leigh")  # fmt: skip


def test_what_links_two_profiles_still_links_them_after_either_absorbs_another():
    # Monotone: a merged person is known by every name of its parts.
    for a, b, c in permutations(NAMES, 3):
        if n.best_similarity([a], [b], every=True) >= 80.0:
            assert n.best_similarity([a, c], [b], every=True) >= 80.0
            assert n.best_similarity([c, a], [b], every=True) >= 80.0


def test_the_price_a_household_with_an_initial_written_ends_as_one_person():
    # Jane and John Smith share a phone; one record of Jane was written "J. Smith". The write
    # path merged it with Jane, and John stays apart from it; the sweep joins John too, as it
    # would have had "J. Smith" met John first.
    assert n.best_similarity(["Jane Smith", "J. Smith"], ["John Smith"]) == 50.0
    joined = closure([profile(1, "J. Smith", "Jane Smith"), profile(2, "John Smith")])
    assert joined == {frozenset({1, 2})}


def test_the_sweep_leaves_a_household_apart_when_no_initial_was_written():
    assert closure([profile(1, "Jane Smith"), profile(2, "John Smith")]) == set()


def test_a_holder_whose_name_was_cleared_counts_by_its_latest_name_as_at_write_time():
    # One phone, two holders: Ann Lee, and a profile whose name was cleared after being
    # written "Ann Lee". The write path counts one person on that phone (by the latest name),
    # so the phone is not shared at a limit of 1; the sweep judges it the same way and links.
    ann = Profile(1, WHEN, "Ann Lee", (PHONE,), names=("ann lee",))
    cleared = Profile(2, WHEN, None, (PHONE,), names=("ann lee",))
    plan = plan_sweep([(PHONE.norm, [1, 2])], {1: ann, 2: cleared}, threshold=80.0, shared_limit=1)
    assert plan.skipped_blocks == 0
    assert {frozenset(g.members) for g in plan.groups} == {frozenset({1, 2})}
