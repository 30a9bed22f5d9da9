"""Golden tests for the screening instruments (CLINICAL.md section 3).

Expected values are written out here from the published instruments, item by item; they are
never computed from the engine's own tables.
"""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patients.instruments import (
    AUDIT,
    AUDIT_C,
    C_SSRS,
    CAGE,
    CIWA_AR,
    CIWA_AR_DEFAULT_BANDS,
    COWS,
    DAST_10,
    GAD_7,
    PHQ_9,
    Band,
    InvalidAnswers,
    InvalidBands,
    ScoreResult,
    UnknownInstrument,
    get_definition,
    list_definitions,
    requires_licence_confirmation,
    score,
    shows_treatment_response,
    validate_band_override,
)
from patients.instruments.engine import parse_band_setting

# --- published values ---------------------------------------------------------------------

FREQUENCY = (0, 1, 2, 3)  # Not at all / Several days / More than half the days / Nearly every day
PHQ_9_LEGAL = {str(n): FREQUENCY for n in range(1, 10)}
GAD_7_LEGAL = {str(n): FREQUENCY for n in range(1, 8)}
AUDIT_LEGAL = {
    **{str(n): (0, 1, 2, 3, 4) for n in range(1, 9)},
    "9": (0, 2, 4),
    "10": (0, 2, 4),
}
AUDIT_C_LEGAL = {"1": (0, 1, 2, 3, 4), "2": (0, 1, 2, 3, 4), "3": (0, 1, 2, 3, 4)}
CIWA_AR_LEGAL = {
    **{str(n): (0, 1, 2, 3, 4, 5, 6, 7) for n in range(1, 10)},
    "10": (0, 1, 2, 3, 4),
}
COWS_LEGAL = {
    "1": (0, 1, 2, 4),  # resting pulse
    "2": (0, 1, 2, 3, 4),  # sweating
    "3": (0, 1, 3, 5),  # restlessness
    "4": (0, 1, 2, 5),  # pupil size
    "5": (0, 1, 2, 4),  # bone or joint aches
    "6": (0, 1, 2, 4),  # runny nose or tearing
    "7": (0, 1, 2, 3, 5),  # GI upset
    "8": (0, 1, 2, 4),  # tremor
    "9": (0, 1, 2, 4),  # yawning
    "10": (0, 1, 2, 4),  # anxiety or irritability
    "11": (0, 3, 5),  # gooseflesh skin
}
# Yes/no instruments: (points for Yes, points for No), item by item.
DAST_10_POINTS = {
    "1": (1, 0),
    "2": (1, 0),
    "3": (0, 1),  # "Are you always able to stop ...?" is reverse scored
    "4": (1, 0),
    "5": (1, 0),
    "6": (1, 0),
    "7": (1, 0),
    "8": (1, 0),
    "9": (1, 0),
    "10": (1, 0),
}
CAGE_POINTS = {"1": (1, 0), "2": (1, 0), "3": (1, 0), "4": (1, 0)}

