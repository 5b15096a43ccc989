"""Names for the phone + name rule: normalized (accents, case, punctuation), then compared word
by word (app/identity/names.py): equal 100, nickname 90, initial 80, a typo within the edit
budget at least 80, two different names 0; the name's score is the mean over the paired words
(an unpaired word counts half, a particle nothing). A household's two given names make two
people; a person's every past name is compared, unless another of them spells it out."""

from __future__ import annotations

import itertools
import json
from importlib import resources

import pytest

from app.identity import (
    DEFAULT_THRESHOLD,
    Kind,
    Match,
    Profile,
    Record,
    Rule,
    explain_pair,
    find_matches,
    identifier,
    name_similarity,
    normalize_name,
    plan_merge,
)
from app.identity import names as n

PHONE = identifier(Kind.PHONE, "+1 415 555 0100")


def matches(left: str | None, right: str | None) -> bool:
    return name_similarity(left, right) >= DEFAULT_THRESHOLD


# --- normalization -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        pytest.param("Jane Doe", "jane doe", id="lower-cased"),
        pytest.param("  Jane Doe\t", "jane doe", id="trimmed"),
        pytest.param("José Álvarez", "jose alvarez", id="accents-stripped"),
        pytest.param("Zoë Ørsted-Brontë", "zoe orsted bronte", id="letters-decomposition-keeps"),
        pytest.param("Łukasz Strauß", "lukasz strauss", id="polish-l-and-sharp-s"),
        pytest.param("O'Brien, Mary-Kate", "o brien mary kate", id="punctuation-to-one-space"),
        pytest.param("ＪＡＮＥ", "jane", id="full-width-compatibility-forms"),
    ],
)
def test_names_are_normalized_accents_case_punctuation(given, normalized):
    assert normalize_name(given) == normalized
    assert normalize_name(normalized) == normalized  # normalizing again changes nothing


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("!?.", id="punctuation-only"),
    ],
)
def test_a_name_with_nothing_left_normalizes_to_none(given):
    assert normalize_name(given) is None


# --- households: two given names are two people --------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("Jane Smith", "John Smith", id="jane-john"),
        pytest.param("Smith, Jane", "John Smith", id="swapped-order"),
        pytest.param("Marek Nowak", "Marika Nowak", id="two-edits-in-five-letters"),
        pytest.param("Jerry Barry", "Barry Barry", id="two-edits-in-jerry-barry"),
        pytest.param("Mary Kate Smith", "Mary Jane Smith", id="three-words-one-differs"),
        pytest.param("Anna Müller", "Julia Mueller", id="surname-spellings-agree"),
    ],
)
def test_households_with_different_given_names_do_not_match(left, right):
    assert name_similarity(left, right) < DEFAULT_THRESHOLD
    assert name_similarity(right, left) < DEFAULT_THRESHOLD


def test_households_jane_and_john_smith_score_50():
    # One word of two agrees (smith), the other pair is two names (0): (100 + 0) / 2.
    assert name_similarity("Jane Smith", "John Smith") == 50.0
    assert n.compare_names("Jane Smith", "John Smith").conflicts == (("jane", "john"),)


# --- typos: one edit per three letters, at most two ----------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("Kia Smith", "Kai Smith", id="transposition-kia-kai"),
        pytest.param("Anna Smith", "Anne Smith", id="one-edit-in-four-letters"),
        pytest.param("Nikolai Ackermann", "Niktlai Ackermann", id="one-letter-replaced"),
        pytest.param("Jonathan Reed", "Jonathon Read", id="one-edit-in-each-word"),
        pytest.param("Katharina Berg", "Katarina Berg", id="one-letter-dropped"),
        pytest.param("Christopher Lee", "Christohper Lee", id="transposition-long"),
        pytest.param("Magdalena Wirth", "Magdalina Wirht", id="typos-in-both-words"),
        pytest.param("Sebastian Vogel", "Sebastien Fogel", id="two-words-one-edit-each"),
        pytest.param("Bartholomew Kay", "Bartolomeo Kay", id="two-edits-in-long-words"),
    ],
)
def test_given_name_typos_within_the_edit_budget_match(left, right):
    assert matches(left, right)
    assert matches(right, left)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        pytest.param("kia", "kai", True, id="3-letters-1-edit"),
        pytest.param("jo", "ja", False, id="2-letters-no-edit"),
        pytest.param("jane", "joan", False, id="4-letters-2-edits"),
        pytest.param("sofie", "sophie", False, id="5-letters-2-edits"),
        pytest.param("stefan", "steffen", True, id="6-letters-2-edits"),
        pytest.param("christina", "kristine", False, id="3-edits"),
    ],
)
def test_given_name_typos_the_budget_is_one_edit_per_three_letters_at_most_two(left, right, same):
    assert (n.word_score(left, right) >= n.TYPO) is same
    assert (n.word_score(left, right) == 0.0) is not same


