"""ASAM level-of-care recommendation rule (CLINICAL.md section 2). Pure Python, no Django.

The rule is our design, documented as such in CLINICAL.md; it recommends, a clinician
decides (and may override with a reason). Six dimensions are rated 0-4; the rule, in order:

1. D1 >= 3: not IOP now; withdrawal management first.
2. Any dimension at 4: not IOP now; residential or inpatient review.
3. Two or more dimensions at 3: consider 2.5 or a 3.x residential level.
4. All dimensions <= 1: consider Level 1.
5. Otherwise: Level 2.1 (IOP).
In addition, D1 = 2 means medical review before IOP, whatever the level.

Level returned for each outcome (`RECOMMENDED_LEVELS`):

| outcome                                  | 3rd edition (2013) | 4th edition (2023) |
| ---------------------------------------- | ------------------ | ------------------ |
| D1 = 3: withdrawal management first      | "3.7-WM"           | "3.7"              |
| D1 = 4: withdrawal management first      | "4-WM"             | "4"                |
| another dimension at 4 (D1 < 3)          | "3.7"              | "3.7"              |
| two or more dimensions at 3              | "2.5"              | "2.5"              |
| all dimensions <= 1                      | "1"                | "1.5"              |
| otherwise (including D1 = 2)             | "2.1"              | "2.1"              |

The 4th edition has no separate "-WM" levels: withdrawal management is part of the
medically managed levels (1.7, 2.7, 3.7, 4), so D1 >= 3 maps to 3.7 or 4 there. In the 4th
edition Level 1.0 is long-term remission monitoring and 1.5 is outpatient therapy, so "consider
Level 1" returns "1.5" (the 3rd edition's Level 1 outpatient). 4th-edition level names are
cross-checked only (CLINICAL.md); the strings live in `RECOMMENDED_LEVELS` so they are easy to
change.

`not_iop` is True only for rule 1 and 2 ("not IOP now"). Rules 3 and 4 are suggestions to
consider ("consider 2.5 or 3.x", "consider Level 1"): the level is not 2.1, but `not_iop` stays
False; use `recommends_iop` to know whether the recommended level is 2.1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

EDITION_3: Final = "3"
EDITION_4: Final = "4"
EDITIONS: Final = (EDITION_3, EDITION_4)

DIMENSIONS: Final = ("1", "2", "3", "4", "5", "6")
LOWEST_RATING: Final = 0
HIGHEST_RATING: Final = 4

# Rating labels (CLINICAL.md: label wording unconfirmed).
RATING_LABELS: Final = MappingProxyType(
    {0: "none", 1: "mild", 2: "moderate", 3: "significant", 4: "severe/imminent"}
)

DIMENSION_NAMES: Final = MappingProxyType(
    {
        EDITION_3: MappingProxyType(
            {
                "1": "Acute Intoxication and/or Withdrawal Potential",
                "2": "Biomedical Conditions and Complications",
                "3": "Emotional, Behavioral, or Cognitive Conditions and Complications",
                "4": "Readiness to Change",
                "5": "Relapse, Continued Use, or Continued Problem Potential",
                "6": "Recovery/Living Environment",
            }
        ),
        EDITION_4: MappingProxyType(
            {
                "1": "Intoxication, Withdrawal, and Addiction Medications",
                "2": "Biomedical Conditions",
                "3": "Psychiatric and Cognitive Conditions",
                "4": "Substance Use-Related Risks",
                "5": "Recovery Environment Interactions",
                "6": "Person-Centered Considerations",
            }
        ),
    }
)

LEVELS: Final = MappingProxyType(
    {
        EDITION_3: (
            "0.5",
            "1",
            "2.1",
            "2.5",
            "3.1",
            "3.3",
            "3.5",
            "3.7",
            "4",
            "1-WM",
            "2-WM",
            "3.2-WM",
            "3.7-WM",
            "4-WM",
        ),
        EDITION_4: ("1.0", "1.5", "1.7", "2.1", "2.5", "2.7", "3.1", "3.5", "3.7", "4"),
    }
)

IOP_LEVEL: Final = "2.1"

# Outcomes of the rule, used as keys of RECOMMENDED_LEVELS.
OUTCOME_WITHDRAWAL_MANAGEMENT: Final = "withdrawal_management"  # D1 = 3
OUTCOME_INTENSIVE_WITHDRAWAL_MANAGEMENT: Final = "intensive_withdrawal_management"  # D1 = 4
OUTCOME_RESIDENTIAL_OR_INPATIENT_REVIEW: Final = "residential_or_inpatient_review"
OUTCOME_ABOVE_IOP: Final = "above_iop"  # two or more dimensions at 3
OUTCOME_OUTPATIENT: Final = "outpatient"  # all dimensions <= 1
OUTCOME_IOP: Final = "iop"

RECOMMENDED_LEVELS: Final = MappingProxyType(
    {
        EDITION_3: MappingProxyType(
            {
                OUTCOME_WITHDRAWAL_MANAGEMENT: "3.7-WM",
                OUTCOME_INTENSIVE_WITHDRAWAL_MANAGEMENT: "4-WM",
                OUTCOME_RESIDENTIAL_OR_INPATIENT_REVIEW: "3.7",
                OUTCOME_ABOVE_IOP: "2.5",
                OUTCOME_OUTPATIENT: "1",
                OUTCOME_IOP: IOP_LEVEL,
            }
        ),
        EDITION_4: MappingProxyType(
            {
                OUTCOME_WITHDRAWAL_MANAGEMENT: "3.7",
                OUTCOME_INTENSIVE_WITHDRAWAL_MANAGEMENT: "4",
                OUTCOME_RESIDENTIAL_OR_INPATIENT_REVIEW: "3.7",
                OUTCOME_ABOVE_IOP: "2.5",
                OUTCOME_OUTPATIENT: "1.5",
                OUTCOME_IOP: IOP_LEVEL,
            }
        ),
    }
)


@dataclass(frozen=True)
class Recommendation:
    level: str
    reasons: list[str]
    not_iop: bool  # "not IOP now": D1 >= 3 or any dimension at 4
    edition: str
    outcome: str
    withdrawal_management_first: bool  # D1 >= 3
    medical_review_before_iop: bool  # D1 = 2
    driving_dimensions: list[str]  # dimension keys named in `reasons`, in order

    @property
    def recommends_iop(self) -> bool:
        return self.level == IOP_LEVEL


class InvalidRatings(ValueError):
    """`errors` maps "edition" or a dimension key ("1".."6", or an unknown key) to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))