# Published bands: (lowest total, highest total, name), least severe first.
PUBLISHED_BANDS = {
    PHQ_9: [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ],
    GAD_7: [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    AUDIT: [
        (0, 7, "low risk (zone I)"),
        (8, 15, "hazardous (zone II)"),
        (16, 19, "harmful (zone III)"),
        (20, 40, "possible dependence (zone IV)"),
    ],
    DAST_10: [
        (0, 0, "none"),
        (1, 2, "low"),
        (3, 5, "moderate"),
        (6, 8, "substantial"),
        (9, 10, "severe"),
    ],
    CAGE: [(0, 1, "not clinically significant"), (2, 4, "clinically significant")],
    CIWA_AR: [(0, 9, "mild"), (10, 18, "moderate"), (19, 67, "severe")],
    COWS: [
        (0, 4, "none"),
        (5, 12, "mild"),
        (13, 24, "moderate"),
        (25, 36, "moderately severe"),
        (37, 48, "severe"),
    ],
}
AUDIT_C_BANDS = {
    "female": [(0, 2, "negative"), (3, 12, "positive")],
    "male": [(0, 3, "negative"), (4, 12, "positive")],
}


def published_band(bands: list[tuple[int, int, str]], total: int) -> str:
    (name,) = [name for low, high, name in bands if low <= total <= high]
    return name


def band_rank(bands: list[tuple[int, int, str]], name: str) -> int:
    return [band_name for _, _, band_name in bands].index(name)


def answers_totalling(target: int, legal: dict[str, tuple[int, ...]]) -> dict[str, int]:
    """Answer items in published order, each with the largest legal value that still fits."""
    answers = {}
    remaining = target
    for key, values in legal.items():
        answers[key] = max(value for value in values if value <= remaining)
        remaining -= answers[key]
    assert remaining == 0, f"cannot build a total of {target}"
    return answers


def all_zero(legal: dict[str, tuple[int, ...]], **overrides: int) -> dict[str, int]:
    return {key: overrides.get(f"item_{key}", 0) for key in legal}


def dast_answers(*, yes_to: set[str]) -> dict[str, bool]:
    return {key: key in yes_to for key in DAST_10_POINTS}


def cage_answers(*, yes_to: set[str]) -> dict[str, bool]:
    return {key: key in yes_to for key in CAGE_POINTS}


def rejected(code: str, answers: dict, **kwargs) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        score(code, answers, **kwargs)
    return caught.value.errors


# --- the registry ---------------------------------------------------------------------------


def test_every_instrument_in_clinical_md_is_defined_under_its_code():
    codes = {instrument.code for instrument in list_definitions()}
    assert codes == {
        "phq-9",
        "gad-7",
        "audit",
        "audit-c",
        "dast-10",
        "cage",
        "ciwa-ar",
        "cows",
        "c-ssrs",
    }


@pytest.mark.parametrize("code", [instrument.code for instrument in list_definitions()])
def test_every_definition_carries_name_version_licence_note_and_instructions(code):
    instrument = get_definition(code)
    assert instrument.name
    assert instrument.version
    assert instrument.licence_note
    assert instrument.instructions
    assert all(item.wording and item.options for item in instrument.items)


@pytest.mark.parametrize("code", [code for code in PUBLISHED_BANDS])
def test_defined_bands_match_the_published_ranges(code):
    instrument = get_definition(code)
    defined = [(band.low, band.high, band.name) for band in instrument.bands]
    assert defined == PUBLISHED_BANDS[code]


@pytest.mark.parametrize(
    ("code", "maximum"),
    [
        (PHQ_9, 27),
        (GAD_7, 21),
        (AUDIT, 40),
        (AUDIT_C, 12),
        (DAST_10, 10),
        (CAGE, 4),
        (CIWA_AR, 67),
        (COWS, 48),
    ],
)
def test_instrument_totals_run_from_zero_to_the_published_maximum(code, maximum):
    instrument = get_definition(code)
    assert (instrument.min_total, instrument.max_total) == (0, maximum)


def test_unknown_instrument_code_is_refused():
    with pytest.raises(UnknownInstrument):
        score("beck", {})
    with pytest.raises(UnknownInstrument):
        get_definition("PHQ-9")


def test_only_dast_10_needs_licence_confirmation_and_it_carries_a_credit_line():
    gated = {i.code for i in list_definitions() if i.requires_licence_confirmation}
    assert gated == {DAST_10}
    assert requires_licence_confirmation(DAST_10)
    assert not requires_licence_confirmation(PHQ_9)
    dast = get_definition(DAST_10)
    assert "Skinner" in dast.credit_line
    assert "CAMH" in dast.licence_note or "Centre for Addiction" in dast.licence_note
    assert "commercial" in dast.licence_note


def test_listing_without_licence_confirmation_hides_dast_10_and_keeps_the_rest():
    confirmed = {i.code for i in list_definitions(licence_confirmed=True)}
    unconfirmed = {i.code for i in list_definitions(licence_confirmed=False)}
    assert confirmed - unconfirmed == {DAST_10}
    assert len(unconfirmed) == 8


def test_score_result_is_frozen():
    result = score(CAGE, cage_answers(yes_to=set()))
    assert isinstance(result, ScoreResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.total = 3  # type: ignore[misc]


# --- PHQ-9 ----------------------------------------------------------------------------------


def test_phq_9_items_have_the_published_wording_and_options():
    phq = get_definition(PHQ_9)
    assert (
        phq.instructions == "Over the last 2 weeks, how often have you been bothered by any "
        "of the following problems?"
    )
    assert phq.item("1").wording == "Little interest or pleasure in doing things"
    assert phq.item("9").wording == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    options = [(option.label, option.value) for option in phq.item("5").options]
    assert options == [
        ("Not at all", 0),
        ("Several days", 1),
        ("More than half the days", 2),
        ("Nearly every day", 3),
    ]


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq_9_band_edges(total, band):
    result = score(PHQ_9, answers_totalling(total, PHQ_9_LEGAL))
    assert (result.total, result.band) == (total, band)


def test_phq_9_item_9_above_zero_raises_suicide_risk_even_when_total_is_minimal():
    answers = all_zero(PHQ_9_LEGAL, item_9=1)
    assert score(PHQ_9, answers) == ScoreResult(total=1, band="minimal", flags=["suicide_risk"])


@pytest.mark.parametrize("item_9", [1, 2, 3])
def test_phq_9_every_nonzero_item_9_answer_raises_suicide_risk(item_9):
    assert score(PHQ_9, all_zero(PHQ_9_LEGAL, item_9=item_9)).flags == ["suicide_risk"]


def test_phq_9_severe_total_without_item_9_raises_no_flag():
    answers = {**{str(n): 3 for n in range(1, 9)}, "9": 0}
    assert score(PHQ_9, answers) == ScoreResult(total=24, band="severe", flags=[])


def test_phq_9_item_10_difficulty_is_recorded_but_not_scored():
    answers = all_zero(PHQ_9_LEGAL, item_1=2)
    assert score(PHQ_9, {**answers, "10": 3}).total == 2
    assert score(PHQ_9, answers).total == 2  # optional
    item_10 = get_definition(PHQ_9).item("10")
    assert not item_10.scored
    assert not item_10.required
    assert rejected(PHQ_9, {**answers, "10": 4}) == {"10": "4 is not a legal answer (legal: 0, 1, 2, 3)"}


def test_phq_9_response_is_a_drop_of_five_or_more_points():
    assert shows_treatment_response(PHQ_9, 15, 10)
    assert shows_treatment_response(PHQ_9, 20, 4)
    assert not shows_treatment_response(PHQ_9, 15, 11)
    assert not shows_treatment_response(PHQ_9, 10, 15)


def test_rejected_phq_9_answers_name_each_bad_item():
    answers = {
        "1": 4,  # out of range
        # "2" missing
        "3": True,  # bool where an integer is expected
        "4": "2",  # string
        "5": -1,  # out of range
        "6": 0,
        "7": 0,
        "8": 0,
        "9": 0,
        "11": 0,  # unknown item
    }
    errors = rejected(PHQ_9, answers)
    assert set(errors) == {"1", "2", "3", "4", "5", "11"}
    assert "not a legal answer" in errors["1"]
    assert "required" in errors["2"]
    assert "got bool" in errors["3"]
    assert "got str" in errors["4"]
    assert "not a legal answer" in errors["5"]
    assert "unknown" in errors["11"]


def test_phq_9_float_answer_is_the_wrong_type():
    errors = rejected(PHQ_9, {**all_zero(PHQ_9_LEGAL), "1": 1.0})
    assert set(errors) == {"1"}
    assert "got float" in errors["1"]


# --- GAD-7 ----------------------------------------------------------------------------------


def test_gad_7_uses_the_phq_stem_and_its_published_items():
    gad = get_definition(GAD_7)
    assert gad.instructions == get_definition(PHQ_9).instructions
    assert [item.key for item in gad.items] == ["1", "2", "3", "4", "5", "6", "7"]
    assert gad.item("7").wording == "Feeling afraid, as if something awful might happen"


@pytest.mark.parametrize(
    ("total", "band", "flags"),
    [
        (0, "minimal", []),
        (4, "minimal", []),
        (5, "mild", []),
        (9, "mild", []),
        (10, "moderate", ["further_evaluation"]),
        (14, "moderate", ["further_evaluation"]),
        (15, "severe", ["further_evaluation"]),
        (21, "severe", ["further_evaluation"]),
    ],
)
def test_gad_7_band_edges_and_further_evaluation_from_ten(total, band, flags):
    assert score(GAD_7, answers_totalling(total, GAD_7_LEGAL)) == ScoreResult(total, band, flags)


def test_gad_7_refuses_an_eighth_item_and_a_value_of_four():
    errors = rejected(GAD_7, {**all_zero(GAD_7_LEGAL), "7": 4, "8": 0})
    assert set(errors) == {"7", "8"}


# --- AUDIT ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "low risk (zone I)"),
        (7, "low risk (zone I)"),
        (8, "hazardous (zone II)"),
        (15, "hazardous (zone II)"),
        (16, "harmful (zone III)"),
        (19, "harmful (zone III)"),
        (20, "possible dependence (zone IV)"),
        (40, "possible dependence (zone IV)"),
    ],
)
def test_audit_zone_edges(total, band):
    result = score(AUDIT, answers_totalling(total, AUDIT_LEGAL))
    assert (result.total, result.band, result.flags) == (total, band, [])