def test_given_name_typos_a_typo_scores_its_letters_similarity_at_least_80():
    assert n.word_score("kia", "kai") == 80.0  # rapidfuzz ratio 66.7, raised to 80
    assert n.word_score("nikolai", "niktlai") == pytest.approx(100 * 12 / 14)


# --- nicknames, accents, order, initials ---------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("Bob Stone", "Robert Stone", id="nickname"),
        pytest.param("Kasia Nowak", "Katarzyna Nowak", id="nickname-polish"),
        pytest.param("Cathy Reed", "Katherine Reed", id="nickname-of-a-spelling-variant"),
        pytest.param("Bobby Stone", "Bob Stone", id="two-nicknames-of-one-name"),
        pytest.param("José Álvarez", "Jose Alvarez", id="accents"),
        pytest.param("Łukasz Wałęsa", "Lukasz Walesa", id="letters-decomposition-keeps"),
        pytest.param("Doe Jane", "Jane Doe", id="swapped-order"),
        pytest.param("Álvarez, José", "jose alvarez", id="swapped-with-comma"),
        pytest.param("J. Gibson", "Jamie Gibson", id="initial"),
        pytest.param("Jamie G.", "Jamie Gibson", id="initial-of-the-surname"),
        pytest.param("Mary Smith", "Mary Kate Smith", id="a-middle-name-more"),
        pytest.param("Maria de la Cruz", "Maria Cruz", id="particles-cost-nothing"),
    ],
)
def test_nicknames_accents_swapped_order_and_initials_still_match(left, right):
    assert matches(left, right)
    assert matches(right, left)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("José Álvarez", "Jose Alvarez", id="accents"),
        pytest.param("Doe Jane", "Jane Doe", id="token-order"),
        pytest.param("Álvarez, José", "jose alvarez", id="token-order-accents-punctuation"),
        pytest.param("JANE   DOE!", "jane-doe", id="punctuation-and-case"),
        pytest.param("jane.doe", "Jane Doe", id="dots"),
    ],
)
def test_equivalent_spellings_of_one_name_are_100_similar(left, right):
    assert name_similarity(left, right) == 100.0


def test_nicknames_are_a_plain_json_object_of_nickname_to_canonical_given_name():
    raw = json.loads(resources.files("app.identity").joinpath("nicknames.json").read_text())
    assert isinstance(raw, dict) and raw["bob"] == "robert"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items())
    assert n.canonical("bob") == "robert" and n.canonical("jane") == "jane"
    assert n.word_score("bob", "robert") == n.NICKNAME == 90.0


def test_initials_an_initial_is_not_another_letter():
    assert n.word_score("j", "jamie") == n.INITIAL == 80.0
    assert n.word_score("k", "jamie") == 0.0
    assert not matches("K. Gibson", "Jamie Gibson")


# --- missing names, mononyms, single words -------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param(None, "Jane Doe", id="left-missing"),
        pytest.param("Jane Doe", None, id="right-missing"),
        pytest.param(None, None, id="both-missing"),
        pytest.param("", "", id="both-empty"),
        pytest.param("...", "...", id="both-punctuation-only"),
    ],
)
def test_missing_names_never_match(left, right):
    assert name_similarity(left, right) == 0.0


@pytest.mark.parametrize(
    ("left", "right", "score"),
    [
        pytest.param("Madonna", "Madonna", 100.0, id="mononym-same"),
        pytest.param("Madonna", "Madona", pytest.approx(100 * 12 / 13), id="mononym-typo"),
        pytest.param("Jane", "John", 0.0, id="mononyms-differ"),
        pytest.param("Jane", "Jane Smith", pytest.approx(100 / 1.5), id="one-word-vs-two"),
        pytest.param("Smith", "John Smith", pytest.approx(100 / 1.5), id="surname-alone"),
    ],
)
def test_single_word_names_match_only_single_word_names(left, right, score):
    assert name_similarity(left, right) == score
    assert name_similarity(right, left) == score


# --- the score and the threshold -----------------------------------------------------------

SAMPLES = [
    None, "Jane Smith", "John Smith", "J. Smith", "Smith, Jane", "Jane", "Bob Stone",
    "Robert Stone", "Maria de la Cruz", "Ann-Marie O'Neil Lee", "Kia Kai", "a b c d e f g h",
    "Łukasz Wałęsa", "Jane Mary Smith",
]  # fmt: skip


