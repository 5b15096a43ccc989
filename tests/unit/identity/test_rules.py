"""The matching rules as tables of cases: which live profiles are the person a write describes.

1. the profile the request names; 2. the one holding the external id; 3. the one holding the
email (whatever the names); 4. profiles holding the phone whose name is at least 80% similar
(app/identity/names.py: word by word; the scores below are that measure's).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.identity import (
    Identifier,
    Kind,
    Match,
    Profile,
    Record,
    Rule,
    find_matches,
    identifier,
    is_shared_phone,
    normalize_email,
    normalize_phone,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def email(value: str):
    return identifier(Kind.EMAIL, value)


def phone(value: str, region: str = "US"):
    return identifier(Kind.PHONE, value, region=region)


def external_id(value: str):
    return identifier(Kind.EXTERNAL_ID, value)


def profile(pid: int, name: str | None = None, *identifiers) -> Profile:
    return Profile(id=pid, created_at=T0, name=name, identifiers=tuple(identifiers))


def record(*identifiers, name: str | None = None, named: int | None = None) -> Record:
    return Record(identifiers=tuple(identifiers), name=name, named=named)


def matched(matches: list[Match]) -> dict[int, Rule]:
    return {m.profile_id: m.rule for m in matches}


# --- rule 3: email -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("ann@example.com", id="lower"),
        pytest.param("Ann@Example.com", id="capitalized"),
        pytest.param("ANN@EXAMPLE.COM", id="upper"),
        pytest.param("  aNn@eXample.Com\n", id="mixed-and-padded"),
    ],
)
def test_email_case_variants_normalize_to_one_address(given):
    assert normalize_email(given) == "ann@example.com"


@pytest.mark.parametrize(
    ("held", "written"),
    [
        pytest.param("ann@example.com", "ANN@EXAMPLE.COM", id="upper-vs-lower"),
        pytest.param("Ann@Example.com", "ann@example.com", id="capitalized-vs-lower"),
        pytest.param(" ann@example.com", "Ann@Example.Com ", id="padding"),
    ],
)
def test_email_rule_matches_case_variants(held, written):
    matches = find_matches(record(email(written)), [profile(1, "Ann Lee", email(held))])
    assert [(m.profile_id, m.rule, m.identifier) for m in matches] == [
        (1, Rule.EMAIL, email(written))
    ]


@pytest.mark.parametrize(
    ("held_name", "written_name"),
    [
        pytest.param("Ann Lee", "Robert Smith", id="dissimilar-names"),
        pytest.param(None, "Robert Smith", id="profile-without-name"),
        pytest.param("Ann Lee", None, id="write-without-name"),
    ],
)
def test_email_rule_an_identical_email_matches_whatever_the_names(held_name, written_name):
    matches = find_matches(
        record(email("ann@example.com"), name=written_name),
        [profile(1, held_name, email("ann@example.com"))],
    )
    assert matched(matches) == {1: Rule.EMAIL}


def test_email_rule_an_email_without_normalized_form_never_matches():
    # A placeholder such as noemail@shop.com is stored with no normalized form.
    placeholder = Identifier(kind=Kind.EMAIL, norm=None, value="noemail@shop.com")
    assert find_matches(record(placeholder, name="Ann"), [profile(1, "Ann", placeholder)]) == []


# --- rule 2: external id -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "written", "matches"),
    [
        pytest.param("crm-1", "crm-1", True, id="identical"),
        pytest.param("crm-1", "  crm-1 ", True, id="trimmed"),
        pytest.param("crm-1", "CRM-1", False, id="case-sensitive"),
        pytest.param("crm-1", "crm-2", False, id="different"),
    ],
)
def test_external_id_rule_matches_the_trimmed_exact_value(held, written, matches):
    found = find_matches(record(external_id(written)), [profile(1, "A", external_id(held))])
    assert matched(found) == ({1: Rule.EXTERNAL_ID} if matches else {})


# --- rule 4: phone + name ------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("+1 415 555 0100", id="international-spaced"),
        pytest.param("(415) 555-0100", id="national-punctuated"),
        pytest.param("4155550100", id="national-digits"),
        pytest.param("415.555.0100", id="national-dotted"),
        pytest.param("+14155550100", id="e164"),
    ],
)
def test_phone_formats_normalize_to_one_e164_in_region_us(given):
    assert normalize_phone(given, "US") == "+14155550100"


@pytest.mark.parametrize(
    ("given", "region", "e164"),
    [
        pytest.param("020 7946 0958", "GB", "+442079460958", id="GB-national"),
        pytest.param("+44 20 7946 0958", "US", "+442079460958", id="GB-international-in-US"),
        pytest.param("030 901820", "DE", "+4930901820", id="DE-national"),
        pytest.param("4155550100", "GB", "+444155550100", id="US-digits-read-in-GB"),
    ],
)
def test_phone_without_country_code_is_read_in_the_given_region(given, region, e164):
    assert normalize_phone(given, region) == e164


def test_phone_in_another_region_is_not_the_same_number():
    assert normalize_phone("020 7946 0958", "US") != normalize_phone("020 7946 0958", "GB")


@pytest.mark.parametrize(
    ("held", "written"),
    [
        pytest.param("+1 415 555 0100", "(415) 555-0100", id="international-vs-national"),
        pytest.param("(415) 555-0100", "4155550100", id="punctuated-vs-digits"),
        pytest.param("4155550100", "+1 415 555 0100", id="digits-vs-international"),
    ],
)
def test_phone_name_rule_matches_across_phone_formats(held, written):
    found = find_matches(
        record(phone(written), name="Jane Doe"), [profile(1, "Jane Doe", phone(held))]
    )
    assert matched(found) == {1: Rule.PHONE_NAME}
    assert found[0].score == 100.0


@pytest.mark.parametrize(
    ("held_name", "written_name", "matches"),
    [
        pytest.param("Sophie Klein", "Sofie Kline", False, id="two-edits-in-5-letters-no-match"),
        pytest.param("Anna Smith", "Anne Smyth", True, id="80.0-at-match"),
        pytest.param("Ann Lee", "Anne Lee", True, id="92.9-above-match"),
    ],
)
def test_phone_name_rule_needs_names_at_least_80_similar(held_name, written_name, matches):
    found = find_matches(
        record(phone("4155550100"), name=written_name),
        [profile(1, held_name, phone("+14155550100"))],
    )
    assert matched(found) == ({1: Rule.PHONE_NAME} if matches else {})


def test_phone_name_rule_records_the_unrounded_score():
    [match] = find_matches(
        record(phone("4155550100"), name="Anne Lee"),
        [profile(1, "Ann Lee", phone("4155550100"))],
    )
    assert match.score == pytest.approx(100 * (6 / 7 + 1) / 2)  # ann/anne 85.71, lee 100
    assert match.identifier == phone("4155550100")


@pytest.mark.parametrize(
    ("threshold", "matches"),
    [pytest.param(81.0, False, id="raised-to-81"), pytest.param(78.0, True, id="lowered-to-78")],
)
def test_phone_name_rule_uses_the_configured_threshold(threshold, matches):
    found = find_matches(
        record(phone("4155550100"), name="Anna Smith"),
        [profile(1, "Anne Smyth", phone("4155550100")), profile(2, "Sofie Kline")],
        threshold=threshold,
    )
    assert matched(found) == ({1: Rule.PHONE_NAME} if matches else {})


@pytest.mark.parametrize(
    ("held_name", "written_name"),
    [
        pytest.param("José Álvarez", "Jose Alvarez", id="accents"),
        pytest.param("Doe Jane", "Jane Doe", id="token-order"),
        pytest.param("JANE DOE", "jane-doe.", id="punctuation-and-case"),
    ],
)
def test_phone_name_rule_ignores_accents_token_order_punctuation_and_case(held_name, written_name):
    found = find_matches(
        record(phone("4155550100"), name=written_name),
        [profile(1, held_name, phone("4155550100"))],
    )
    assert matched(found) == {1: Rule.PHONE_NAME}


def test_household_phone_same_phone_dissimilar_names_is_no_match():
    # "Jane Doe" and "John Doe" share a home phone: two given names, 50% similar, two people.
    found = find_matches(
        record(phone("(415) 555-0100"), name="John Doe"),
        [profile(1, "Jane Doe", phone("+1 415 555 0100"))],
    )
    assert found == []


@pytest.mark.parametrize(
    ("held_name", "written_name"),
    [
        pytest.param(None, "Jane Doe", id="profile-without-name"),
        pytest.param("Jane Doe", None, id="write-without-name"),
        pytest.param(None, None, id="neither-named"),
        pytest.param("", "", id="both-empty"),
    ],
)
def test_phone_name_rule_a_profile_with_no_name_never_matches_by_phone(held_name, written_name):
    found = find_matches(
        record(phone("4155550100"), name=written_name),
        [profile(1, held_name, phone("4155550100"))],
    )
    assert found == []


def test_phone_name_rule_a_placeholder_phone_never_matches():
    found = find_matches(
        record(phone("0000000000"), name="Jane Doe"),
        [profile(1, "Jane Doe", phone("0000000000"))],
    )
    assert found == []


def test_phone_name_rule_skips_shared_phones():
    candidates = [profile(1, "Jane Doe", phone("4155550100"))]
    written = record(phone("4155550100"), name="Jane Doe")
    assert matched(find_matches(written, candidates)) == {1: Rule.PHONE_NAME}
    assert find_matches(written, candidates, shared_phones={"+14155550100"}) == []


def test_phone_name_rule_a_shared_phone_still_lets_email_match():
    candidates = [profile(1, "Jane Doe", phone("4155550100"), email("jane@example.com"))]
    written = record(phone("4155550100"), email("jane@example.com"), name="Jane Doe")
    found = find_matches(written, candidates, shared_phones={"+14155550100"})
    assert matched(found) == {1: Rule.EMAIL}


# --- rule 1: the named profile, and the order of matches -----------------------------------


def test_named_rule_the_profile_named_by_the_request_always_matches():
    found = find_matches(record(name="Anyone", named=7), [profile(7, "Someone Else")])
    assert [(m.profile_id, m.rule, m.identifier, m.score) for m in found] == [
        (7, Rule.NAMED, None, None)
    ]


def test_strongest_rule_per_profile_is_kept_once():
    # Profile 1 holds the external id, the email and the phone: matched once, by external id.
    both = profile(
        1, "Jane Doe", external_id("crm-1"), email("jane@example.com"), phone("4155550100")
    )
    written = record(
        phone("4155550100"), email("jane@example.com"), external_id("crm-1"), name="Jane Doe"
    )
    [match] = find_matches(written, [both])
    assert (match.profile_id, match.rule, match.identifier) == (
        1,
        Rule.EXTERNAL_ID,
        external_id("crm-1"),
    )


def test_strongest_rule_named_beats_every_identifier_rule():
    held = profile(3, "Jane Doe", email("jane@example.com"))
    found = find_matches(record(email("jane@example.com"), named=3), [held])
    assert matched(found) == {3: Rule.NAMED}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            {1: "phone", 2: "email", 3: "external_id", 4: "named"},
            [4, 3, 2, 1],
            id="named-external-email-phone",
        ),
        pytest.param(
            {5: "email", 2: "email", 9: "phone", 1: "phone"}, [2, 5, 1, 9], id="ties-by-id"
        ),
    ],
)
def test_matches_come_named_first_then_by_rule_strength_then_id(rules, expected):
    holdings = {
        "phone": phone("4155550100"),
        "email": email("jane@example.com"),
        "external_id": external_id("crm-1"),
    }
    candidates = [
        profile(pid, "Jane Doe", *([holdings[how]] if how in holdings else []))
        for pid, how in rules.items()
    ]
    named = next((pid for pid, how in rules.items() if how == "named"), None)
    written = record(*holdings.values(), name="Jane Doe", named=named)
    assert [m.profile_id for m in find_matches(written, candidates)] == expected


def test_every_profile_matched_directly_is_returned():
    candidates = [
        profile(1, "Jane Doe", email("jane@example.com")),
        profile(2, "Jane Doe", external_id("crm-1")),
        profile(3, "Jane Doe", phone("4155550100")),
        profile(4, "Jane Doe"),
    ]
    written = record(
        email("jane@example.com"), external_id("crm-1"), phone("4155550100"), name="Jane Doe"
    )
    assert matched(find_matches(written, candidates)) == {
        1: Rule.EMAIL,
        2: Rule.EXTERNAL_ID,
        3: Rule.PHONE_NAME,
    }


def test_no_chaining_a_profile_resembling_a_match_but_not_the_record_is_not_matched():
    # The write is "Jane Doe" with jane@ and phone A. Profile 1 holds jane@ and is "Jane Doe"
    # but also phone B; profile 2 holds phone B and is "Jane Doe" too. Profile 2 resembles
    # profile 1, not the record: the record never mentions phone B.
    candidates = [
        profile(1, "Jane Doe", email("jane@example.com"), phone("6505550111")),
        profile(2, "Jane Doe", phone("6505550111")),
        profile(3, "Janet Doerr", email("janet@example.com")),
    ]
    written = record(email("jane@example.com"), phone("4155550100"), name="Jane Doe")
    assert matched(find_matches(written, candidates)) == {1: Rule.EMAIL}


def test_no_chaining_a_weak_link_through_a_dissimilar_name_does_not_pull_in_others():
    # The record's phone is held by "John Doe" (no match: household); that profile's email
    # is held by nobody the record names, so nothing else is matched through it.
    candidates = [
        profile(1, "John Doe", phone("4155550100"), email("john@example.com")),
        profile(2, "Jane Doe", email("jane@example.com")),
    ]
    written = record(phone("4155550100"), email("jane@example.com"), name="Jane Doe")
    assert matched(find_matches(written, candidates)) == {2: Rule.EMAIL}


def test_no_candidates_no_matches():
    assert find_matches(record(email("jane@example.com"), name="Jane"), []) == []


# --- the shared-phone limit ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "limit", "shared"),
    [
        pytest.param(["Ann Lee", "Bob Stone", "Carl Diaz"], 2, True, id="3-distinct-over-2"),
        pytest.param(["Ann Lee", "Bob Stone"], 2, False, id="2-distinct-at-2"),
        pytest.param(["Ann Lee"], 0, True, id="1-distinct-over-0"),
        pytest.param([], 0, False, id="nobody"),
        pytest.param(
            ["Ann Lee", "Anne Lee", "Ann Lee", "Bob Stone"], 2, False, id="similar-count-once"
        ),
        pytest.param(
            ["Ann Lee", "Anne Lee", "Bob Stone", "Carl Diaz"], 2, True, id="similar-then-3"
        ),
        # (Joan Dee is one edit from John Doe in each word: the same name now.)
        pytest.param(["Jane Doe", "John Doe", "Mary Doe"], 2, True, id="household-distinct"),
        pytest.param([None, None, None], 2, True, id="nameless-count-as-distinct"),
        pytest.param([None, "Ann Lee", "Ann Lee"], 2, False, id="nameless-plus-one-person"),
        pytest.param([None, "Ann Lee", "Bob Stone"], 2, True, id="nameless-plus-two-people"),
        pytest.param(["Ann Lee"] * 10, 5, False, id="one-person-many-profiles"),
        pytest.param(
            ["Ann Lee", "Bob Stone", "Carl Diaz", "Dora Ng", "Eve Ford"], 5, False, id="5-at-5"
        ),
        pytest.param(
            ["Ann Lee", "Bob Stone", "Carl Diaz", "Dora Ng", "Eve Ford", "Finn Gray"],
            5,
            True,
            id="6-over-5",
        ),
    ],
)
def test_is_shared_phone_more_than_limit_pairwise_dissimilar_holders(names, limit, shared):
    assert is_shared_phone(names, limit=limit, threshold=80.0) is shared


@pytest.mark.parametrize(
    ("threshold", "shared"),
    [
        # "Anna Smith"/"Anne Smyth" are 80.0 similar: one person at 80, two people at 81.
        pytest.param(80.0, False, id="at-threshold-similar"),
        pytest.param(81.0, True, id="above-threshold-distinct"),
    ],
)
def test_is_shared_phone_judges_similarity_with_the_threshold(threshold, shared):
    names = ["Anna Smith", "Anne Smyth", "Bob Stone"]
    assert is_shared_phone(names, limit=2, threshold=threshold) is shared