@pytest.mark.parametrize("item", ["9", "10"])
@pytest.mark.parametrize("value", [0, 2, 4])
def test_audit_items_9_and_10_accept_only_0_2_and_4(item, value):
    assert score(AUDIT, all_zero(AUDIT_LEGAL, **{f"item_{item}": value})).total == value


@pytest.mark.parametrize("item", ["9", "10"])
@pytest.mark.parametrize("value", [1, 3, 5])
def test_audit_items_9_and_10_refuse_the_odd_values(item, value):
    errors = rejected(AUDIT, all_zero(AUDIT_LEGAL, **{f"item_{item}": value}))
    assert errors == {item: f"{value} is not a legal answer (legal: 0, 2, 4)"}


def test_audit_items_9_and_10_labels_match_their_weights():
    options = get_definition(AUDIT).item("9").options
    assert [(option.label, option.value) for option in options] == [
        ("No", 0),
        ("Yes, but not in the last year", 2),
        ("Yes, during the last year", 4),
    ]


def test_audit_item_2_counts_drinks_in_published_bins():
    options = get_definition(AUDIT).item("2").options
    assert [(option.label, option.value) for option in options] == [
        ("1 or 2", 0),
        ("3 or 4", 1),
        ("5 or 6", 2),
        ("7, 8, or 9", 3),
        ("10 or more", 4),
    ]


