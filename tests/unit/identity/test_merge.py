"""Merge planning: the survivor (most complete; a tie goes to the oldest), the consolidated
person, and the evidence recorded for each merged-away profile."""

from __future__ import annotations

import datetime as dt

import pytest

from app.identity import (
    Kind,
    Match,
    MergedAway,
    Profile,
    Rule,
    completeness,
    identifier,
    plan_merge,
    rank,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def at(days: int) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def email(value: str):
    return identifier(Kind.EMAIL, value)


def phone(value: str):
    return identifier(Kind.PHONE, value)


def person(pid: int, *, age: int = 0, **kwargs) -> Profile:
    """A profile created ``age`` days before the others of age 0."""
    return Profile(id=pid, created_at=at(-age), **kwargs)


def links(*ids: int) -> list[Match]:
    return [Match(pid, Rule.EMAIL, email("x@example.com")) for pid in ids]


# --- completeness --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        pytest.param(person(1), 0, id="empty"),
        pytest.param(person(1, fields={"name": "Ann", "company": None}), 1, id="null-not-counted"),
        pytest.param(
            person(1, fields={"unsubscribed": False, "blocked": False}), 0, id="false-not-counted"
        ),
        pytest.param(
            person(1, fields={"unsubscribed": True, "blocked": False}), 1, id="true-counted"
        ),
        pytest.param(
            person(1, identifiers=(email("a@example.com"), phone("4155550100"))),
            2,
            id="identifiers",
        ),
        pytest.param(person(1, tags=3), 3, id="tags"),
        pytest.param(person(1, custom_data={"plan": "pro", "seats": 3}), 2, id="custom-keys"),
        pytest.param(person(1, events=4), 4, id="events"),
        pytest.param(
            person(
                1,
                fields={"name": "Ann", "company": None, "unsubscribed": False, "blocked": True},
                identifiers=(email("a@example.com"), phone("4155550100")),
                tags=3,
                custom_data={"plan": "pro"},
                events=4,
            ),
            2 + 2 + 3 + 1 + 4,
            id="all-together",
        ),
    ],
)
def test_completeness_counts_fields_identifiers_tags_custom_keys_events(profile, expected):
    assert completeness(profile) == expected


# --- survivor choice -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profiles", "survivor"),
    [
        pytest.param(
            [person(1, age=9, fields={"name": "A"}), person(2, fields={"name": "B", "city": "X"})],
            2,
            id="most-complete-wins-over-older",
        ),
        pytest.param(
            [person(1, fields={"name": "A"}), person(2, age=3, fields={"name": "B"})],
            2,
            id="tie-goes-to-oldest",
        ),
        pytest.param(
            [person(5, fields={"name": "A"}), person(4, fields={"name": "B"})],
            4,
            id="tie-same-age-lowest-id",
        ),
        pytest.param(
            [person(1, age=5, fields={"name": "A"}), person(2, events=2)],
            2,
            id="events-count",
        ),
        pytest.param(
            [person(1, age=5, fields={"blocked": False}), person(2, tags=1)],
            2,
            id="false-boolean-does-not-count",
        ),
        pytest.param(
            [person(1, age=5, tags=1), person(2, custom_data={"a": 1, "b": 2})],
            2,
            id="custom-keys-count",
        ),
    ],
)
def test_survivor_is_the_most_complete_profile_tie_goes_to_the_oldest(profiles, survivor):
    assert rank(profiles)[0].id == survivor
    assert plan_merge(profiles, links(*(p.id for p in profiles))).survivor == survivor


def test_rank_orders_every_profile_most_complete_first_then_oldest():
    profiles = [
        person(1, fields={"name": "A"}),
        person(2, age=1, fields={"name": "B"}),
        person(3, fields={"name": "C", "city": "X"}),
        person(4),
    ]
    assert [p.id for p in rank(profiles)] == [3, 2, 1, 4]


def test_plan_merge_merges_away_every_other_profile_in_rank_order():
    profiles = [person(1), person(2, tags=2), person(3, tags=1)]
    plan = plan_merge(profiles, links(1, 2, 3))
    assert plan.survivor == 2
    assert [m.profile_id for m in plan.merged] == [3, 1]


@pytest.mark.parametrize("count", [0, 1])
def test_plan_merge_needs_at_least_two_profiles(count):
    with pytest.raises(ValueError):
        plan_merge([person(i) for i in range(1, count + 1)], links(1))


# --- consolidation -------------------------------------------------------------------------


def plan_fields(survivor: dict, other: dict, **other_extra):
    """Consolidated fields of a richer survivor (id 1) and a sparser other profile (id 2)."""
    profiles = [
        person(1, fields=survivor, tags=10),  # tags make it the survivor whatever the fields
        person(2, age=5, fields=other, **other_extra),
    ]
    plan = plan_merge(profiles, links(1, 2))
    assert plan.survivor == 1
    return plan


@pytest.mark.parametrize(
    ("survivor", "other", "expected"),
    [
        pytest.param({"company": "Acme"}, {"company": "Globex"}, "Acme", id="survivor-wins"),
        pytest.param({"company": None}, {"company": "Globex"}, "Globex", id="null-filled"),
        pytest.param({"company": ""}, {"company": "Globex"}, "Globex", id="empty-filled"),
        pytest.param({}, {"company": "Globex"}, "Globex", id="absent-filled"),
        pytest.param({"company": "Acme"}, {"company": None}, "Acme", id="other-null-ignored"),
        pytest.param({"company": None}, {"company": None}, None, id="both-null"),
    ],
)
def test_consolidation_survivor_non_empty_values_win_empty_ones_are_filled(
    survivor, other, expected
):
    assert plan_fields(survivor, other).fields["company"] == expected