@pytest.mark.parametrize(("left", "right"), list(itertools.product(SAMPLES, repeat=2)))
def test_the_score_stays_0_to_100_and_is_symmetric(left, right):
    score = name_similarity(left, right)
    assert 0.0 <= score <= 100.0
    assert name_similarity(right, left) == pytest.approx(score)


@pytest.mark.parametrize(
    ("left", "right", "score"),
    [
        pytest.param("Anna Smith", "Anne Smyth", 80.0, id="80.0-at"),
        pytest.param("Ann Lee", "Anne Lee", 100 * (6 / 7 + 1) / 2, id="92.86-unrounded"),
        pytest.param("Mary Kate Smith", "Mary Smyth", 100 * 1.8 / 2.5, id="72.0-below"),
    ],
)
def test_the_threshold_compares_the_unrounded_score(left, right, score):
    assert name_similarity(left, right) == pytest.approx(score)
    assert matches(left, right) is (score >= 80.0)
    assert (name_similarity(left, right) >= 92.86) is False  # 92.857...: never rounded up


def test_default_threshold_is_80():
    assert DEFAULT_THRESHOLD == 80.0


# --- a person's names: history ------------------------------------------------------------


def test_telling_an_initial_beside_the_spelled_out_name_is_not_compared_alone():
    assert n.telling(["J. Gibson", "Jamie Gibson"]) == ["jamie gibson"]
    assert n.telling(["Jamie Gibson", "Gibson Jamie", None]) == ["jamie gibson"]
    assert n.telling(["J. Gibson"]) == ["j gibson"]  # alone, it is all there is
    assert n.best_similarity(["John Gibson"], ["J. Gibson", "Jamie Gibson"]) == 50.0
    assert n.best_similarity(["J. Gibson"], ["Jamie Gibson"]) == 90.0


def test_history_union_is_normalized_distinct_newest_first_and_bounded():
    old = tuple(f"name {i}" for i in range(n.HISTORY_LIMIT))
    assert n.union(["Name 0"], old) == old  # already there: kept once, in front
    fresh = n.union(["Jamie GIBSON", None, ""], old)
    assert fresh[0] == "jamie gibson" and len(fresh) == n.HISTORY_LIMIT == 10
    assert fresh[1:] == old[:-1]  # the oldest goes


def test_history_phone_name_matches_any_name_the_profile_was_written_with():
    renamed = Profile(id=1, created_at=0, name="Jamie Carter", identifiers=(PHONE,),
                      names=("jamie carter", "jamie gibson"))  # fmt: skip
    [match] = find_matches(Record(identifiers=(PHONE,), name="Jamie Gibson"), [renamed])
    assert (match.rule, match.score) == (Rule.PHONE_NAME, 100.0)


def test_history_an_initial_written_once_does_not_match_another_given_name():
    jane = Profile(id=1, created_at=0, name="J. Smith", identifiers=(PHONE,),
                   names=("j smith", "jane smith"))  # fmt: skip
    assert find_matches(Record(identifiers=(PHONE,), name="John Smith"), [jane]) == []
    assert find_matches(Record(identifiers=(PHONE,), name="Jane Smith"), [jane])


def test_history_a_merge_unions_the_names_survivor_first():
    survivor = Profile(id=1, created_at=0, name="Jamie Gibson", identifiers=(PHONE,),
                       names=("jamie gibson", "j gibson"), tags=3)  # fmt: skip
    other = Profile(id=2, created_at=1, name="Jay Gibbs", names=("jay gibbs", "jamie gibson"))
    plan = plan_merge([other, survivor], [Match(1, Rule.NAMED), Match(2, Rule.EMAIL)])
    assert plan.survivor == 1
    assert plan.names == ("jamie gibson", "j gibson", "jay gibbs")


# --- explanations --------------------------------------------------------------------------


def test_explanations_a_household_has_different_given_names():
    jane = Profile(id=1, created_at=0, name="Jane Smith", identifiers=(PHONE,))
    john = Profile(id=2, created_at=0, name="Smith, John", identifiers=(PHONE,))
    why = explain_pair(jane, john)
    assert why.rule is None and why.score == 50.0
    assert "different given names: jane / john" in why.reason
    assert "similar (threshold 80)" in why.reason


def test_explanations_a_past_name_explains_a_match():
    jane = Profile(id=1, created_at=0, name="Jane Smith", identifiers=(PHONE,))
    renamed = Profile(id=2, created_at=0, name="Jane Doe", identifiers=(PHONE,),
                      names=("jane doe", "jane smith"))  # fmt: skip
    why = explain_pair(jane, renamed)
    assert (why.rule, why.score) == (Rule.PHONE_NAME, 100.0)