def test_audit_total_adds_non_uniform_weights_item_by_item():
    answers = {
        "1": 4,  # 4 or more times a week
        "2": 2,  # 5 or 6
        "3": 3,  # weekly
        "4": 1,
        "5": 0,
        "6": 0,
        "7": 2,
        "8": 1,
        "9": 2,  # yes, but not in the last year
        "10": 4,  # yes, during the last year
    }
    assert score(AUDIT, answers) == ScoreResult(19, "harmful (zone III)", [])


def test_audit_refuses_missing_items_and_a_value_of_five():
    answers = all_zero(AUDIT_LEGAL, item_1=5)
    del answers["10"]
    assert set(rejected(AUDIT, answers)) == {"1", "10"}


# --- AUDIT-C --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "total", "band", "flags"),
    [
        ("female", 0, "negative", []),
        ("female", 2, "negative", []),
        ("female", 3, "positive", ["positive_screen"]),
        ("female", 12, "positive", ["positive_screen"]),
        ("male", 0, "negative", []),
        ("male", 3, "negative", []),
        ("male", 4, "positive", ["positive_screen"]),
        ("male", 12, "positive", ["positive_screen"]),
    ],
)
def test_audit_c_positive_screen_depends_on_sex(sex, total, band, flags):
    answers = answers_totalling(total, AUDIT_C_LEGAL)
    assert score(AUDIT_C, answers, sex=sex) == ScoreResult(total, band, flags)


def test_audit_c_three_is_positive_for_a_woman_and_negative_for_a_man():
    answers = {"1": 1, "2": 1, "3": 1}  # monthly or less; 3 or 4; less than monthly
    assert score(AUDIT_C, answers, sex="female").flags == ["positive_screen"]
    assert score(AUDIT_C, answers, sex="male").flags == []


@pytest.mark.parametrize("sex", [None, "", "other", "Female", "m"])
def test_audit_c_refuses_to_score_without_female_or_male(sex):
    errors = rejected(AUDIT_C, {"1": 0, "2": 0, "3": 0}, sex=sex)
    assert set(errors) == {"sex"}


def test_audit_c_is_audit_items_1_to_3_and_nothing_else():
    audit_c = get_definition(AUDIT_C)
    audit = get_definition(AUDIT)
    assert [item.key for item in audit_c.items] == ["1", "2", "3"]
    for key in ("1", "2", "3"):
        assert audit_c.item(key).wording == audit.item(key).wording
    errors = rejected(AUDIT_C, {"1": 0, "2": 0, "3": 0, "4": 0}, sex="male")
    assert set(errors) == {"4"}


def test_sex_is_ignored_by_instruments_that_do_not_use_it():
    assert score(CAGE, cage_answers(yes_to=set()), sex="female").total == 0


# --- DAST-10 --------------------------------------------------------------------------------


def test_dast_10_item_3_is_reverse_scored():
    assert score(DAST_10, dast_answers(yes_to={"3"})).total == 0
    assert score(DAST_10, dast_answers(yes_to=set())).total == 1  # No to item 3 scores 1
    item_3 = get_definition(DAST_10).item("3")
    assert item_3.wording == "Are you always able to stop using drugs when you want to?"
    assert (item_3.points_for_yes, item_3.points_for_no) == (0, 1)
    assert item_3.is_reverse_scored


def test_dast_10_yes_to_everything_scores_nine_because_of_item_3():
    assert score(DAST_10, dast_answers(yes_to=set(DAST_10_POINTS))).total == 9


@pytest.mark.parametrize(
    ("yes_to", "total", "band"),
    [
        ({"3"}, 0, "none"),
        (set(), 1, "low"),
        ({"1"}, 2, "low"),
        ({"1", "2"}, 3, "moderate"),
        ({"1", "2", "4", "5"}, 5, "moderate"),
        ({"1", "2", "4", "5", "6"}, 6, "substantial"),
        ({"1", "2", "4", "5", "6", "7", "8"}, 8, "substantial"),
        ({"1", "2", "4", "5", "6", "7", "8", "9"}, 9, "severe"),
        ({"1", "2", "4", "5", "6", "7", "8", "9", "10"}, 10, "severe"),
    ],
)
def test_dast_10_band_edges(yes_to, total, band):
    assert score(DAST_10, dast_answers(yes_to=yes_to)) == ScoreResult(total, band, [])