def recommend_level(edition: str, ratings: Mapping[str, int]) -> Recommendation:
    """Apply the recommendation rule to six dimension ratings ("1".."6" -> 0..4)."""
    _raise_for_invalid_input(edition, ratings)
    names = DIMENSION_NAMES[edition]

    def describe(dimension: str) -> str:
        return f"Dimension {dimension} ({names[dimension]}) rated {ratings[dimension]}"

    withdrawal_rating = ratings["1"]
    at_four = [d for d in DIMENSIONS if ratings[d] == HIGHEST_RATING and d != "1"]
    at_three = [d for d in DIMENSIONS if ratings[d] == 3]
    reasons: list[str] = []
    drivers: list[str] = []

    if withdrawal_rating >= 3:
        outcome = (
            OUTCOME_INTENSIVE_WITHDRAWAL_MANAGEMENT
            if withdrawal_rating == HIGHEST_RATING
            else OUTCOME_WITHDRAWAL_MANAGEMENT
        )
        level = RECOMMENDED_LEVELS[edition][outcome]
        reasons.append(f"{describe('1')}: not IOP now; withdrawal management first (Level {level}).")
        drivers.append("1")
        for dimension in at_four:
            reasons.append(
                f"{describe(dimension)}: not IOP now; review for residential or inpatient "
                "care after withdrawal management."
            )
            drivers.append(dimension)
    elif at_four:
        outcome = OUTCOME_RESIDENTIAL_OR_INPATIENT_REVIEW
        level = RECOMMENDED_LEVELS[edition][outcome]
        for dimension in at_four:
            reasons.append(
                f"{describe(dimension)}: not IOP now; review for residential or inpatient "
                f"care (Level {level} or higher)."
            )
            drivers.append(dimension)
    elif len(at_three) >= 2:
        outcome = OUTCOME_ABOVE_IOP
        level = RECOMMENDED_LEVELS[edition][outcome]
        reasons.append(
            f"{_join(describe(d) for d in at_three)}: two or more dimensions at 3; consider "
            f"Level {level} or a 3.x residential level."
        )
        drivers.extend(at_three)
    elif all(ratings[d] <= 1 for d in DIMENSIONS):
        outcome = OUTCOME_OUTPATIENT
        level = RECOMMENDED_LEVELS[edition][outcome]
        reasons.append(
            f"All dimensions rated 1 or lower ({_join(describe(d) for d in DIMENSIONS)}): "
            f"consider Level {level} outpatient."
        )
        drivers.extend(DIMENSIONS)
    else:
        outcome = OUTCOME_IOP
        level = RECOMMENDED_LEVELS[edition][outcome]
        above_one = [d for d in DIMENSIONS if ratings[d] >= 2]
        reasons.append(
            f"{_join(describe(d) for d in above_one)}: needs more than Level 1, with no "
            "dimension at 4, Dimension 1 below 3 and fewer than two dimensions at 3; "
            f"Level {level} intensive outpatient."
        )
        drivers.extend(above_one)

    medical_review = withdrawal_rating == 2
    if medical_review:
        reasons.append(f"{describe('1')}: medical review before IOP.")
        if "1" not in drivers:
            drivers.append("1")

    return Recommendation(
        level=level,
        reasons=reasons,
        not_iop=outcome
        in (
            OUTCOME_WITHDRAWAL_MANAGEMENT,
            OUTCOME_INTENSIVE_WITHDRAWAL_MANAGEMENT,
            OUTCOME_RESIDENTIAL_OR_INPATIENT_REVIEW,
        ),
        edition=edition,
        outcome=outcome,
        withdrawal_management_first=withdrawal_rating >= 3,
        medical_review_before_iop=medical_review,
        driving_dimensions=drivers,
    )


