"""What a merge preview is built from: a survivor the caller picks, where each consolidated
value comes from, and what the automatic rules say about a pair."""

from __future__ import annotations

import datetime as dt

import pytest

from app.identity import Kind, Match, Profile, Rule, explain_pair, identifier, plan_merge

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def person(pid: int, *, age: int = 0, idents=(), **kwargs) -> Profile:
    return Profile(id=pid, created_at=T0 - dt.timedelta(days=age), identifiers=tuple(idents),
                   **kwargs)  # fmt: skip


def manual(*ids: int) -> list[Match]:
    return [Match(i, Rule.MANUAL) for i in ids]


RICH = person(1, fields={"name": "Ann Lee", "company": "Acme", "city": None, "blocked": False},
              custom_data={"plan": "pro"}, tags=3)  # fmt: skip
POOR = person(
    2,
    age=10,
    fields={"name": "A. Lee", "company": None, "city": "Oslo", "blocked": True},
    custom_data={"plan": "free", "seats": 3},
)


def test_the_caller_picks_the_survivor_of_a_manual_merge():
    assert plan_merge([RICH, POOR], manual(1, 2)).survivor == 1  # ranked: the richer one
    plan = plan_merge([RICH, POOR], manual(1, 2), survivor=2)
    assert plan.survivor == 2
    assert [(m.profile_id, m.rule) for m in plan.merged] == [(1, Rule.MANUAL)]
    assert plan.fields["name"] == "A. Lee"  # the survivor's non-empty values win
    assert plan.fields["company"] == "Acme"  # empty ones are filled from the others


def test_a_survivor_outside_the_merge_is_refused():
    with pytest.raises(ValueError):
        plan_merge([RICH, POOR], manual(1, 2), survivor=3)


def test_each_consolidated_value_names_the_profile_it_comes_from():
    plan = plan_merge([RICH, POOR], manual(1, 2))
    assert plan.field_sources == {"name": 1, "company": 1, "city": 2, "blocked": 2}
    assert plan.fields["blocked"] is True  # sticky, from the profile that had it
    assert plan.custom_data == {"plan": "pro", "seats": 3}
    assert plan.custom_data_sources == {"plan": 1, "seats": 2}


def test_a_value_no_profile_has_comes_from_nobody():
    plan = plan_merge([person(1, fields={"notes": None}), person(2, fields={"notes": ""})],
                      manual(1, 2))  # fmt: skip
    assert plan.fields["notes"] is None
    assert plan.field_sources["notes"] is None


EMAIL = identifier(Kind.EMAIL, "ann@example.com")
PHONE = identifier(Kind.PHONE, "+1 415 555 0100")


def test_the_rules_explain_a_pair_they_would_merge():
    a = person(1, name="Ann Lee", idents=[EMAIL])
    b = person(2, name="Someone Else", idents=[EMAIL])
    why = explain_pair(a, b)
    assert (why.rule, why.identifier) == (Rule.EMAIL, EMAIL)
    c = person(3, name="Ann Lee", idents=[PHONE])
    d = person(4, name="Lee Ann", idents=[PHONE])
    why = explain_pair(c, d)
    assert why.rule is Rule.PHONE_NAME and why.score == 100.0


def test_the_rules_explain_why_they_would_not_merge_a_pair():
    assert explain_pair(person(1, name="Ann"), person(2, name="Ann")).rule is None
    assert "in common" in explain_pair(person(1, name="Ann"), person(2, name="Ann")).reason
    jane = person(1, name="Jane Roe", idents=[PHONE])
    bob = person(2, name="Robert Stone", idents=[PHONE])
    why = explain_pair(jane, bob, threshold=80)
    assert why.rule is None and why.score < 80 and "similar" in why.reason
    shared = explain_pair(person(1, name="Ann Lee", idents=[PHONE]),
                          person(2, name="Ann Lee", idents=[PHONE]),
                          shared_phones={PHONE.norm})  # fmt: skip
    assert shared.rule is None and "shared" in shared.reason
