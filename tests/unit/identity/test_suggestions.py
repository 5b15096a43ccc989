"""Duplicate suggestions, the pure part: blocking keys and the scoring of candidates."""

from __future__ import annotations

import pytest

from app.identity import Identifier, Kind, Profile, blocking
from app.identity.suggestions import Matched, Reason, suggest


def person(pid: int, name: str | None = None, *, emails=(), phones=(), company=None, city=None):
    identifiers = tuple(Identifier(Kind.EMAIL, e, e) for e in emails) + tuple(
        Identifier(Kind.PHONE, p, p) for p in phones
    )
    fields = {"company": company, "company_fold": company and company.casefold(),
              "city": city, "city_fold": city and city.casefold()}  # fmt: skip
    return Profile(id=pid, created_at=None, name=name, identifiers=identifiers, fields=fields)


def only(me: Profile, *candidates: Profile):
    return {s.profile_id: s for s in suggest(me, candidates)}


# -- blocking keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("Ann Lee", "LEE, ann", id="order-and-case"),
        pytest.param("Robert Stone", "Bob Stone", id="nickname"),
        pytest.param("Łukasz Nowak", "Lukasz Nowak", id="letters-decomposition-leaves"),
        pytest.param("José Álvarez", "Jose Alvarez", id="accents"),
    ],
)
def test_the_name_key_is_the_same_for_the_same_name(a, b):
    assert blocking.name_key(a) == blocking.name_key(b) is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("J. Gibson", "Jamie Gibson", id="initial"),
        pytest.param("Jamie Gibosn", "Jamie Gibson", id="typo-in-the-last-name"),
        pytest.param("Jaime Gibson", "Jamie Gibson", id="typo-in-the-first-name"),
        pytest.param("Mary Kate Smith", "Mary Smith", id="middle-name"),
    ],
)
def test_loose_keys_overlap_for_initials_typos_and_middle_names(a, b):
    assert set(blocking.name_keys(a)) & set(blocking.name_keys(b))


def test_initials_only_and_no_name_have_no_keys():
    assert blocking.profile_keys("J. G.") == {"name_key": None, "name_keys": None}
    assert blocking.profile_keys(None) == {"name_key": None, "name_keys": None}
    assert blocking.profile_keys("  ") == {"name_key": None, "name_keys": None}


def test_keys_are_bounded():
    keys = blocking.name_keys("a" * 500 + " b c d e f g h i j k")
    assert len(keys) <= blocking.MAX_KEYS
    assert all(len(k) <= blocking.MAX_TOKENS * (blocking.MAX_TOKEN_LENGTH + 1) for k in keys)


def test_email_probes_are_the_known_domain_typos_of_the_address():
    assert "ann@gmial.com" in blocking.email_probes("ann@gmail.com")
    assert "ann@gmail.com" in blocking.email_probes("ann@gmial.com")
    assert "ann@hotmial.com" not in blocking.email_probes("ann@gmail.com")
    assert blocking.email_probes("ann@example.org") == []


def test_phone_probes_are_every_number_one_national_digit_away():
    probes = blocking.phone_probes("+14155550100")
    assert len(probes) == 10 * 9
    assert "+14155550109" in probes and "+24155550100" not in probes
    assert "+14155550100" not in probes
    assert blocking.one_digit_apart("+14155550100", "+14155550109")
    assert not blocking.one_digit_apart("+14155550100", "+14155550199")


# -- scoring -------------------------------------------------------------------------------


ME = person(1, "Ann Lee", emails=["ann.lee@gmail.com", "ann.lee@example.com"],
            phones=["+14155550100"], company="Acme", city="Oslo")  # fmt: skip
ONE_PER_REASON = {
    Reason.EMAIL_DOMAIN_TYPO: person(2, "Ann Lee", emails=["ann.lee@gmial.com"]),
    Reason.EMAIL_TYPO: person(3, "Ann Lee", emails=["ann.lea@example.com"]),
    Reason.PHONE_NAME_CLOSE: person(4, "Ann", phones=["+14155550100"]),
    Reason.PHONE_NO_NAME: person(5, None, phones=["+14155550100"]),
    Reason.PHONE_ONE_DIGIT: person(6, "Ann Lee", phones=["+14155550101"]),
    Reason.NAME_COMPANY: person(7, "Ann Lee", company="ACME"),
    Reason.NAME_CITY: person(8, "Ann Lee", city="oslo"),
    Reason.NAME: person(9, "Lee, Ann"),
}


