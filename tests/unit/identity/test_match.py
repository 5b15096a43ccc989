"""The partner contacts matching rule: external_id first, then email, else create."""

from __future__ import annotations

from app.identity import Holder, Kind, identifier, match_contact

EMAIL = identifier(Kind.EMAIL, "alex@example.com")
EXTERNAL = identifier(Kind.EXTERNAL_ID, "cust_001")


def holder(profile_id: int, ident) -> Holder:
    return Holder(profile_id=profile_id, kind=ident.kind, norm=ident.norm)


def test_no_holder_means_create():
    result = match_contact([EMAIL, EXTERNAL], [])
    assert result.profile_id is None and result.rule is None and not result.conflict


def test_external_id_matches_first():
    result = match_contact([EMAIL, EXTERNAL], [holder(7, EXTERNAL)])
    assert (result.profile_id, result.rule) == (7, Kind.EXTERNAL_ID)


def test_email_matches_when_no_profile_has_the_external_id():
    result = match_contact([EMAIL, EXTERNAL], [holder(9, EMAIL)])
    assert (result.profile_id, result.rule) == (9, Kind.EMAIL)


def test_both_identifiers_on_one_profile_is_no_conflict():
    result = match_contact([EMAIL, EXTERNAL], [holder(7, EMAIL), holder(7, EXTERNAL)])
    assert (result.profile_id, result.rule, result.conflict) == (7, Kind.EXTERNAL_ID, ())


def test_external_id_and_email_on_two_profiles_is_a_conflict():
    result = match_contact([EMAIL, EXTERNAL], [holder(9, EMAIL), holder(7, EXTERNAL)])
    assert result.profile_id == 7
    assert result.conflict == (7, 9)


def test_holders_of_identifiers_not_in_the_request_are_ignored():
    other = identifier(Kind.EMAIL, "sam@example.com")
    result = match_contact([EXTERNAL], [holder(9, other)])
    assert result.profile_id is None


def test_identifiers_without_normalized_form_never_match():
    blank = identifier(Kind.EXTERNAL_ID, "   ")
    result = match_contact([blank], [Holder(profile_id=1, kind=Kind.EXTERNAL_ID, norm="")])
    assert result.profile_id is None
