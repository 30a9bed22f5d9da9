"""Specimen validity (urine) from creatinine, specific gravity, pH and nitrite.

Pure: no Django. The thresholds are the HHS / DOT (49 CFR 40) criteria in ../shared/CLINICAL.md
section 5; they are program settings (`TESTING_VALIDITY_THRESHOLDS`), never hard-coded in a
caller, because some are unconfirmed (the low pH bound) and labs differ.

- Dilute: creatinine < 20 mg/dL and specific gravity < 1.003.
- Substituted: creatinine < 2 mg/dL and specific gravity <= 1.0010 or >= 1.0200.
- Invalid: creatinine < 2 mg/dL with specific gravity between those bounds.
- Adulterated: nitrite >= 500 mcg/mL, pH < 4 or >= 11, or a foreign substance found.

A specimen can meet several; the classification names the most serious (substituted,
adulterated, invalid, dilute) and lists every finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum


class Validity(StrEnum):
    NOT_ASSESSED = "not_assessed"
    VALID = "valid"
    DILUTE = "dilute"
    INVALID = "invalid"
    ADULTERATED = "adulterated"
    SUBSTITUTED = "substituted"


SEVERITY = [Validity.SUBSTITUTED, Validity.ADULTERATED, Validity.INVALID, Validity.DILUTE]
TAMPERED = frozenset({Validity.SUBSTITUTED, Validity.ADULTERATED})


@dataclass(frozen=True)
class Thresholds:
    dilute_creatinine_below: Decimal = Decimal("20")  # mg/dL
    dilute_specific_gravity_below: Decimal = Decimal("1.003")
    substituted_creatinine_below: Decimal = Decimal("2")  # mg/dL
    substituted_specific_gravity_at_or_below: Decimal = Decimal("1.0010")
    substituted_specific_gravity_at_or_above: Decimal = Decimal("1.0200")
    adulterated_nitrite_at_or_above: Decimal = Decimal("500")  # mcg/mL
    adulterated_ph_below: Decimal = Decimal("4")  # unconfirmed low bound: configurable
    adulterated_ph_at_or_above: Decimal = Decimal("11")
    temperature_low_c: Decimal = Decimal("32")
    temperature_high_c: Decimal = Decimal("38")

    @classmethod
    def from_settings(cls, overrides: dict | None) -> Thresholds:
        """Defaults with any of the named thresholds replaced (unknown names are an error)."""
        overrides = overrides or {}
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown validity thresholds: {', '.join(sorted(unknown))}")
        return cls(**{name: Decimal(str(value)) for name, value in overrides.items()})


@dataclass(frozen=True)
class Measures:
    creatinine: Decimal | None = None  # mg/dL
    specific_gravity: Decimal | None = None
    ph: Decimal | None = None
    nitrite: Decimal | None = None  # mcg/mL
    foreign_substance: bool = False


@dataclass(frozen=True)
class Classification:
    validity: Validity
    findings: tuple[str, ...] = field(default=())

    @property
    def tampered(self) -> bool:
        """Substituted or adulterated: treated as presumptively positive (CLINICAL.md)."""
        return self.validity in TAMPERED


def classify(measures: Measures, thresholds: Thresholds | None = None) -> Classification:
    t = thresholds or Thresholds()
    creatinine, gravity, ph, nitrite = (
        measures.creatinine,
        measures.specific_gravity,
        measures.ph,
        measures.nitrite,
    )
    if (
        creatinine is None
        and gravity is None
        and ph is None
        and nitrite is None
        and not measures.foreign_substance
    ):
        return Classification(Validity.NOT_ASSESSED)
    found: dict[Validity, list[str]] = {}

    def note(validity: Validity, text: str) -> None:
        found.setdefault(validity, []).append(text)

    if creatinine is not None and creatinine < t.substituted_creatinine_below:
        if gravity is not None:
            if (
                gravity <= t.substituted_specific_gravity_at_or_below
                or gravity >= t.substituted_specific_gravity_at_or_above
            ):
                note(Validity.SUBSTITUTED, f"creatinine {creatinine} mg/dL with specific gravity {gravity}")
            else:
                note(Validity.INVALID, f"creatinine {creatinine} mg/dL with specific gravity {gravity}")
        else:
            note(Validity.INVALID, f"creatinine {creatinine} mg/dL without a specific gravity")
    elif (
        creatinine is not None
        and gravity is not None
        and creatinine < t.dilute_creatinine_below
        and gravity < t.dilute_specific_gravity_below
    ):
        note(Validity.DILUTE, f"creatinine {creatinine} mg/dL and specific gravity {gravity}")
    if nitrite is not None and nitrite >= t.adulterated_nitrite_at_or_above:
        note(Validity.ADULTERATED, f"nitrite {nitrite} mcg/mL")
    if ph is not None and (ph < t.adulterated_ph_below or ph >= t.adulterated_ph_at_or_above):
        note(Validity.ADULTERATED, f"pH {ph}")
    if measures.foreign_substance:
        note(Validity.ADULTERATED, "a foreign substance")
    for validity in SEVERITY:
        if validity in found:
            findings = tuple(text for level in SEVERITY for text in found.get(level, ()))
            return Classification(validity, findings)
    return Classification(Validity.VALID)


def temperature_in_range(celsius: Decimal, thresholds: Thresholds | None = None) -> bool:
    """Read within 4 minutes of collection; out of range means recollect under observation."""
    t = thresholds or Thresholds()
    return t.temperature_low_c <= celsius <= t.temperature_high_c
