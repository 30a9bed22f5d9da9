"""Specimen validity at every threshold edge (../shared/CLINICAL.md section 5)."""

from decimal import Decimal as D

import pytest

from testing.validity import Measures, Thresholds, Validity, classify, temperature_in_range


def validity(**measures):
    return classify(
        Measures(**{k: (D(v) if isinstance(v, str) else v) for k, v in measures.items()})
    ).validity


@pytest.mark.parametrize(
    ("creatinine", "gravity", "expected"),
    [
        # dilute: creatinine < 20 and SG < 1.003
        ("19.99", "1.0029", Validity.DILUTE),
        ("20", "1.0029", Validity.VALID),
        ("19.99", "1.003", Validity.VALID),
        ("2", "1.0029", Validity.DILUTE),  # creatinine 2 is not below 2: not substituted
        # substituted: creatinine < 2 and SG <= 1.0010 or >= 1.0200
        ("1.99", "1.0010", Validity.SUBSTITUTED),
        ("1.99", "1.0009", Validity.SUBSTITUTED),
        ("1.99", "1.0200", Validity.SUBSTITUTED),
        ("1.99", "1.0250", Validity.SUBSTITUTED),
        # invalid: creatinine < 2 with SG strictly between
        ("1.99", "1.0011", Validity.INVALID),
        ("1.99", "1.0199", Validity.INVALID),
        ("0", "1.0100", Validity.INVALID),
        # normal
        ("80", "1.0150", Validity.VALID),
    ],
)
def test_creatinine_and_specific_gravity_edges(creatinine, gravity, expected):
    assert validity(creatinine=creatinine, specific_gravity=gravity) == expected


@pytest.mark.parametrize(
    ("ph", "expected"),
    [
        ("3.99", Validity.ADULTERATED),
        ("4", Validity.VALID),
        ("10.99", Validity.VALID),
        ("11", Validity.ADULTERATED),
    ],
)
def test_ph_edges(ph, expected):
    assert validity(creatinine="80", specific_gravity="1.015", ph=ph) == expected


@pytest.mark.parametrize(("nitrite", "expected"), [("499.9", Validity.VALID), ("500", Validity.ADULTERATED)])
def test_nitrite_edge(nitrite, expected):
    assert validity(creatinine="80", specific_gravity="1.015", nitrite=nitrite) == expected


def test_a_foreign_substance_is_adulteration():
    assert validity(creatinine="80", specific_gravity="1.015", foreign_substance=True) == Validity.ADULTERATED


def test_the_most_serious_finding_names_the_specimen_and_every_finding_is_listed():
    result = classify(Measures(creatinine=D("1"), specific_gravity=D("1.0005"), nitrite=D("600")))
    assert result.validity == Validity.SUBSTITUTED
    assert result.tampered
    assert len(result.findings) == 2
    assert classify(Measures(creatinine=D("10"), specific_gravity=D("1.002"), ph=D("12"))).validity == (
        Validity.ADULTERATED
    )


def test_low_creatinine_without_specific_gravity_is_invalid_not_substituted():
    assert validity(creatinine="1") == Validity.INVALID


def test_no_measures_is_not_assessed_and_dilute_is_not_tampering():
    assert classify(Measures()).validity == Validity.NOT_ASSESSED
    dilute = classify(Measures(creatinine=D("10"), specific_gravity=D("1.002")))
    assert dilute.validity == Validity.DILUTE
    assert not dilute.tampered


def test_thresholds_are_configurable():
    stricter = Thresholds.from_settings({"adulterated_ph_below": "4.5"})
    assert classify(Measures(ph=D("4.2")), stricter).validity == Validity.ADULTERATED
    assert classify(Measures(ph=D("4.2"))).validity == Validity.VALID
    with pytest.raises(ValueError, match="unknown"):
        Thresholds.from_settings({"ph_low": 3})


@pytest.mark.parametrize(
    ("celsius", "in_range"),
    [("31.9", False), ("32", True), ("38", True), ("38.1", False)],
)
def test_temperature_edges(celsius, in_range):
    assert temperature_in_range(D(celsius)) is in_range
