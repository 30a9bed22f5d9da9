"""ASAM recommendation rule (CLINICAL.md section 2), for both editions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patients.asam_rule import (
    DIMENSION_NAMES,
    InvalidRatings,
    Recommendation,
    recommend_level,
)

THIRD = "3"
FOURTH = "4"

# Dimension names as tabled in CLINICAL.md, written out here rather than read from the rule.
THIRD_EDITION_NAMES = {
    "1": "Acute Intoxication and/or Withdrawal Potential",
    "2": "Biomedical Conditions and Complications",
    "3": "Emotional, Behavioral, or Cognitive Conditions and Complications",
    "4": "Readiness to Change",
    "5": "Relapse, Continued Use, or Continued Problem Potential",
    "6": "Recovery/Living Environment",
}
FOURTH_EDITION_NAMES = {
    "1": "Intoxication, Withdrawal, and Addiction Medications",
    "2": "Biomedical Conditions",
    "3": "Psychiatric and Cognitive Conditions",
    "4": "Substance Use-Related Risks",
    "5": "Recovery Environment Interactions",
    "6": "Person-Centered Considerations",
}
NAMES = {THIRD: THIRD_EDITION_NAMES, FOURTH: FOURTH_EDITION_NAMES}


def ratings(d1=0, d2=0, d3=0, d4=0, d5=0, d6=0) -> dict[str, int]:
    return {"1": d1, "2": d2, "3": d3, "4": d4, "5": d5, "6": d6}


def reasons_text(recommendation: Recommendation) -> str:
    return " | ".join(recommendation.reasons)


def rejected(edition, given_ratings) -> dict[str, str]:
    with pytest.raises(InvalidRatings) as caught:
        recommend_level(edition, given_ratings)
    return caught.value.errors


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_dimension_names_follow_the_clinical_table_for_each_edition(edition):
    assert dict(DIMENSION_NAMES[edition]) == NAMES[edition]


# --- D1 >= 3: withdrawal management first ---------------------------------------------------


@pytest.mark.parametrize(
    ("edition", "d1", "level"),
    [(THIRD, 3, "3.7-WM"), (THIRD, 4, "4-WM"), (FOURTH, 3, "3.7"), (FOURTH, 4, "4")],
)
def test_withdrawal_potential_of_three_or_more_means_withdrawal_management_first(edition, d1, level):
    result = recommend_level(edition, ratings(d1=d1, d3=1, d5=2))
    assert result.level == level
    assert result.not_iop
    assert result.withdrawal_management_first
    assert not result.medical_review_before_iop
    assert not result.recommends_iop
    assert result.driving_dimensions == ["1"]
    assert f"Dimension 1 ({NAMES[edition]['1']}) rated {d1}" in result.reasons[0]
    assert "withdrawal management first" in result.reasons[0]


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_withdrawal_management_comes_first_even_with_another_dimension_at_four(edition):
    result = recommend_level(edition, ratings(d1=3, d3=4, d6=4))
    assert result.level == {THIRD: "3.7-WM", FOURTH: "3.7"}[edition]
    assert result.withdrawal_management_first
    assert result.driving_dimensions == ["1", "3", "6"]
    assert NAMES[edition]["3"] in reasons_text(result)
    assert NAMES[edition]["6"] in reasons_text(result)


# --- any other dimension at 4: residential or inpatient review ------------------------------


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
@pytest.mark.parametrize("dimension", ["2", "3", "4", "5", "6"])
def test_any_dimension_at_four_means_not_iop_now_and_residential_review(edition, dimension):
    result = recommend_level(edition, {**ratings(d1=1), dimension: 4})
    assert result.level == "3.7"
    assert result.not_iop
    assert not result.withdrawal_management_first
    assert result.driving_dimensions == [dimension]
    assert f"Dimension {dimension} ({NAMES[edition][dimension]}) rated 4" in (reasons_text(result))
    assert "residential or inpatient" in reasons_text(result)


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_dimension_at_four_with_withdrawal_potential_two_also_asks_for_medical_review(
    edition,
):
    result = recommend_level(edition, ratings(d1=2, d2=4))
    assert result.level == "3.7"
    assert result.not_iop
    assert result.medical_review_before_iop
    assert result.driving_dimensions == ["2", "1"]


# --- two or more dimensions at 3 ------------------------------------------------------------


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_two_dimensions_at_three_suggest_level_2_5_or_residential(edition):
    result = recommend_level(edition, ratings(d3=3, d5=3, d6=2))
    assert result.level == "2.5"
    assert not result.not_iop  # a suggestion to consider, not "not IOP now"
    assert not result.recommends_iop
    assert result.driving_dimensions == ["3", "5"]
    text = reasons_text(result)
    assert f"Dimension 3 ({NAMES[edition]['3']}) rated 3" in text
    assert f"Dimension 5 ({NAMES[edition]['5']}) rated 3" in text
    assert "2.5" in text and "3.x" in text


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_two_dimensions_at_three_with_withdrawal_potential_two_needs_medical_review(
    edition,
):
    result = recommend_level(edition, ratings(d1=2, d4=3, d5=3))
    assert result.level == "2.5"
    assert result.medical_review_before_iop
    assert result.driving_dimensions == ["4", "5", "1"]
    assert "medical review before IOP" in result.reasons[-1]


# --- all dimensions <= 1 --------------------------------------------------------------------


@pytest.mark.parametrize(("edition", "level"), [(THIRD, "1"), (FOURTH, "1.5")])
def test_all_dimensions_at_one_or_lower_suggest_level_1(edition, level):
    result = recommend_level(edition, ratings(d1=1, d2=0, d3=1, d4=1, d5=1, d6=1))
    assert result.level == level
    assert not result.not_iop
    assert not result.recommends_iop
    assert result.driving_dimensions == ["1", "2", "3", "4", "5", "6"]
    for dimension, name in NAMES[edition].items():
        assert f"Dimension {dimension} ({name})" in reasons_text(result)


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_all_zero_ratings_suggest_level_1(edition):
    assert recommend_level(edition, ratings()).level == {THIRD: "1", FOURTH: "1.5"}[edition]


# --- otherwise 2.1 --------------------------------------------------------------------------


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_the_level_2_1_profile_recommends_iop(edition):
    # D1 minimal, D2 manageable, D3 mild, D4 ambivalent, D5 high relapse risk, D6 unsupportive.
    result = recommend_level(edition, ratings(d1=1, d2=1, d3=1, d4=2, d5=3, d6=2))
    assert result.level == "2.1"
    assert result.recommends_iop
    assert not result.not_iop
    assert not result.medical_review_before_iop
    assert result.driving_dimensions == ["4", "5", "6"]
    text = reasons_text(result)
    for dimension in ("4", "5", "6"):
        assert f"Dimension {dimension} ({NAMES[edition][dimension]})" in text


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_a_single_dimension_at_two_is_enough_for_2_1(edition):
    result = recommend_level(edition, ratings(d3=2))
    assert result.level == "2.1"
    assert result.driving_dimensions == ["3"]


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_one_dimension_at_three_alone_stays_at_2_1(edition):
    assert recommend_level(edition, ratings(d5=3)).level == "2.1"


# --- D1 = 2: medical review before IOP ------------------------------------------------------


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
def test_withdrawal_potential_of_two_means_iop_after_medical_review(edition):
    result = recommend_level(edition, ratings(d1=2))
    assert result.level == "2.1"
    assert result.medical_review_before_iop
    assert not result.not_iop
    assert not result.withdrawal_management_first
    assert result.driving_dimensions == ["1"]
    assert result.reasons[-1] == (f"Dimension 1 ({NAMES[edition]['1']}) rated 2: medical review before IOP.")


@pytest.mark.parametrize("edition", [THIRD, FOURTH])
@pytest.mark.parametrize("d1", [0, 1, 3, 4])
def test_medical_review_is_asked_only_when_withdrawal_potential_is_exactly_two(edition, d1):
    assert not recommend_level(edition, ratings(d1=d1, d3=2)).medical_review_before_iop


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("edition", ["2", "5", 3, "", None, "third"])
def test_unknown_edition_is_refused(edition):
    assert set(rejected(edition, ratings())) == {"edition"}


def test_invalid_ratings_name_each_bad_dimension():
    errors = rejected(THIRD, {"1": 5, "2": -1, "3": True, "4": "2", "5": 2.0, "7": 1})
    assert set(errors) == {"1", "2", "3", "4", "5", "6", "7"}
    assert "out of range" in errors["1"]
    assert "out of range" in errors["2"]
    assert "got bool" in errors["3"]
    assert "got str" in errors["4"]
    assert "got float" in errors["5"]
    assert "required" in errors["6"]
    assert "unknown" in errors["7"]


def test_edition_and_rating_errors_are_reported_together():
    errors = rejected("5", {**ratings(), "2": 9})
    assert set(errors) == {"edition", "2"}


def test_ratings_must_be_a_mapping():
    assert set(rejected(THIRD, [0, 0, 0, 0, 0, 0])) == {"ratings"}


# --- properties -----------------------------------------------------------------------------

any_ratings = st.fixed_dictionaries(
    {d: st.integers(min_value=0, max_value=4) for d in ("1", "2", "3", "4", "5", "6")}
)


def expected_branch(r: dict[str, int]) -> str:
    """The rule of CLINICAL.md section 2, restated for the property test."""
    if r["1"] >= 3:
        return "withdrawal management"
    if any(value == 4 for value in r.values()):
        return "residential or inpatient review"
    if sum(value == 3 for value in r.values()) >= 2:
        return "2.5 or 3.x"
    if all(value <= 1 for value in r.values()):
        return "level 1"
    return "2.1"


LEVEL_FOR_BRANCH = {
    THIRD: {
        "residential or inpatient review": "3.7",
        "2.5 or 3.x": "2.5",
        "level 1": "1",
        "2.1": "2.1",
    },
    FOURTH: {
        "residential or inpatient review": "3.7",
        "2.5 or 3.x": "2.5",
        "level 1": "1.5",
        "2.1": "2.1",
    },
}


@given(given_ratings=any_ratings, edition=st.sampled_from([THIRD, FOURTH]))
def test_every_rating_set_lands_in_exactly_the_branch_the_rule_describes(given_ratings, edition):
    result = recommend_level(edition, given_ratings)
    branch = expected_branch(given_ratings)
    if branch == "withdrawal management":
        assert result.withdrawal_management_first and result.not_iop
        withdrawal_levels = {THIRD: {3: "3.7-WM", 4: "4-WM"}, FOURTH: {3: "3.7", 4: "4"}}
        assert result.level == withdrawal_levels[edition][given_ratings["1"]]
    else:
        assert result.level == LEVEL_FOR_BRANCH[edition][branch]
        assert result.not_iop == (branch == "residential or inpatient review")
    assert result.medical_review_before_iop == (given_ratings["1"] == 2)
    assert result.reasons
    for dimension in result.driving_dimensions:
        assert f"Dimension {dimension} ({NAMES[edition][dimension]})" in (reasons_text(result))


@given(given_ratings=any_ratings)
def test_editions_differ_only_in_level_labels_and_dimension_names(given_ratings):
    third = recommend_level(THIRD, given_ratings)
    fourth = recommend_level(FOURTH, given_ratings)
    assert third.outcome == fourth.outcome
    assert third.not_iop == fourth.not_iop
    assert third.driving_dimensions == fourth.driving_dimensions