@pytest.mark.parametrize("value", [0, 1])
def test_dast_10_refuses_integers_for_yes_no_items(value):
    answers = {**dast_answers(yes_to=set()), "4": value}
    errors = rejected(DAST_10, answers)
    assert errors == {"4": "expected True (Yes) or False (No), got int"}


def test_dast_10_items_are_exactly_the_ten_published_questions():
    dast = get_definition(DAST_10)
    assert [item.key for item in dast.items] == [str(n) for n in range(1, 11)]
    assert dast.item("1").wording == ("Have you used drugs other than those required for medical reasons?")
    assert dast.item("10").wording == (
        "Have you had medical problems as a result of your drug use (e.g. memory loss, "
        "hepatitis, convulsions, bleeding, etc.)?"
    )


# --- CAGE -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yes_to", "total", "band", "flags"),
    [
        (set(), 0, "not clinically significant", []),
        ({"4"}, 1, "not clinically significant", []),
        ({"1", "3"}, 2, "clinically significant", ["clinically_significant"]),
        ({"1", "2", "3", "4"}, 4, "clinically significant", ["clinically_significant"]),
    ],
)
def test_cage_is_clinically_significant_from_two(yes_to, total, band, flags):
    assert score(CAGE, cage_answers(yes_to=yes_to)) == ScoreResult(total, band, flags)


def test_cage_refuses_missing_and_non_boolean_answers():
    errors = rejected(CAGE, {"1": True, "2": 1, "3": "yes"})
    assert set(errors) == {"2", "3", "4"}


# --- CIWA-Ar --------------------------------------------------------------------------------


@pytest.mark.parametrize("item", [str(n) for n in range(1, 10)])
def test_ciwa_ar_items_1_to_9_accept_every_whole_number_from_0_to_7(item):
    for value in range(8):
        answers = all_zero(CIWA_AR_LEGAL, **{f"item_{item}": value})
        assert score(CIWA_AR, answers).total == value


@pytest.mark.parametrize("item", [str(n) for n in range(1, 10)])
@pytest.mark.parametrize("value", [-1, 8])
def test_ciwa_ar_items_1_to_9_refuse_values_outside_0_to_7(item, value):
    errors = rejected(CIWA_AR, all_zero(CIWA_AR_LEGAL, **{f"item_{item}": value}))
    assert set(errors) == {item}


def test_ciwa_ar_item_10_orientation_runs_from_0_to_4_only():
    for value in range(5):
        assert score(CIWA_AR, all_zero(CIWA_AR_LEGAL, item_10=value)).total == value
    assert set(rejected(CIWA_AR, all_zero(CIWA_AR_LEGAL, item_10=5))) == {"10"}
    assert get_definition(CIWA_AR).item("10").wording == ("Orientation and clouding of sensorium")


@pytest.mark.parametrize(
    ("total", "band", "flags"),
    [
        (0, "mild", []),
        (9, "mild", []),
        (10, "moderate", ["withdrawal_management_before_iop"]),
        (18, "moderate", ["withdrawal_management_before_iop"]),
        (19, "severe", ["withdrawal_management_before_iop"]),
        (67, "severe", ["withdrawal_management_before_iop"]),
    ],
)
def test_ciwa_ar_default_asam_2020_band_edges(total, band, flags):
    result = score(CIWA_AR, answers_totalling(total, CIWA_AR_LEGAL))
    assert result == ScoreResult(total, band, flags)


VA_STYLE_BANDS = (
    Band("minimal/mild", 0, 7),
    Band("moderate", 8, 15),
    Band("severe", 16, 67),
)


@pytest.mark.parametrize(
    ("total", "band", "flags"),
    [
        (7, "minimal/mild", []),
        (8, "moderate", ["withdrawal_management_before_iop"]),
        (15, "moderate", ["withdrawal_management_before_iop"]),
        (16, "severe", ["withdrawal_management_before_iop"]),
    ],
)
def test_ciwa_ar_bands_can_be_overridden_by_protocol(total, band, flags):
    answers = answers_totalling(total, CIWA_AR_LEGAL)
    result = score(CIWA_AR, answers, band_override=VA_STYLE_BANDS)
    assert result == ScoreResult(total, band, flags)


