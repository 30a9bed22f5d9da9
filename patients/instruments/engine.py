"""The one scoring engine for every instrument in `definitions.py`.

Pure Python: no Django, no I/O. `score()` validates the answers against the instrument's
data, adds up item points, picks the band (or, for the C-SSRS, the risk tier) and evaluates
the flag rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from .definitions import (
    CHOICE,
    DEFINITIONS,
    SEX_FEMALE,
    SEX_MALE,
    YES_NO,
    Band,
    BandAtLeast,
    FlagRule,
    Instrument,
    Item,
    ItemAnswerAbove,
    TotalAtLeast,
)

Answer = int | bool


@dataclass(frozen=True)
class ScoreResult:
    """`total` is None for instruments without a total (C-SSRS); `band` is then the tier."""

    total: int | None
    band: str
    flags: list[str]


class UnknownInstrument(LookupError):
    pass


class InvalidAnswers(ValueError):
    """The answers do not fit the instrument. `errors` maps each bad item key to why.

    Keys are item keys ("1", "6a", ...), unknown keys as given, or "sex" for AUDIT-C.
    """

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))


class InvalidBands(ValueError):
    """A band override does not cover the instrument's totals exactly."""


# --- registry ---------------------------------------------------------------------------------


def get_definition(code: str) -> Instrument:
    try:
        return DEFINITIONS[code]
    except KeyError:
        raise UnknownInstrument(f"unknown instrument code {code!r}") from None


def list_definitions(*, licence_confirmed: bool = True) -> list[Instrument]:
    """All instruments, in a stable order.

    Pass `licence_confirmed=False` to leave out instruments that this installation may only
    offer once it has confirmed their licence (DAST-10). Scoring is never gated: a stored
    result must stay scoreable even if the setting changes later.
    """
    return [
        instrument
        for instrument in DEFINITIONS.values()
        if licence_confirmed or not instrument.requires_licence_confirmation
    ]


def requires_licence_confirmation(code: str) -> bool:
    return get_definition(code).requires_licence_confirmation


# --- scoring ----------------------------------------------------------------------------------


def score(
    code: str,
    answers: Mapping[str, Answer],
    *,
    sex: str | None = None,
    band_override: Sequence[Band] | None = None,
) -> ScoreResult:
    """Score one administration of instrument `code`.

    `answers` maps published item numbers ("1".."10", "6a") to integers for choice items and
    to booleans (True = "Yes" to the question as asked) for yes/no items. `sex` ("female" or
    "male") is required by AUDIT-C and ignored by the others. `band_override` replaces the
    default bands of an instrument whose bands are configurable (CIWA-Ar only).

    Raises `InvalidAnswers` naming every bad item, `UnknownInstrument`, or `InvalidBands`.
    """
    instrument = get_definition(code)
    bands = _active_bands(instrument, sex=sex, band_override=band_override)
    _raise_for_invalid_answers(instrument, answers, sex=sex)

    if instrument.has_total:
        total: int | None = sum(
            item_points(item, answers[item.key])
            for item in instrument.items
            if item.scored and item.key in answers
        )
        band_index = _band_index_for_total(bands, total)
        band_names = [band.name for band in bands]
    else:
        total = None
        band_names = [tier.name for tier in instrument.risk_tiers]
        band_index = _risk_tier_index(instrument, answers)

    flags = [
        rule.flag
        for rule in instrument.flag_rules
        if _flag_holds(
            rule,
            answers=answers,
            total=total,
            band_names=band_names,
            band_index=band_index,
        )
    ]
    return ScoreResult(total=total, band=band_names[band_index], flags=flags)


def item_points(item: Item, answer: Answer) -> int:
    """Points for one valid answer (reverse scoring happens here)."""
    if not item.scored:
        return 0
    if item.kind == YES_NO:
        points = item.points_for_yes if answer else item.points_for_no
        return points or 0
    return int(answer)


def shows_treatment_response(code: str, earlier_total: int, later_total: int) -> bool:
    """True when the total fell by at least the instrument's response drop (PHQ-9: 5)."""
    instrument = get_definition(code)
    if instrument.response_drop is None:
        raise ValueError(f"{instrument.code} defines no response criterion")
    return earlier_total - later_total >= instrument.response_drop


def validate_band_override(code: str, bands: Sequence[Band]) -> None:
    """Check a configured band set: contiguous, from the minimum to the maximum total.

    It must also keep every band name the instrument's flag rules refer to (CIWA-Ar:
    "moderate"), so "moderate or worse" still means something.
    """
    instrument = get_definition(code)
    if not instrument.bands_configurable:
        raise InvalidBands(f"{instrument.code} bands are fixed by the published instrument")
    if not bands:
        raise InvalidBands("at least one band is required")
    expected_low = instrument.min_total
    for band in bands:
        if band.low != expected_low:
            raise InvalidBands(
                f"band {band.name!r} starts at {band.low}; expected {expected_low} "
                "(bands must be in order, with no gap or overlap)"
            )
        if band.high < band.low:
            raise InvalidBands(f"band {band.name!r} ends before it starts")
        expected_low = band.high + 1
    if bands[-1].high != instrument.max_total:
        raise InvalidBands(f"the last band ends at {bands[-1].high}; expected {instrument.max_total}")
    names = [band.name for band in bands]
    if len(set(names)) != len(names):
        raise InvalidBands("band names must be unique")
    for rule in instrument.flag_rules:
        if isinstance(rule.when, BandAtLeast) and rule.when.band not in names:
            raise InvalidBands(f"flag {rule.flag!r} needs a band named {rule.when.band!r}")


_WHOLE_NUMBER = re.compile(r"[0-9]+")
# Longest band name a setting may use (the stored result's `band` column holds 40 characters).
MAX_BAND_NAME_LENGTH = 40