@pytest.mark.parametrize("reason", list(ONE_PER_REASON), ids=str)
def test_each_reason_is_found(reason):
    candidate = ONE_PER_REASON[reason]
    assert only(ME, *ONE_PER_REASON.values())[candidate.id].reasons == (reason,)
    assert only(ME, candidate)[candidate.id].reasons == (reason,)


def test_reasons_rank_in_their_documented_order():
    found = suggest(ME, reversed(ONE_PER_REASON.values()))
    assert [s.profile_id for s in found] == [2, 3, 6, 7, 4, 8, 5, 9]
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_the_profile_itself_is_never_suggested():
    me = person(1, "Ann Lee")
    assert only(me, me, person(2, "Ann Lee")).keys() == {2}


def test_nothing_in_common_suggests_nothing():
    me = person(1, "Ann Lee", emails=["ann@example.com"], phones=["+14155550100"])
    assert only(me, person(2, "Oscar Wilde", emails=["oscar@example.com"])) == {}
    assert only(me, person(3, "Oscar Wilde", phones=["+14155550100"])) == {}  # another person
    assert only(me, person(4, "Oscar Wilde", emails=["ann@example.co"])) == {}  # no name match


def test_a_domain_typo_with_names_far_apart_scores_lower():
    me = person(1, "Ann Lee", emails=["ann@gmail.com"])
    same = only(me, person(2, "Ann Lee", emails=["ann@gmial.com"]))[2].score
    other = only(me, person(3, "Oscar Wilde", emails=["ann@gmial.com"]))[3].score
    assert same > other


def test_a_shared_front_desk_phone_suggests_nothing():
    me = person(1, "Ann Lee", phones=["+14155550100"])
    desk = [person(10 + i, name, phones=["+14155550100"]) for i, name in enumerate(
        ("Ann", "Bea Cole", "Cy Dunn", "Di Eve", "Ed Fox", "Flo Gray", "Gus Hill"))]  # fmt: skip
    assert 10 not in only(me, *desk)
    assert 10 in only(me, desk[0])


def test_a_rarer_name_scores_higher():
    me = person(1, "Ann Lee")
    alone = only(me, person(2, "Ann Lee"))[2].score
    crowd = only(me, *(person(i, "Ann Lee") for i in range(2, 40)))[2].score
    assert alone > crowd


def test_the_same_name_exactly_scores_above_an_initial():
    me = person(1, "Jamie Gibson")
    assert only(me, person(2, "Jamie Gibson"))[2].score > only(me, person(3, "J. Gibson"))[3].score


def test_several_reasons_add_to_the_best_one():
    me = person(1, "Ann Lee", company="Acme", city="Oslo")
    both = only(me, person(2, "Ann Lee", company="Acme", city="Oslo"))[2]
    one = only(me, person(3, "Ann Lee", company="Acme"))[3]
    assert both.reasons == (Reason.NAME_COMPANY, Reason.NAME_CITY)
    assert both.score > one.score


def test_matched_names_the_values_and_this_profiles_where_they_differ():
    me = person(1, "Ann Lee", emails=["ann.lee@gmail.com"])
    [found] = suggest(me, [person(2, "Ann Lee", emails=["ann.lee@gmial.com"])])
    assert found.matched == (
        Matched("email", "ann.lee@gmial.com", "ann.lee@gmail.com"),
        Matched("name", "Ann Lee", None),
    )


def test_suggestions_are_best_first_then_by_id():
    me = person(1, "Ann Lee")
    found = suggest(me, [person(5, "Ann Lee"), person(3, "Ann Lee"), person(4, "Ann Lee")])
    assert [s.profile_id for s in found] == [3, 4, 5]
    assert len({s.score for s in found}) == 1