@pytest.mark.parametrize(
    "bands",
    [
        (),
        (Band("mild", 0, 9), Band("moderate", 11, 18), Band("severe", 19, 67)),  # gap
        (Band("mild", 0, 10), Band("moderate", 10, 18), Band("severe", 19, 67)),  # overlap
        (Band("mild", 0, 9), Band("moderate", 10, 60)),  # stops short of 67
        (Band("mild", 1, 9), Band("moderate", 10, 67)),  # does not start at 0
        (Band("low", 0, 9), Band("medium", 10, 18), Band("high", 19, 67)),  # no "moderate"
        (Band("mild", 0, 9), Band("mild", 10, 18), Band("moderate", 19, 67)),  # duplicate
    ],
)
def test_ciwa_ar_band_override_must_cover_0_to_67_and_keep_moderate(bands):
    with pytest.raises(InvalidBands):
        validate_band_override(CIWA_AR, bands)
    with pytest.raises(InvalidBands):
        score(CIWA_AR, all_zero(CIWA_AR_LEGAL), band_override=bands)


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        ("mild:0-9,moderate:10-18,severe:19-67", CIWA_AR_DEFAULT_BANDS),
        (
            " minimal/mild : 0-7 , moderate:8 - 15,severe:16-67 ",
            (Band("minimal/mild", 0, 7), Band("moderate", 8, 15), Band("severe", 16, 67)),
        ),
        ("severe risk: 0-67", (Band("severe risk", 0, 67),)),  # form only: fit is checked apart
    ],
)
def test_band_settings_are_parsed(text, bands):
    assert parse_band_setting(text) == bands


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no bands given"),
        ("   ", "no bands given"),
        ("mild 0-9", "not written as name:low-high"),
        (":0-9", "not written as name:low-high"),
        ("mild:0-9,,severe:10-67", "band 2"),
        ("mild:0", "not written as name:low-high"),
        ("mild:zero-9", "two whole numbers"),
        ("mild:-1-9", "two whole numbers"),
        ("mild:0-9.5", "two whole numbers"),
        ("mild:0-\u0669", "two whole numbers"),  # a non-ASCII digit
        (f"{'x' * 41}:0-67", "longer than 40"),
    ],
)
def test_malformed_band_settings_say_what_is_wrong(text, words):
    with pytest.raises(InvalidBands, match=words):
        parse_band_setting(text)


def test_a_parsed_band_setting_is_validated_against_the_instrument():
    va = parse_band_setting("minimal/mild:0-7,moderate:8-15,severe:16-67")
    validate_band_override(CIWA_AR, va)
    assert score(CIWA_AR, answers_totalling(8, CIWA_AR_LEGAL), band_override=va).band == "moderate"
    with pytest.raises(InvalidBands, match="expected 10"):
        validate_band_override(CIWA_AR, parse_band_setting("mild:0-9,moderate:11-18,severe:19-67"))


def test_bands_of_published_instruments_cannot_be_overridden():
    with pytest.raises(InvalidBands):
        score(PHQ_9, all_zero(PHQ_9_LEGAL), band_override=(Band("any", 0, 27),))


# --- COWS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "value"),
    [(item, value) for item, values in COWS_LEGAL.items() for value in values],
)
def test_cows_accepts_every_published_value_of_every_item(item, value):
    assert score(COWS, all_zero(COWS_LEGAL, **{f"item_{item}": value})).total == value


COWS_ILLEGAL = {
    "1": (3, 5, -1),  # pulse: 0, 1, 2, 4
    "2": (5, -1),  # sweating: 0-4
    "3": (2, 4, 6),  # restlessness: 0, 1, 3, 5
    "4": (3, 4, 6),  # pupil size: 0, 1, 2, 5
    "5": (3, 5),  # bone or joint aches: 0, 1, 2, 4
    "6": (3, 5),  # runny nose or tearing: 0, 1, 2, 4
    "7": (4, 6),  # GI upset: 0, 1, 2, 3, 5
    "8": (3, 5),  # tremor: 0, 1, 2, 4
    "9": (3, 5),  # yawning: 0, 1, 2, 4
    "10": (3, 5),  # anxiety or irritability: 0, 1, 2, 4
    "11": (1, 2, 4, 6),  # gooseflesh skin: 0, 3, 5
}


@pytest.mark.parametrize(
    ("item", "value"),
    [(item, value) for item, values in COWS_ILLEGAL.items() for value in values],
)
def test_cows_refuses_values_between_the_published_ones(item, value):
    errors = rejected(COWS, all_zero(COWS_LEGAL, **{f"item_{item}": value}))
    assert list(errors) == [item]
    assert errors[item].startswith(f"{value} is not a legal answer")


def test_cows_error_lists_the_sparse_legal_values():
    errors = rejected(COWS, all_zero(COWS_LEGAL, item_3=2, item_11=1))
    assert errors == {
        "3": "2 is not a legal answer (legal: 0, 1, 3, 5)",
        "11": "1 is not a legal answer (legal: 0, 3, 5)",
    }


