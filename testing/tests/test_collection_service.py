"""Orders, collection with validity, results, expected positives, finalising, amendments and
the clinical response."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import InternalError
from django.test import override_settings

from conftest import require_service
from iop.audit.models import AuditEntry
from patients.models import ClinicalAlert, Medication, MedicationClass
from testing.models import (
    AnalyteResult,
    CollectionOutcome,
    Consequence,
    OrderKind,
    OrderStatus,
    ResponseAction,
    ResultOutcome,
    ResultReview,
    ResultStage,
    ReviewTrigger,
    Validity,
)
from testing.services import collection
from testing.tests.factories import AnalyteFactory, PanelFactory, PolicyFactory


@pytest.fixture
def panel(clinic):
    panel = PanelFactory(name="12-panel cup")
    AnalyteFactory(
        panel=panel, code="bup", name="Buprenorphine", screen_cutoff=10, explained_by=["buprenorphine"]
    )
    AnalyteFactory(panel=panel, code="thc", name="THC", screen_cutoff=50, confirmation_cutoff=15)
    PolicyFactory(phase=clinic.episode.current_phase, panel=panel)
    return panel


@pytest.fixture
def order(clinic, panel):
    return collection.order_test(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind=OrderKind.FOR_CAUSE,
        reason="Appeared intoxicated in group",
        due_on=datetime.date.today(),
    )


def collect(clinic, order, **kwargs):
    values = {
        "outcome": CollectionOutcome.COLLECTED,
        "temperature_c": "35",
        "chain_of_custody_number": "COC-1",
    }
    return collection.record_collection(actor=clinic.medical, order=order, **(values | kwargs))


def analyte(panel, code):
    return panel.analytes.get(code=code)


def test_a_for_cause_order_needs_a_reason_and_a_clinician_on_the_team(clinic, panel):
    with pytest.raises(ValidationError, match="reason"):
        collection.order_test(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            kind=OrderKind.FOR_CAUSE,
            due_on=datetime.date.today(),
        )
    with pytest.raises(ValidationError, match="daily draw"):
        collection.order_test(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            kind=OrderKind.RANDOM,
            due_on=datetime.date.today(),
        )
    with pytest.raises(PermissionError):
        collection.order_test(
            actor=clinic.clinician_elsewhere,
            patient=clinic.patient,
            kind=OrderKind.SCHEDULED,
            due_on=datetime.date.today(),
        )
    with pytest.raises(PermissionError):
        collection.order_test(
            actor=clinic.peer_support,
            patient=clinic.patient,
            kind=OrderKind.SCHEDULED,
            due_on=datetime.date.today(),
        )


def test_a_valid_collection_closes_the_order_and_is_audited(clinic, order):
    specimen = collect(
        clinic, order, creatinine="80", specific_gravity="1.015", ph="6", nitrite="0", observed=True
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert specimen.validity == Validity.VALID and specimen.temperature_in_range
    assert not specimen.counts_as_positive
    assert AuditEntry.objects.filter(
        object_type="testing.specimen", patient_public_id=clinic.patient.public_id
    )
    assert not ResultReview.objects.exists()


def test_a_temperature_out_of_range_keeps_the_order_open_for_an_observed_recollection(clinic, order):
    first = collect(clinic, order, temperature_c="30")
    order.refresh_from_db()
    assert first.temperature_in_range is False
    assert order.status == OrderStatus.OPEN and order.observed_required
    with pytest.raises(ValidationError, match="observed"):
        collect(clinic, order, chain_of_custody_number="COC-2")
    collect(clinic, order, chain_of_custody_number="COC-2", observed=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED


def test_a_substituted_specimen_is_presumptively_positive_and_opens_a_review(clinic, order):
    specimen = collect(clinic, order, creatinine="1", specific_gravity="1.0005")
    assert specimen.validity == Validity.SUBSTITUTED and specimen.counts_as_positive
    review = ResultReview.objects.get(specimen=specimen)
    assert review.trigger == ReviewTrigger.TAMPERED
    assert review.assigned_to == clinic.clinician_on_team
    assert review.alert.patient == clinic.patient and review.alert.resolved_at is None


@override_settings(TESTING_VALIDITY_THRESHOLDS={"adulterated_ph_below": "5"})
def test_validity_uses_the_configured_thresholds(clinic, order):
    assert collect(clinic, order, ph="4.5").validity == Validity.ADULTERATED


def test_a_refusal_counts_as_the_policy_says_and_opens_a_review(clinic, order, panel):
    specimen = collect(clinic, order, outcome=CollectionOutcome.REFUSED, chain_of_custody_number="")
    assert specimen.counts_as_positive
    assert ResultReview.objects.get(specimen=specimen).trigger == ReviewTrigger.REFUSAL
    policy = clinic.episode.current_phase.testing_policy
    policy.no_show_counts_as = Consequence.MISSED
    policy.save()
    second = collection.order_test(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind=OrderKind.SCHEDULED,
        due_on=datetime.date.today(),
    )
    no_show = collect(clinic, second, outcome=CollectionOutcome.NO_SHOW, chain_of_custody_number="")
    assert not no_show.counts_as_positive
    assert ResultReview.objects.get(specimen=no_show).trigger == ReviewTrigger.NO_SHOW


def test_bad_collection_input_gets_messages_not_errors(clinic, order):
    with pytest.raises(ValidationError) as error:
        collect(clinic, order, outcome="lost", creatinine="lots", ph="15")
    assert set(error.value.message_dict) >= {"outcome", "creatinine", "ph"}
    collect(clinic, order)
    with pytest.raises(ValidationError, match="already collected"):
        collect(clinic, order, chain_of_custody_number="COC-9")


def test_a_positive_explained_by_a_prescription_is_expected_and_opens_no_review(clinic, order, panel):
    Medication.objects.create(
        patient=clinic.patient,
        name="Suboxone",
        medication_class=MedicationClass.BUPRENORPHINE,
        started_on=datetime.date.today() - datetime.timedelta(days=30),
    )
    specimen = collect(clinic, order)
    result = collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=analyte(panel, "bup"),
        stage=ResultStage.SCREEN,
        device_or_assay="Cup X",
        outcome=ResultOutcome.POSITIVE,
    )
    assert result.expected and result.expected_because == "Suboxone"
    assert result.cutoff == Decimal("10")
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    assert not ResultReview.objects.exists()


def test_an_unexpected_positive_opens_a_review_when_finalised(clinic, order, panel):
    specimen = collect(clinic, order)
    result = collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=analyte(panel, "thc"),
        stage=ResultStage.CONFIRMATION,
        device_or_assay="LC-MS/MS, Lab Y",
        value="40",
        outcome=ResultOutcome.POSITIVE,
    )
    assert not result.expected and result.cutoff == Decimal("15")
    assert not ResultReview.objects.exists()
    with pytest.raises(PermissionError):
        collection.finalise_results(actor=clinic.medical, specimen=specimen)  # a clinician finalises
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    review = ResultReview.objects.get(specimen=specimen)
    assert review.trigger == ReviewTrigger.UNEXPECTED_POSITIVE


def test_a_finalised_result_is_immutable_and_corrected_by_an_amendment(clinic, order, panel):
    specimen = collect(clinic, order)
    result = collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=analyte(panel, "thc"),
        stage=ResultStage.SCREEN,
        device_or_assay="Cup X",
        outcome=ResultOutcome.NEGATIVE,
    )
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    result.refresh_from_db()
    result.outcome = ResultOutcome.POSITIVE
    with pytest.raises(PermissionError):
        result.save()
    with pytest.raises(ValidationError, match="reason"):
        collection.amend_result(
            actor=clinic.clinician_on_team, result=result, outcome=ResultOutcome.POSITIVE, reason=""
        )
    amended = collection.amend_result(
        actor=clinic.clinician_on_team,
        result=result,
        outcome=ResultOutcome.POSITIVE,
        reason="Transcription error",
    )
    assert amended.amends_id == result.pk and amended.finalised_at is not None
    assert AnalyteResult.objects.get(pk=result.pk).outcome == ResultOutcome.NEGATIVE
    assert ResultReview.objects.get(specimen=specimen).trigger == ReviewTrigger.UNEXPECTED_POSITIVE
    with pytest.raises(ValidationError, match="already amended"):
        collection.amend_result(
            actor=clinic.clinician_on_team, result=result, outcome=ResultOutcome.NEGATIVE, reason="again"
        )


def test_the_review_records_a_supportive_response_and_resolves_the_alert(clinic, order):
    specimen = collect(clinic, order, outcome=CollectionOutcome.NO_SHOW, chain_of_custody_number="")
    review = ResultReview.objects.get(specimen=specimen)
    with pytest.raises(ValidationError) as error:
        collection.record_review(
            actor=clinic.clinician_on_team, review=review, actions=[ResponseAction.INCREASE_TESTING]
        )
    assert "increased_tests_per_week" in error.value.message_dict
    with pytest.raises(PermissionError):
        collection.record_review(
            actor=clinic.peer_support, review=review, actions=[ResponseAction.DISCUSS_IN_SESSION]
        )
    reviewed = collection.record_review(
        actor=clinic.clinician_on_team,
        review=review,
        actions=[ResponseAction.DISCUSS_IN_SESSION, ResponseAction.INCREASE_TESTING],
        note="Talked it through; car trouble.",
        increased_tests_per_week="3",
        increased_until=datetime.date.today() + datetime.timedelta(days=14),
    )
    assert reviewed.reviewed_by == clinic.clinician_on_team
    assert ClinicalAlert.objects.get(pk=review.alert_id).resolved_at is not None
    with pytest.raises(ValidationError, match="already"):
        collection.record_review(
            actor=clinic.clinician_on_team, review=review, actions=[ResponseAction.DISCUSS_IN_SESSION]
        )


def test_a_finalised_result_is_not_superseded_by_a_fresh_entry_for_the_same_analyte(clinic, order, panel):
    """A second entry for an analyte and stage already finalised would stand beside the final
    result with no reason and no link: the correction path is the amendment."""
    specimen = collect(clinic, order)
    entry = dict(analyte=analyte(panel, "thc"), stage=ResultStage.SCREEN, device_or_assay="Cup X")
    collection.record_result(actor=clinic.medical, specimen=specimen, outcome=ResultOutcome.POSITIVE, **entry)
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    with pytest.raises(ValidationError, match="amend"):
        collection.record_result(
            actor=clinic.medical, specimen=specimen, outcome=ResultOutcome.NEGATIVE, **entry
        )
    assert AnalyteResult.objects.filter(specimen=specimen).count() == 1
    confirmation = collection.record_result(  # another stage is a new result, not a correction
        actor=clinic.medical,
        specimen=specimen,
        analyte=entry["analyte"],
        stage=ResultStage.CONFIRMATION,
        device_or_assay="LC-MS/MS, Lab Y",
        value="40",
        outcome=ResultOutcome.POSITIVE,
    )
    assert confirmation.finalised_at is None


def test_the_database_refuses_to_change_or_delete_a_finalised_result_by_any_path(clinic, order, panel):
    """A bulk update or a delete skips `save()`: on PostgreSQL a trigger refuses both once the
    result is finalised (migration 0004); before that, entries can still be corrected."""

    require_service("PostgreSQL", connection.vendor == "postgresql", "the trigger exists on PostgreSQL only")
    specimen = collect(clinic, order)
    result = collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=analyte(panel, "thc"),
        stage=ResultStage.SCREEN,
        device_or_assay="Cup X",
        outcome=ResultOutcome.NEGATIVE,
    )
    AnalyteResult.objects.filter(pk=result.pk).update(lot="LOT-1")  # not final yet: allowed
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    for attempt in (
        lambda: AnalyteResult.objects.filter(pk=result.pk).update(outcome=ResultOutcome.POSITIVE),
        lambda: AnalyteResult.objects.filter(pk=result.pk).delete(),
    ):
        with pytest.raises(InternalError, match="never changed or deleted"), transaction.atomic():
            attempt()
    assert AnalyteResult.objects.get(pk=result.pk).outcome == ResultOutcome.NEGATIVE