def parse_band_setting(text: str) -> tuple[Band, ...]:
    """Bands written as a setting: ``"mild:0-9,moderate:10-18,severe:19-67"``.

    Comma-separated ``name:low-high`` pairs (inclusive totals), least severe first; spaces
    around names and numbers are ignored. Only the form is checked here: whether the bands fit
    an instrument is `validate_band_override`'s job. Raises `InvalidBands` saying what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidBands("no bands given")
    bands = []
    for position, part in enumerate(text.split(","), start=1):
        part = part.strip()
        name, colon, limits = part.rpartition(":")
        name = name.strip()
        low_text, dash, high_text = limits.strip().partition("-")
        if not colon or not dash or not name:
            raise InvalidBands(f"band {position} ({part!r}) is not written as name:low-high")
        if not (_WHOLE_NUMBER.fullmatch(low_text.strip()) and _WHOLE_NUMBER.fullmatch(high_text.strip())):
            raise InvalidBands(
                f"band {name!r} has limits {limits.strip()!r}; expected two whole numbers, low-high"
            )
        if len(name) > MAX_BAND_NAME_LENGTH:
            raise InvalidBands(f"band name {name!r} is longer than {MAX_BAND_NAME_LENGTH} characters")
        bands.append(Band(name, int(low_text), int(high_text)))
    return tuple(bands)


# --- internals --------------------------------------------------------------------------------


def _active_bands(
    instrument: Instrument, *, sex: str | None, band_override: Sequence[Band] | None
) -> tuple[Band, ...]:
    if band_override is not None:
        validate_band_override(instrument.code, band_override)
        return tuple(band_override)
    if instrument.bands_by_sex is not None:
        # An unknown or missing sex is reported by answer validation.
        return instrument.bands_by_sex.get(sex or "", ())
    return instrument.bands


def _raise_for_invalid_answers(
    instrument: Instrument, answers: Mapping[str, Answer], *, sex: str | None
) -> None:
    errors: dict[str, str] = {}
    valid: dict[str, Answer] = {}

    for item in instrument.items:
        present = item.key in answers
        if item.asked_when is not None:
            condition = item.asked_when
            if condition.item not in valid:
                # The item it depends on is missing or invalid (already reported): we cannot
                # tell whether this one should be asked, so only check its value if given.
                if present:
                    _check_value(item, answers[item.key], errors, valid)
                continue
            if valid[condition.item] != condition.answer:
                if present:
                    errors[item.key] = (
                        f"must be left unanswered when item {condition.item} is "
                        f"{_yes_no_word(not condition.answer)}"
                    )
                continue
        if not present:
            if item.required:
                errors[item.key] = "required: no answer given"
            continue
        _check_value(item, answers[item.key], errors, valid)

    known = set(instrument.item_keys)
    for key in answers:
        if key not in known:
            errors[str(key)] = f"unknown item for {instrument.code}"

    if instrument.requires_sex and sex not in (SEX_FEMALE, SEX_MALE):
        errors["sex"] = f"required for {instrument.code}: {SEX_FEMALE!r} or {SEX_MALE!r}, got {sex!r}"

    if errors:
        raise InvalidAnswers(errors)


def _check_value(item: Item, answer: object, errors: dict[str, str], valid: dict[str, Answer]) -> None:
    wrong_type = _wrong_type_message(item, answer)
    if wrong_type:
        errors[item.key] = wrong_type
    elif answer not in item.legal_values:
        errors[item.key] = f"{answer!r} is not a legal answer (legal: {_legal(item)})"
    else:
        valid[item.key] = cast(Answer, answer)


def _wrong_type_message(item: Item, answer: object) -> str:
    """Empty when the answer has the right type; bool is a subclass of int, so check it."""
    answered_type = type(answer).__name__
    if item.kind == YES_NO and not isinstance(answer, bool):
        return f"expected True (Yes) or False (No), got {answered_type}"
    if item.kind == CHOICE and (isinstance(answer, bool) or not isinstance(answer, int)):
        return f"expected a whole number (one of {_legal(item)}), got {answered_type}"
    return ""


def _legal(item: Item) -> str:
    return ", ".join(_describe(value) for value in item.legal_values)


def _describe(value: Answer) -> str:
    return _yes_no_word(value) if isinstance(value, bool) else str(value)


def _yes_no_word(value: bool) -> str:
    return "Yes" if value else "No"


def _band_index_for_total(bands: Sequence[Band], total: int) -> int:
    for index, band in enumerate(bands):
        if band.contains(total):
            return index
    raise AssertionError(f"no band contains total {total}")  # definitions are checked in tests


def _risk_tier_index(instrument: Instrument, answers: Mapping[str, Answer]) -> int:
    answered_yes = {key for key, answer in answers.items() if answer is True}
    for index in range(len(instrument.risk_tiers) - 1, -1, -1):
        tier = instrument.risk_tiers[index]
        if not tier.any_yes or tier.any_yes & answered_yes:
            return index
    raise AssertionError(f"{instrument.code} has no fallback risk tier")


def _flag_holds(
    rule: FlagRule,
    *,
    answers: Mapping[str, Answer],
    total: int | None,
    band_names: Sequence[str],
    band_index: int,
) -> bool:
    condition = rule.when
    if isinstance(condition, ItemAnswerAbove):
        answer = answers.get(condition.item)
        return answer is not None and int(answer) > condition.threshold
    if isinstance(condition, TotalAtLeast):
        return total is not None and total >= condition.minimum
    if isinstance(condition, BandAtLeast):
        return band_index >= band_names.index(condition.band)
    raise TypeError(f"unknown flag condition {condition!r}")