@pytest.mark.parametrize(
    ("total", "band", "flags"),
    [
        (0, "none", []),
        (4, "none", []),
        (5, "mild", []),
        (12, "mild", []),
        (13, "moderate", ["medical_review_before_iop"]),
        (24, "moderate", ["medical_review_before_iop"]),
        (25, "moderately severe", ["medical_review_before_iop"]),
        (36, "moderately severe", ["medical_review_before_iop"]),
        (37, "severe", ["medical_review_before_iop"]),
        (48, "severe", ["medical_review_before_iop"]),
    ],
)
def test_cows_band_edges_and_medical_review_from_moderate(total, band, flags):
    assert score(COWS, answers_totalling(total, COWS_LEGAL)) == ScoreResult(total, band, flags)


def test_cows_maximum_is_forty_eight_item_by_item():
    answers = {
        "1": 4,
        "2": 4,
        "3": 5,
        "4": 5,
        "5": 4,
        "6": 4,
        "7": 5,
        "8": 4,
        "9": 4,
        "10": 4,
        "11": 5,
    }
    assert score(COWS, answers) == ScoreResult(48, "severe", ["medical_review_before_iop"])


# --- C-SSRS screener ------------------------------------------------------------------------

NO, YES = False, True


@pytest.mark.parametrize(
    ("answers", "tier", "flags"),
    [
        pytest.param({"1": NO, "2": NO, "6": NO}, "none", [], id="all no"),
        pytest.param({"1": YES, "2": NO, "6": NO}, "low", [], id="wish to be dead only"),
        pytest.param(
            {"1": NO, "2": YES, "3": NO, "4": NO, "5": NO, "6": NO},
            "low",
            [],
            id="thoughts without method, intent or plan",
        ),
        pytest.param(
            {"1": YES, "2": YES, "3": NO, "4": NO, "5": NO, "6": NO},
            "low",
            [],
            id="yes to 1 and 2 only",
        ),
        pytest.param(
            {"1": YES, "2": YES, "3": YES, "4": NO, "5": NO, "6": NO},
            "moderate",
            [],
            id="method without intent",
        ),
        pytest.param(
            {"1": NO, "2": NO, "6": YES, "6a": NO},
            "moderate",
            [],
            id="behaviour more than 3 months ago",
        ),
        pytest.param(
            {"1": YES, "2": YES, "3": YES, "4": YES, "5": NO, "6": NO},
            "high",
            ["high_suicide_risk"],
            id="intent",
        ),
        pytest.param(
            {"1": YES, "2": YES, "3": NO, "4": NO, "5": YES, "6": NO},
            "high",
            ["high_suicide_risk"],
            id="plan",
        ),
        pytest.param(
            {"1": NO, "2": NO, "6": YES, "6a": YES},
            "high",
            ["high_suicide_risk"],
            id="behaviour within 3 months",
        ),
        pytest.param(
            {"1": YES, "2": YES, "3": YES, "4": NO, "5": NO, "6": YES, "6a": YES},
            "high",
            ["high_suicide_risk"],
            id="method and recent behaviour",
        ),
    ],
)
def test_c_ssrs_risk_tier_follows_the_triage_guidelines(answers, tier, flags):
    assert score(C_SSRS, answers) == ScoreResult(total=None, band=tier, flags=flags)


@pytest.mark.parametrize("item", ["3", "4", "5"])
@pytest.mark.parametrize("value", [YES, NO])
def test_c_ssrs_refuses_items_3_to_5_when_item_2_is_no(item, value):
    errors = rejected(C_SSRS, {"1": YES, "2": NO, item: value, "6": NO})
    assert errors == {item: "must be left unanswered when item 2 is No"}


def test_c_ssrs_requires_items_3_to_5_when_item_2_is_yes():
    errors = rejected(C_SSRS, {"1": YES, "2": YES, "6": NO})
    assert errors == {
        "3": "required: no answer given",
        "4": "required: no answer given",
        "5": "required: no answer given",
    }


def test_c_ssrs_requires_6a_after_yes_to_6_and_refuses_it_after_no():
    assert rejected(C_SSRS, {"1": NO, "2": NO, "6": YES}) == {"6a": "required: no answer given"}
    assert rejected(C_SSRS, {"1": NO, "2": NO, "6": NO, "6a": NO}) == {
        "6a": "must be left unanswered when item 6 is No"
    }


def test_c_ssrs_always_requires_items_1_2_and_6():
    assert set(rejected(C_SSRS, {})) == {"1", "2", "6"}


def test_c_ssrs_refuses_integers_and_reports_follow_ups_of_a_bad_item_2_only_by_value():
    errors = rejected(C_SSRS, {"1": 0, "2": 1, "3": YES, "4": "no", "6": NO})
    assert set(errors) == {"1", "2", "4"}
    assert "got int" in errors["1"]
    assert "got str" in errors["4"]


def test_c_ssrs_items_use_the_screener_wording():
    cssrs = get_definition(C_SSRS)
    assert [item.key for item in cssrs.items] == ["1", "2", "3", "4", "5", "6", "6a"]
    assert cssrs.item("2").wording == "Actually had any thoughts of killing yourself?"
    assert cssrs.item("6a").wording == "Within the past 3 months?"


