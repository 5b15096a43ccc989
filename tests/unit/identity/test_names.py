"""Names for the phone + name rule: normalized (accents, case, punctuation) and compared with
rapidfuzz's token_sort_ratio, unrounded."""

from __future__ import annotations

import pytest

from app.identity import DEFAULT_THRESHOLD, name_similarity, normalize_name


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        pytest.param("Jane Doe", "jane doe", id="lower-cased"),
        pytest.param("  Jane Doe\t", "jane doe", id="trimmed"),
        pytest.param("José Álvarez", "jose alvarez", id="accents-stripped"),
        pytest.param("Zoë Ørsted-Brontë", "zoe ørsted bronte", id="decomposable-accents-only"),
        pytest.param("O'Brien, Mary-Kate", "o brien  mary kate", id="punctuation-to-spaces"),
        pytest.param("ＪＡＮＥ", "jane", id="full-width-compatibility-forms"),
    ],
)
def test_names_are_normalized_accents_case_punctuation(given, normalized):
    assert normalize_name(given) == normalized


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


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        pytest.param("Sophie Klein", "Sofie Kline", 100 * 36 / 46, id="79-just-below"),
        pytest.param("Anna Smith", "Anne Smyth", 80.0, id="80-exactly-at"),
        pytest.param("Maria Lopez", "Marie Lopes", 100 * 18 / 22, id="81-just-above"),
        pytest.param("Jane Doe", "John Doe", 75.0, id="household"),
    ],
)
def test_name_similarity_around_the_threshold_is_unrounded(left, right, expected):
    score = name_similarity(left, right)
    assert score == pytest.approx(expected)
    assert name_similarity(right, left) == pytest.approx(expected)  # symmetric


@pytest.mark.parametrize(
    ("left", "right", "meets_threshold"),
    [
        pytest.param("Sophie Klein", "Sofie Kline", False, id="78.26-below"),
        pytest.param("Anna Smith", "Anne Smyth", True, id="80.0-at-counts"),
        pytest.param("Maria Lopez", "Marie Lopes", True, id="81.82-above"),
    ],
)
def test_name_similarity_is_compared_with_the_threshold_unrounded(left, right, meets_threshold):
    # 78.26 would round to 78 and 81.82 to 82: the comparison must not depend on rounding.
    assert (name_similarity(left, right) >= DEFAULT_THRESHOLD) is meets_threshold


def test_default_threshold_is_80():
    assert DEFAULT_THRESHOLD == 80.0


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
def test_a_missing_name_is_0_similar_to_anything(left, right):
    assert name_similarity(left, right) == 0.0
