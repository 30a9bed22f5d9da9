"""Screening services: administering an instrument, ASAM assessments, alerts, the referral's
screened_at, audit, and who may do what."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from iop.audit.models import AuditAction, AuditEntry
from patients.instruments import CIWA_AR_DEFAULT_BANDS, Band
from patients.models import (
    AsamAssessment,
    ClinicalAlert,
    InstrumentResponse,
    Referral,
    ReferralStatus,
)
from patients.selectors import screening as selectors
from patients.services import screening as services
from patients.tests.factories import PatientFactory

PHQ9_ITEM9_POSITIVE = {**{str(n): 0 for n in range(1, 9)}, "9": 1}  # total 1, minimal
PHQ9_SEVERE = {str(n): 3 for n in range(1, 10)}  # 27
CSSRS_HIGH = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
CSSRS_LOW = {"1": True, "2": False, "6": False}
CIWA_MODERATE = {**{str(n): 1 for n in range(1, 10)}, "10": 1}  # 10
CIWA_SEVERE = {**{str(n): 2 for n in range(1, 10)}, "10": 2}  # 20
COWS_MODERATE = {
    "1": 2,
    "2": 2,
    "3": 1,
    "4": 2,
    "5": 1,
    "6": 1,
    "7": 1,
    "8": 1,
    "9": 1,
    "10": 1,
    "11": 0,
}  # 13
CAGE_NO = {str(n): False for n in range(1, 5)}
ALL_MODERATE = {str(d): 2 for d in range(1, 7)}


def open_referral(clinic, patient=None, **extra) -> Referral:
    """An open referral (test set-up only: straight to the table)."""
    return Referral.objects.create(
        patient=patient or clinic.patient,
        site=clinic.site_a,
        source="self",
        reason="Asked for help with drinking.",
        created_by=clinic.clinician_on_team,
        **extra,
    )


@pytest.mark.django_db
def test_administering_stores_answers_total_band_flags_version_and_audits(clinic):
    response = services.administer_instrument(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        code="phq-9",
        answers=PHQ9_SEVERE,
        notes=" ok ",
    )
    response.refresh_from_db()
    assert response.total == 27 and response.band == "severe" and response.flags == ["suicide_risk"]
    assert response.instrument_version == "1" and response.answers == PHQ9_SEVERE
    assert response.administered_by == clinic.clinician_on_team and response.notes == "ok"
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE,
        object_id=str(response.public_id),
        patient_public_id=clinic.patient.public_id,
    ).exists()


@pytest.mark.django_db
def test_audit_c_stores_the_sex_used_for_scoring(clinic):
    answers = {"1": 1, "2": 1, "3": 1}  # 3: positive for women, negative for men
    female = services.administer_instrument(
        actor=clinic.medical, patient=clinic.patient, code="audit-c", answers=answers, sex="female"
    )
    male = services.administer_instrument(
        actor=clinic.medical, patient=clinic.patient, code="audit-c", answers=answers, sex="male"
    )
    assert (female.sex_used, female.band, female.flags) == ("female", "positive", ["positive_screen"])
    assert (male.sex_used, male.band, male.flags) == ("male", "negative", [])


@pytest.mark.django_db
def test_other_instruments_ignore_the_sex(clinic):
    response = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="cage", answers=CAGE_NO, sex="male"
    )
    assert response.sex_used == ""


@pytest.mark.django_db
def test_invalid_answers_are_refused_naming_each_item_and_nothing_is_saved(clinic):
    with pytest.raises(ValidationError) as refused:
        services.administer_instrument(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            code="phq-9",
            answers={"1": 4, "2": 0, "3": "2", "99": 1},
        )
    errors = refused.value.message_dict
    assert {"1", "3", "4", "5", "6", "7", "8", "9", "99"} <= set(errors)
    assert "10" not in errors  # item 10 is optional
    assert not InstrumentResponse.objects.exists()


@pytest.mark.django_db
def test_unknown_instrument_is_refused(clinic):
    with pytest.raises(ValidationError) as refused:
        services.administer_instrument(
            actor=clinic.clinician_on_team, patient=clinic.patient, code="bdi", answers={}
        )
    assert "instrument" in refused.value.message_dict


@pytest.mark.django_db
@override_settings(DAST10_LICENCE_CONFIRMED=False)
def test_dast_10_cannot_be_administered_without_a_confirmed_licence(clinic):
    with pytest.raises(ValidationError):
        services.administer_instrument(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            code="dast-10",
            answers={str(n): False for n in range(1, 11)},
        )


@pytest.mark.django_db
def test_dast_10_is_reverse_scored_on_item_3(clinic):
    answers = {str(n): False for n in range(1, 11)}
    response = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="dast-10", answers=answers
    )
    assert (response.total, response.band) == (1, "low")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["case_manager", "peer_support", "admin"])
def test_roles_that_do_not_administer_are_refused(clinic, persona):
    with pytest.raises(PermissionError):
        services.administer_instrument(
            actor=clinic.persona(persona),
            patient=clinic.patient,
            code="cage",
            answers=CAGE_NO,
        )
    assert not InstrumentResponse.objects.exists()


# --- alerts -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_phq9_item_9_raises_a_high_safety_alert_whatever_the_total(clinic):
    response = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
    )
    assert response.band == "minimal"
    alert = ClinicalAlert.objects.get(patient=clinic.patient)
    assert alert.severity == "high" and alert.kind == "suicide_risk"
    assert alert.message == "PHQ-9 item 9 positive: same-day suicide risk assessment (C-SSRS) needed"
    assert alert.raised_by == clinic.clinician_on_team


@pytest.mark.django_db
def test_a_repeat_positive_does_not_duplicate_the_open_alert(clinic):
    for _ in range(2):
        services.administer_instrument(
            actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
        )
    assert ClinicalAlert.objects.filter(patient=clinic.patient).count() == 1
    assert InstrumentResponse.objects.count() == 2  # repeat administrations are kept


@pytest.mark.django_db
def test_cssrs_high_raises_a_high_safety_alert_and_low_raises_none(clinic):
    low = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="c-ssrs", answers=CSSRS_LOW
    )
    assert (low.total, low.band, low.flags) == (None, "low", [])
    assert not ClinicalAlert.objects.exists()
    high = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="c-ssrs", answers=CSSRS_HIGH
    )
    assert (high.band, high.flags) == ("high", ["high_suicide_risk"])
    alert = ClinicalAlert.objects.get()
    assert alert.severity == "high" and alert.message.startswith("C-SSRS high risk")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code, answers, band, severity, words",
    [
        ("ciwa-ar", CIWA_MODERATE, "moderate", "medium", "withdrawal management first"),
        ("ciwa-ar", CIWA_SEVERE, "severe", "high", "withdrawal management first"),
        ("cows", COWS_MODERATE, "moderate", "medium", "medical review before IOP"),
    ],
)
def test_withdrawal_moderate_or_worse_raises_a_withdrawal_alert(clinic, code, answers, band, severity, words):
    response = services.administer_instrument(
        actor=clinic.medical, patient=clinic.patient, code=code, answers=answers
    )
    assert response.band == band
    alert = ClinicalAlert.objects.get()
    assert alert.severity == severity and words in alert.message and band in alert.message


@pytest.mark.django_db
def test_mild_withdrawal_raises_no_alert(clinic):
    services.administer_instrument(
        actor=clinic.medical,
        patient=clinic.patient,
        code="ciwa-ar",
        answers={str(n): 0 for n in range(1, 11)},
    )
    assert not ClinicalAlert.objects.exists()


@pytest.mark.django_db
def test_safety_alert_shows_at_once_on_the_chart_and_the_care_teams_home_pages(clinic, client):
    services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
    )
    message = "PHQ-9 item 9 positive"
    for persona in ["clinician_on_team", "case_manager", "medical", "peer_support"]:
        # Peer support reads that there is a safety alert, not the score (ADR 0008).
        expected = "Safety alert" if persona == "peer_support" else message
        client.force_login(clinic.persona(persona))
        assert expected in client.get(reverse("home")).content.decode(), persona
        assert (
            expected
            in client.get(reverse("patients:chart", args=[clinic.patient.public_id])).content.decode()
        )
    client.force_login(clinic.clinician_elsewhere)
    assert message not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_safety_alert_reaches_the_intake_clinician_of_an_open_referral(clinic, client):
    newcomer = PatientFactory(site=clinic.site_a)
    open_referral(clinic, newcomer, intake_clinician=clinic.clinician_elsewhere)
    services.administer_instrument(
        actor=clinic.clinician_on_team, patient=newcomer, code="c-ssrs", answers=CSSRS_HIGH
    )
    client.force_login(clinic.clinician_elsewhere)
    assert "C-SSRS high risk" in client.get(reverse("home")).content.decode()


# --- the referral -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_screening_result_sets_the_open_referrals_screened_at_once(clinic):
    referral = open_referral(clinic)
    first = services.administer_instrument(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        code="cage",
        answers=CAGE_NO,
    )
    referral.refresh_from_db()
    assert first.referral == referral and referral.screened_at == first.administered_at
    version = referral.version
    services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ALL_MODERATE
    )
    referral.refresh_from_db()
    assert referral.screened_at == first.administered_at and referral.version == version
    assert (
        AuditEntry.objects.filter(object_id=str(referral.public_id), changed_fields=["screened_at"]).count()
        == 1
    )


@pytest.mark.django_db
def test_asam_assessment_alone_marks_the_referral_screened(clinic):
    referral = open_referral(clinic)
    assessment = services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="4", ratings=ALL_MODERATE
    )
    referral.refresh_from_db()
    assert assessment.referral == referral and referral.screened_at == assessment.assessed_at


@pytest.mark.django_db
def test_results_without_an_open_referral_are_stored_without_one(clinic):
    open_referral(clinic, status=ReferralStatus.CLOSED, outcome="admitted")
    response = services.administer_instrument(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        code="cage",
        answers=CAGE_NO,
    )
    assert response.referral is None


# --- ASAM -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_asam_accepting_the_recommendation_stores_level_reasons_and_notes(clinic):
    assessment = services.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings={"1": 0, "2": 1, "3": 2, "4": 2, "5": 2, "6": 1},
        dimension_notes={"4": "  Ambivalent.  ", "5": ""},
    )
    assessment.refresh_from_db()
    assert assessment.recommended_level == assessment.chosen_level == "2.1"
    assert assessment.recommendation_reasons and "Level 2.1" in assessment.recommendation_reasons[0]
    assert assessment.override_reason == "" and assessment.dimension_notes == {"4": "Ambivalent."}
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=str(assessment.public_id)).exists()


@pytest.mark.django_db
def test_asam_override_needs_a_reason(clinic):
    with pytest.raises(ValidationError) as refused:
        services.assess_asam(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            edition="3",
            ratings=ALL_MODERATE,
            chosen_level="2.5",
            override_reason="   ",
        )
    assert "override_reason" in refused.value.message_dict
    assessment = services.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings=ALL_MODERATE,
        chosen_level="2.5",
        override_reason="Lives alone; needs daily structure.",
    )
    assert (assessment.recommended_level, assessment.chosen_level) == ("2.1", "2.5")
    assert assessment.overridden and assessment.override_reason == "Lives alone; needs daily structure."


@pytest.mark.django_db
def test_asam_level_must_belong_to_the_edition(clinic):
    with pytest.raises(ValidationError) as refused:
        services.assess_asam(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            edition="4",
            ratings=ALL_MODERATE,
            chosen_level="3.7-WM",  # 3rd edition only
            override_reason="x",
        )
    assert "chosen_level" in refused.value.message_dict


@pytest.mark.django_db
def test_asam_bad_ratings_are_refused_naming_each_dimension(clinic):
    with pytest.raises(ValidationError) as refused:
        services.assess_asam(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            edition="5",
            ratings={"1": 5, "2": "1", "3": 0, "4": 0, "5": 0, "7": 1},
        )
    assert {"edition", "1", "2", "6", "7"} <= set(refused.value.message_dict)
    assert not AsamAssessment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["medical", "case_manager", "peer_support", "admin"])
def test_only_clinicians_do_asam_assessments(clinic, persona):
    with pytest.raises(PermissionError):
        services.assess_asam(
            actor=clinic.persona(persona), patient=clinic.patient, edition="3", ratings=ALL_MODERATE
        )


def test_every_definitions_version_and_band_fit_the_stored_columns():
    from patients.instruments import list_definitions
    from patients.models import InstrumentResponse

    version_length = InstrumentResponse._meta.get_field("instrument_version").max_length
    band_length = InstrumentResponse._meta.get_field("band").max_length
    for definition in list_definitions(licence_confirmed=True):
        assert len(definition.version) <= version_length, definition.code
        for band in definition.bands or ():
            assert len(band.name) <= band_length, (definition.code, band.name)


# --- CIWA-Ar bands: this installation's protocol ------------------------------------------------

VA_STYLE = (Band("minimal/mild", 0, 7), Band("moderate", 8, 15), Band("severe", 16, 67))
CIWA_TOTAL_8 = {**{str(n): 1 for n in range(1, 9)}, "9": 0, "10": 0}


@pytest.mark.django_db
def test_saving_a_ciwa_ar_uses_the_configured_bands(clinic, settings):
    default = services.administer_instrument(
        actor=clinic.medical, patient=clinic.patient, code="ciwa-ar", answers=CIWA_TOTAL_8
    )
    assert (default.total, default.band, default.flags) == (8, "mild", [])
    assert not ClinicalAlert.objects.exists()
    settings.CIWA_AR_BANDS = VA_STYLE
    configured = services.administer_instrument(
        actor=clinic.medical, patient=clinic.patient, code="ciwa-ar", answers=CIWA_TOTAL_8
    )
    assert (configured.total, configured.band) == (8, "moderate")
    assert configured.flags == ["withdrawal_management_before_iop"]
    alert = ClinicalAlert.objects.get()
    assert alert.kind == "withdrawal_management_before_iop" and "CIWA-Ar moderate" in alert.message


def test_score_for_installation_is_the_one_place_that_applies_the_configuration(settings):
    settings.CIWA_AR_BANDS = VA_STYLE
    assert services.score_for_installation("ciwa-ar", CIWA_TOTAL_8).band == "moderate"
    assert services.score_for_installation("phq-9", PHQ9_SEVERE).band == "severe"  # published bands
    female = services.score_for_installation("audit-c", {"1": 1, "2": 1, "3": 1}, sex="female")
    assert female.band == "positive"
    settings.CIWA_AR_BANDS = "mild:0-9,moderate:10-18,severe:19-67"  # a string works too
    assert services.score_for_installation("ciwa-ar", CIWA_TOTAL_8).band == "mild"


def test_the_default_ciwa_ar_bands_are_the_asam_2020_ones(settings):
    from django.conf import settings as django_settings

    assert tuple(django_settings.CIWA_AR_BANDS) == CIWA_AR_DEFAULT_BANDS
    assert [(b.name, b.low, b.high) for b in CIWA_AR_DEFAULT_BANDS] == [
        ("mild", 0, 9),
        ("moderate", 10, 18),
        ("severe", 19, 67),
    ]


def settings_with(env: dict) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with `env` added (the start-up check)."""
    code = "import iop.settings as s; print([(b.name, b.low, b.high) for b in s.CIWA_AR_BANDS])"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_ciwa_ar_bands_setting_is_read_from_the_environment():
    done = settings_with({"CIWA_AR_BANDS": "minimal/mild:0-7, moderate:8-15, severe:16-67"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('minimal/mild', 0, 7), ('moderate', 8, 15), ('severe', 16, 67)]"


@pytest.mark.parametrize(
    "value, words",
    [
        ("mild:0-9,moderate:11-18,severe:19-67", "starts at 11; expected 10"),
        ("mild:0-9,moderate:10-18", "expected 67"),
        ("low:0-9,medium:10-18,high:19-67", "needs a band named 'moderate'"),
        ("mild=0-9", "not written as name:low-high"),
    ],
)
def test_a_wrong_ciwa_ar_bands_setting_stops_the_start_with_a_clear_message(value, words):
    done = settings_with({"CIWA_AR_BANDS": value})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "CIWA_AR_BANDS" in done.stderr
    assert words in done.stderr and "mild:0-9,moderate:10-18,severe:19-67" in done.stderr


# --- readmission: results belong to the open referral -------------------------------------------


def close(referral: Referral) -> None:
    referral.status, referral.outcome = ReferralStatus.CLOSED, "admitted"
    referral.save(update_fields=["status", "outcome"])


@pytest.mark.django_db
def test_a_readmissions_intake_is_judged_on_its_own_screening(clinic):
    old_referral = open_referral(clinic)
    old_asam = services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ALL_MODERATE
    )
    old_cage = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="cage", answers=CAGE_NO
    )
    assert old_asam.referral == old_referral and old_cage.referral == old_referral
    close(old_referral)
    new_referral = open_referral(clinic)  # the patient comes back

    card = selectors.intake_card_context(clinic.patient)
    assert card["screening_referral"] == new_referral
    assert card["asam_latest"] == old_asam and card["asam_count"] == 1  # the history
    assert card["referral_asam"] is None and card["referral_instrument_count"] == 0  # this intake
    assert [result["before_referral"] for result in card["screening_results"]] == [True]
    assert selectors.referral_asam(new_referral) is None
    assert selectors.referral_asam(old_referral) == old_asam

    new_asam = services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="4", ratings=ALL_MODERATE
    )
    new_phq = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_SEVERE
    )
    assert new_asam.referral == new_referral and new_phq.referral == new_referral
    card = selectors.intake_card_context(clinic.patient)
    assert card["referral_asam"] == new_asam == card["asam_latest"]
    assert card["referral_instrument_count"] == 1 and card["asam_count"] == 2
    assert {result["code"]: result["before_referral"] for result in card["screening_results"]} == {
        "phq-9": False,
        "cage": True,
    }
    assert list(selectors.referral_instrument_responses(new_referral)) == [new_phq]
    assert selectors.referral_instrument_count(old_referral) == 1
    assert selectors.referral_instrument_count(None) == 0 and selectors.referral_asam(None) is None


@pytest.mark.django_db
def test_the_latest_assessment_of_an_older_referral_is_not_the_open_referrals(clinic):
    """The latest overall may belong to another referral while the open one has an older one."""
    referral = open_referral(clinic)
    for_referral = services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ALL_MODERATE
    )
    later = AsamAssessment.objects.create(  # e.g. recorded during the episode, with no referral
        patient=clinic.patient,
        edition="3",
        ratings=ALL_MODERATE,
        recommended_level="2.1",
        chosen_level="2.1",
        assessed_at=for_referral.assessed_at + datetime.timedelta(days=1),
        assessed_by=clinic.clinician_on_team,
    )
    card = selectors.intake_card_context(clinic.patient)
    assert card["asam_latest"] == later and card["referral_asam"] == for_referral
    assert card["screening_referral"] == referral


@pytest.mark.django_db
def test_without_an_open_referral_there_is_no_referral_screening(clinic):
    services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ALL_MODERATE
    )
    card = selectors.intake_card_context(clinic.patient)
    assert card["screening_referral"] is None and card["referral_asam"] is None
    assert card["referral_instrument_count"] == 0 and card["asam_latest"] is not None