def test_c_ssrs_recent_screener_asks_ideation_about_the_past_month_and_behaviour_ever():
    """The "recent" version (CLINICAL.md): items 1-5 about the past month; 6 lifetime, with its
    follow-up about the past 3 months."""
    cssrs = get_definition(C_SSRS)
    assert cssrs.version == "1-recent"
    assert [cssrs.item(key).timeframe for key in ["1", "2", "3", "4", "5"]] == ["In the past month"] * 5
    assert cssrs.item("6").timeframe == "Lifetime" and cssrs.item("6").wording.startswith("Ever ")
    assert "past 3 months" in cssrs.item("6a").wording
    assert "Questions 1-5 ask about the past month" in cssrs.instructions
    # Every other instrument gives its period in its stem or wording.
    others = [instrument for instrument in list_definitions() if instrument.code != C_SSRS]
    assert all(not item.timeframe for instrument in others for item in instrument.items)


# --- properties over random valid answer sets -----------------------------------------------

SUMMED_CHOICE_INSTRUMENTS = {
    PHQ_9: PHQ_9_LEGAL,
    GAD_7: GAD_7_LEGAL,
    AUDIT: AUDIT_LEGAL,
    CIWA_AR: CIWA_AR_LEGAL,
    COWS: COWS_LEGAL,
}
YES_NO_INSTRUMENTS = {DAST_10: DAST_10_POINTS, CAGE: CAGE_POINTS}


@st.composite
def choice_answers(draw, code):
    legal = SUMMED_CHOICE_INSTRUMENTS[code]
    return {key: draw(st.sampled_from(values)) for key, values in legal.items()}


@st.composite
def yes_no_answers(draw, code):
    return {key: draw(st.booleans()) for key in YES_NO_INSTRUMENTS[code]}


def expected_yes_no_total(code, answers):
    points = YES_NO_INSTRUMENTS[code]
    return sum(points[key][0] if yes else points[key][1] for key, yes in answers.items())


@pytest.mark.parametrize("code", list(SUMMED_CHOICE_INSTRUMENTS))
@given(data=st.data())
def test_total_is_always_the_sum_of_item_points_and_band_the_published_one(code, data):
    answers = data.draw(choice_answers(code))
    result = score(code, answers)
    assert result.total == sum(answers.values())
    assert result.band == published_band(PUBLISHED_BANDS[code], result.total)


@pytest.mark.parametrize("code", list(YES_NO_INSTRUMENTS))
@given(data=st.data())
def test_yes_no_total_is_always_the_sum_of_published_points(code, data):
    answers = data.draw(yes_no_answers(code))
    result = score(code, answers)
    assert result.total == expected_yes_no_total(code, answers)
    assert result.band == published_band(PUBLISHED_BANDS[code], result.total)


@given(
    answers=st.fixed_dictionaries({key: st.sampled_from(values) for key, values in AUDIT_C_LEGAL.items()}),
    sex=st.sampled_from(["female", "male"]),
)
def test_audit_c_total_is_the_sum_and_screen_follows_the_sex_threshold(answers, sex):
    result = score(AUDIT_C, answers, sex=sex)
    assert result.total == sum(answers.values())
    assert result.band == published_band(AUDIT_C_BANDS[sex], result.total)


@pytest.mark.parametrize("code", list(SUMMED_CHOICE_INSTRUMENTS) + list(YES_NO_INSTRUMENTS))
@given(data=st.data())
def test_band_never_gets_less_severe_as_the_total_rises(code, data):
    strategy = choice_answers(code) if code in SUMMED_CHOICE_INSTRUMENTS else yes_no_answers(code)
    first, second = score(code, data.draw(strategy)), score(code, data.draw(strategy))
    lower, higher = sorted([first, second], key=lambda result: result.total)
    bands = PUBLISHED_BANDS[code]
    assert band_rank(bands, lower.band) <= band_rank(bands, higher.band)


@given(answers=st.fixed_dictionaries({key: st.sampled_from(values) for key, values in PHQ_9_LEGAL.items()}))
def test_phq_9_suicide_risk_flag_depends_only_on_item_9(answers):
    flags = score(PHQ_9, answers).flags
    assert flags == (["suicide_risk"] if answers["9"] > 0 else [])


@given(
    item=st.sampled_from(list(COWS_LEGAL)),
    value=st.integers(min_value=-3, max_value=9),
)
def test_cows_accepts_a_value_exactly_when_it_is_published(item, value):
    answers = all_zero(COWS_LEGAL, **{f"item_{item}": value})
    if value in COWS_LEGAL[item]:
        assert score(COWS, answers).total == value
    else:
        assert list(rejected(COWS, answers)) == [item]