def test_consolidation_fills_from_the_next_most_complete_profile_first():
    profiles = [
        person(1, fields={"city": None}, tags=10),
        person(2, fields={"city": "Lyon"}, tags=5),
        person(3, age=9, fields={"city": "Oslo"}, tags=1),
    ]
    assert plan_merge(profiles, links(1, 2, 3)).fields["city"] == "Lyon"


def test_consolidation_custom_data_is_unioned_the_survivor_winning_per_key():
    plan = plan_fields(
        {},
        {},
        custom_data={"plan": "free", "seats": 1, "source": "ads"},
    )
    assert plan.custom_data == {"plan": "free", "seats": 1, "source": "ads"}
    profiles = [
        person(1, custom_data={"plan": "pro", "vip": True}, tags=10),
        person(2, custom_data={"plan": "free", "seats": 1}),
        person(3, custom_data={"seats": 2, "source": "ads"}, tags=1),
    ]
    merged = plan_merge(profiles, links(1, 2, 3)).custom_data
    # The survivor wins, then the next most complete (3), then the rest (2).
    assert merged == {"plan": "pro", "vip": True, "seats": 2, "source": "ads"}


def test_consolidation_keeps_the_earliest_created_at():
    profiles = [person(1, tags=10), person(2, age=30), person(3, age=7)]
    assert plan_merge(profiles, links(1, 2, 3)).created_at == at(-30)


@pytest.mark.parametrize(
    ("survivor", "other", "expected"),
    [
        pytest.param(at(5), at(1), at(1), id="other-earlier"),
        pytest.param(at(1), at(5), at(1), id="survivor-earlier"),
        pytest.param(None, at(5), at(5), id="survivor-unknown"),
        pytest.param(at(5), None, at(5), id="other-unknown"),
    ],
)
def test_consolidation_keeps_the_earliest_first_seen(survivor, other, expected):
    plan = plan_fields({"first_seen": survivor}, {"first_seen": other})
    assert plan.fields["first_seen"] == expected


@pytest.mark.parametrize(
    ("survivor", "other", "expected"),
    [
        pytest.param(at(5), at(1), at(5), id="survivor-later"),
        pytest.param(at(1), at(5), at(5), id="other-later"),
        pytest.param(None, at(5), at(5), id="survivor-unknown"),
        pytest.param(at(5), None, at(5), id="other-unknown"),
    ],
)
def test_consolidation_keeps_the_latest_last_seen(survivor, other, expected):
    plan = plan_fields({"last_seen": survivor}, {"last_seen": other})
    assert plan.fields["last_seen"] == expected


@pytest.mark.parametrize("flag", ["unsubscribed", "blocked"])
@pytest.mark.parametrize(
    ("survivor", "other", "expected"),
    [
        pytest.param(False, True, True, id="other-true"),
        pytest.param(True, False, True, id="survivor-true"),
        pytest.param(False, False, False, id="neither"),
        pytest.param(None, True, True, id="survivor-null-other-true"),
    ],
)
def test_consolidation_unsubscribed_and_blocked_are_sticky(flag, survivor, other, expected):
    plan = plan_fields({flag: survivor}, {flag: other})
    assert plan.fields[flag] is expected


# --- evidence of each merge ----------------------------------------------------------------


def test_evidence_a_merged_profile_records_its_own_rule():
    ident = email("jane@example.com")
    profiles = [person(1, tags=5), person(2)]
    plan = plan_merge(profiles, [Match(1, Rule.NAMED), Match(2, Rule.EMAIL, ident)])
    assert plan.merged == (MergedAway(2, Rule.EMAIL, ident, None),)


def test_evidence_a_named_profile_merged_away_records_the_survivors_rule():
    # A PUT on #1 sets the email #2 holds; #2 is more complete and survives: the pair is
    # linked by the email, not by "the request named #1".
    ident = email("jane@example.com")
    profiles = [person(1), person(2, tags=5)]
    plan = plan_merge(profiles, [Match(1, Rule.NAMED), Match(2, Rule.EMAIL, ident)])
    assert plan.survivor == 2
    assert plan.merged == (MergedAway(1, Rule.EMAIL, ident, None),)


def test_evidence_a_named_profile_merged_away_records_the_survivors_phone_name_score():
    ident = phone("4155550100")
    profiles = [person(1), person(2, tags=5)]
    matches = [Match(1, Rule.NAMED), Match(2, Rule.PHONE_NAME, ident, 81.8)]
    assert plan_merge(profiles, matches).merged == (MergedAway(1, Rule.PHONE_NAME, ident, 81.8),)


def test_evidence_a_merged_profile_records_its_own_rule_even_if_the_survivors_is_stronger():
    # The write carries a@ (held by the survivor #1) and a phone whose holder #2 has a similar
    # name: #2 was matched by phone + name, and never held a@.
    ident = phone("4155550100")
    profiles = [person(1, tags=5), person(2)]
    matches = [Match(1, Rule.EMAIL, email("a@example.com")), Match(2, Rule.PHONE_NAME, ident, 80)]
    assert plan_merge(profiles, matches).merged == (MergedAway(2, Rule.PHONE_NAME, ident, 80),)


def test_evidence_without_any_linking_rule_is_manual():
    plan = plan_merge([person(1, tags=1), person(2)], [Match(1, Rule.NAMED)])
    assert plan.merged == (MergedAway(2, Rule.MANUAL, None, None),)