def dimension_name(edition: str, dimension: str) -> str:
    return DIMENSION_NAMES[edition][dimension]


def _join(parts: Iterable[str]) -> str:
    items = list(parts)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _raise_for_invalid_input(edition: object, ratings: object) -> None:
    errors: dict[str, str] = {}
    if edition not in EDITIONS:
        errors["edition"] = f"expected one of {', '.join(EDITIONS)}, got {edition!r}"
    if not isinstance(ratings, Mapping):
        errors["ratings"] = f"expected a mapping of dimension to rating, got {type(ratings).__name__}"
        raise InvalidRatings(errors)
    for dimension in DIMENSIONS:
        if dimension not in ratings:
            errors[dimension] = "required: no rating given"
            continue
        rating = ratings[dimension]
        if isinstance(rating, bool) or not isinstance(rating, int):
            errors[dimension] = (
                f"expected a whole number {LOWEST_RATING}-{HIGHEST_RATING}, got {type(rating).__name__}"
            )
        elif not LOWEST_RATING <= rating <= HIGHEST_RATING:
            errors[dimension] = f"{rating} is out of range ({LOWEST_RATING}-{HIGHEST_RATING})"
    for key in ratings:
        if key not in DIMENSIONS:
            errors[str(key)] = "unknown dimension (expected '1' to '6')"
    if errors:
        raise InvalidRatings(errors)
