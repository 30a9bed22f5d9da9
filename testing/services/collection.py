"""Business events after the draw: orders other than random, collection, results, amendments
and the clinical response (issue 9 items 6-9; ADR 0011).

Every write needs a place on the patient's care team (or a whole-site role) at the site holding
the record (`patients.access.require_clinical_write`), plus the role rule of the write.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from iop.accounts.models import Role
from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from patients.access import require_clinical_write
from patients.models import AlertSeverity, CareTeamMember, CareTeamRole, Medication, Patient
from patients.services.auditing import audit_patient_change
from patients.services.records import raise_alert, resolve_alert
from testing import expected_results, validity
from testing.models import (
    Analyte,
    AnalyteResult,
    CollectionOutcome,
    Consequence,
    DrawSelection,
    DrugTestOrder,
    OrderKind,
    OrderStatus,
    ResponseAction,
    ResultOutcome,
    ResultReview,
    ResultStage,
    ReviewTrigger,
    SelectionStatus,
    Specimen,
    SpecimenType,
    TestingPolicy,
)

ORDER_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL})
COLLECTION_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL, Role.CASE_MANAGER, Role.ADMIN})
RESULT_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL})
FINALISE_ROLES = frozenset({Role.CLINICIAN})
REVIEW_ROLES = frozenset({Role.CLINICIAN})
ALERT_KIND = "drug_test"

OUTCOME_TO_ORDER = {
    CollectionOutcome.COLLECTED: OrderStatus.COLLECTED,
    CollectionOutcome.REFUSED: OrderStatus.REFUSED,
    CollectionOutcome.NO_SHOW: OrderStatus.NO_SHOW,
    CollectionOutcome.UNABLE: OrderStatus.UNABLE,
}


def thresholds() -> validity.Thresholds:
    return validity.Thresholds.from_settings(settings.TESTING_VALIDITY_THRESHOLDS)


def policy_for(order: DrugTestOrder) -> TestingPolicy | None:
    phase_id = order.episode.current_phase_id if order.episode_id else None
    return TestingPolicy.objects.filter(phase_id=phase_id).first() if phase_id else None


# --- Orders ----------------------------------------------------------------------------------


@transaction.atomic
def order_test(
    *,
    actor,
    patient: Patient,
    kind: str,
    due_on: date,
    reason: str = "",
    specimen_type: str = SpecimenType.URINE,
    observed_required: bool = False,
) -> DrugTestOrder:
    """A for-cause (with its reason), admission-baseline or scheduled test. Random tests come
    only from the draw."""
    require_role(actor, ORDER_ROLES, "order drug tests")
    require_clinical_write(actor, patient, allow_break_glass=False, what="order a drug test")
    reason = (reason or "").strip()
    errors = {}
    if kind not in {OrderKind.FOR_CAUSE, OrderKind.ADMISSION_BASELINE, OrderKind.SCHEDULED}:
        errors["kind"] = "Random tests come from the daily draw; choose for cause, baseline or scheduled."
    if kind == OrderKind.FOR_CAUSE and not reason:
        errors["reason"] = "Give the reason for a for-cause test."
    if specimen_type not in SpecimenType.values:
        errors["specimen_type"] = "Choose a specimen type."
    if patient.current_episode_id is None and kind != OrderKind.ADMISSION_BASELINE:
        errors["kind"] = "The patient has no open episode: only an admission baseline can be ordered."
    if errors:
        raise ValidationError(errors)
    episode = patient.current_episode
    policy = TestingPolicy.objects.filter(phase_id=episode.current_phase_id).first() if episode else None
    order = DrugTestOrder.objects.create(
        patient=patient,
        episode=episode,
        site=episode.site if episode else patient.site,
        kind=kind,
        reason=reason,
        due_on=due_on,
        panel=policy.panel if policy else None,
        specimen_type=specimen_type,
        observed_required=observed_required or bool(policy and policy.observed_collection),
        ordered_by=actor,
    )
    audit_patient_change(
        actor, AuditAction.CREATE, order, patient, changed_fields=["kind", "reason", "due_on"]
    )
    return order


# --- Collection ------------------------------------------------------------------------------


def _decimal(value, name: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = "Enter a number."
        return None
    if not number.is_finite() or number < 0:
        errors[name] = "Enter a number of zero or more."
        return None
    return number


@transaction.atomic
def record_collection(
    *,
    actor,
    order: DrugTestOrder,
    outcome: str,
    collected_at: datetime | None = None,
    specimen_type: str = "",
    observed: bool = False,
    temperature_c=None,
    chain_of_custody_number: str = "",
    creatinine=None,
    specific_gravity=None,
    ph=None,
    nitrite=None,
    foreign_substance: bool = False,
    self_report: str = "",
    note: str = "",
) -> Specimen:
    """Record one collection attempt: collected (with validity), refused, no-show or unable.

    A temperature out of range keeps the order open for an observed recollection. A refusal or
    no-show counts as the policy says; a substituted or adulterated specimen is presumptively
    positive. Each of those opens a review for the primary clinician.
    """
    require_role(actor, COLLECTION_ROLES, "record drug test collections")
    order = (
        DrugTestOrder.objects.select_for_update(of=("self",))
        .select_related("patient", "episode")
        .get(pk=order.pk)
    )
    patient = order.patient
    require_clinical_write(actor, patient, allow_break_glass=False, what="record a collection")
    errors: dict[str, str] = {}
    if order.status != OrderStatus.OPEN:
        errors["__all__"] = f"This order is already {order.get_status_display().lower()}."
    if outcome not in CollectionOutcome.values:
        errors["outcome"] = "Choose what happened."
    specimen_type = specimen_type or order.specimen_type
    if specimen_type not in SpecimenType.values:
        errors["specimen_type"] = "Choose a specimen type."
    collected_at = collected_at or timezone.now()
    if collected_at > timezone.now() + timedelta(minutes=5):
        errors["collected_at"] = "A collection cannot be in the future."
    numbers = {
        name: _decimal(value, name, errors)
        for name, value in {
            "temperature_c": temperature_c,
            "creatinine": creatinine,
            "specific_gravity": specific_gravity,
            "ph": ph,
            "nitrite": nitrite,
        }.items()
    }
    if numbers["ph"] is not None and numbers["ph"] > 14:
        errors["ph"] = "pH runs from 0 to 14."
    chain_of_custody_number = (chain_of_custody_number or "").strip()
    if (
        chain_of_custody_number
        and Specimen.objects.filter(chain_of_custody_number=chain_of_custody_number).exists()
    ):
        errors["chain_of_custody_number"] = "This chain-of-custody number is already used."
    if outcome == CollectionOutcome.COLLECTED and order.observed_required and not observed:
        errors["observed"] = "This collection must be observed."
    if errors:
        raise ValidationError(errors)

    collected = outcome == CollectionOutcome.COLLECTED
    classification = validity.classify(
        validity.Measures(
            creatinine=numbers["creatinine"],
            specific_gravity=numbers["specific_gravity"],
            ph=numbers["ph"],
            nitrite=numbers["nitrite"],
            foreign_substance=bool(foreign_substance),
        ),
        thresholds(),
    )
    in_range = (
        validity.temperature_in_range(numbers["temperature_c"], thresholds())
        if collected and numbers["temperature_c"] is not None
        else None
    )
    policy = policy_for(order)
    counts_as_positive = False
    if outcome == CollectionOutcome.REFUSED:
        counts_as_positive = (
            policy.refusal_counts_as if policy else Consequence.POSITIVE
        ) == Consequence.POSITIVE
    elif outcome == CollectionOutcome.NO_SHOW:
        counts_as_positive = (
            policy.no_show_counts_as if policy else Consequence.POSITIVE
        ) == Consequence.POSITIVE
    elif collected and classification.tampered:
        counts_as_positive = True
    specimen = Specimen.objects.create(
        order=order,
        patient=patient,
        outcome=outcome,
        counts_as_positive=counts_as_positive,
        collector=actor,
        collected_at=collected_at,
        specimen_type=specimen_type,
        observed=bool(observed),
        temperature_c=numbers["temperature_c"] if collected else None,
        temperature_in_range=in_range,
        chain_of_custody_number=chain_of_custody_number,
        self_report=(self_report or "").strip(),
        creatinine=numbers["creatinine"] if collected else None,
        specific_gravity=numbers["specific_gravity"] if collected else None,
        ph=numbers["ph"] if collected else None,
        nitrite=numbers["nitrite"] if collected else None,
        foreign_substance=bool(foreign_substance) if collected else False,
        validity=classification.validity.value if collected else validity.Validity.NOT_ASSESSED.value,
        validity_findings=list(classification.findings) if collected else [],
        note=(note or "").strip(),
    )
    audit_patient_change(
        actor, AuditAction.CREATE, specimen, patient, changed_fields=["outcome", "validity", "collected_at"]
    )
    if collected and in_range is False:
        # Out of range: recollect under observation; the order stays open.
        DrugTestOrder.objects.filter(pk=order.pk).update(observed_required=True, version=order.version + 1)
    else:
        DrugTestOrder.objects.filter(pk=order.pk).update(
            status=OUTCOME_TO_ORDER[outcome], version=order.version + 1
        )
        if order.selection_id:
            DrawSelection.objects.filter(pk=order.selection_id).update(
                status=SelectionStatus.COLLECTED if collected else SelectionStatus.NOT_COLLECTED
            )
    audit_patient_change(actor, AuditAction.UPDATE, order, patient, changed_fields=["status"])
    trigger = {
        CollectionOutcome.REFUSED: ReviewTrigger.REFUSAL,
        CollectionOutcome.NO_SHOW: ReviewTrigger.NO_SHOW,
    }.get(outcome)
    if collected and classification.tampered:
        trigger = ReviewTrigger.TAMPERED
    if trigger:
        open_review(actor=actor, specimen=specimen, trigger=trigger)
    return specimen


# --- Results ---------------------------------------------------------------------------------


def _prescriptions(patient: Patient) -> list[expected_results.Prescription]:
    return [
        expected_results.Prescription(m.name, m.medication_class, m.started_on, m.stopped_on)
        for m in Medication.objects.filter(patient=patient)
    ]


def _expected(analyte: Analyte, outcome: str, specimen: Specimen) -> expected_results.Explanation:
    if outcome != ResultOutcome.POSITIVE:
        return expected_results.Explanation(False)
    return expected_results.explain_positive(
        explained_by=analyte.explained_by or [],
        collected_on=timezone.localdate(specimen.collected_at),
        prescriptions=_prescriptions(specimen.patient),
        window_days=analyte.detection_window_days,
    )


def _clean_result(*, analyte, stage, device_or_assay, cutoff, value, outcome, errors) -> tuple:
    if stage not in ResultStage.values:
        errors["stage"] = "Choose screen or confirmation."
    if outcome not in ResultOutcome.values:
        errors["outcome"] = "Choose positive, negative or invalid."
    if not (device_or_assay or "").strip():
        errors["device_or_assay"] = "Name the device or assay (cutoffs differ between them)."
    cutoff_value = _decimal(cutoff, "cutoff", errors)
    if cutoff_value is None and "cutoff" not in errors:
        cutoff_value = (
            analyte.confirmation_cutoff if stage == ResultStage.CONFIRMATION else analyte.screen_cutoff
        )
        if cutoff_value is None:
            errors["cutoff"] = "Give the cutoff."
    return cutoff_value, _decimal(value, "value", errors)


@transaction.atomic
def record_result(
    *,
    actor,
    specimen: Specimen,
    analyte: Analyte,
    stage: str,
    device_or_assay: str,
    outcome: str,
    cutoff=None,
    value=None,
    lot: str = "",
    unit: str = "",
) -> AnalyteResult:
    """Enter one analyte's screen or confirmation result (not final until a clinician finalises)."""
    require_role(actor, RESULT_ROLES, "enter drug test results")
    require_clinical_write(actor, specimen.patient, allow_break_glass=False, what="enter a drug test result")
    errors: dict[str, str] = {}
    if specimen.outcome != CollectionOutcome.COLLECTED:
        errors["__all__"] = "Results are entered only for a collected specimen."
    elif AnalyteResult.objects.filter(
        specimen=specimen, analyte=analyte, stage=stage, finalised_at__isnull=False
    ).exists():
        errors["__all__"] = "This analyte's result at this stage is final: amend it to correct it."
    cutoff_value, value_number = _clean_result(
        analyte=analyte,
        stage=stage,
        device_or_assay=device_or_assay,
        cutoff=cutoff,
        value=value,
        outcome=outcome,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    explanation = _expected(analyte, outcome, specimen)
    result = AnalyteResult.objects.create(
        specimen=specimen,
        analyte=analyte,
        stage=stage,
        device_or_assay=device_or_assay.strip(),
        lot=(lot or "").strip(),
        cutoff=cutoff_value,
        value=value_number,
        unit=unit or analyte.unit,
        outcome=outcome,
        expected=explanation.expected,
        expected_because=explanation.medication,
        entered_by=actor,
    )
    audit_patient_change(
        actor, AuditAction.CREATE, result, specimen.patient, changed_fields=["outcome", "stage"]
    )
    return result


@transaction.atomic
def finalise_results(*, actor, specimen: Specimen) -> list[AnalyteResult]:
    """A clinician finalises a specimen's entered results; they are immutable from then on.
    An unexpected positive opens a review for the primary clinician."""
    require_role(actor, FINALISE_ROLES, "finalise drug test results")
    require_clinical_write(
        actor, specimen.patient, allow_break_glass=False, what="finalise drug test results"
    )
    pending = list(
        AnalyteResult.objects.select_for_update()
        .filter(specimen=specimen, finalised_at__isnull=True)
        .order_by("pk")
    )
    if not pending:
        raise ValidationError("There are no results waiting to be finalised.")
    now = timezone.now()
    AnalyteResult.objects.filter(pk__in=[r.pk for r in pending]).update(finalised_at=now, finalised_by=actor)
    for result in pending:
        audit_patient_change(
            actor, AuditAction.UPDATE, result, specimen.patient, changed_fields=["finalised_at"]
        )
    if any(r.unexpected_positive for r in pending):
        open_review(actor=actor, specimen=specimen, trigger=ReviewTrigger.UNEXPECTED_POSITIVE)
    return list(AnalyteResult.objects.filter(pk__in=[r.pk for r in pending]))


@transaction.atomic
def amend_result(
    *,
    actor,
    result: AnalyteResult,
    outcome: str,
    reason: str,
    value=None,
    cutoff=None,
    device_or_assay: str = "",
) -> AnalyteResult:
    """Correct a finalised result: a new, finalised row that amends it; the original stays."""
    require_role(actor, FINALISE_ROLES, "amend drug test results")
    specimen = result.specimen
    require_clinical_write(actor, specimen.patient, allow_break_glass=False, what="amend a drug test result")
    original = AnalyteResult.objects.select_for_update().get(pk=result.pk)
    errors: dict[str, str] = {}
    if original.finalised_at is None:
        errors["__all__"] = "Only a finalised result is amended; change the entry before finalising."
    if AnalyteResult.objects.filter(amends=original).exists():
        errors["__all__"] = "This result was already amended: amend the latest version."
    if not (reason or "").strip():
        errors["reason"] = "Give the reason for the correction."
    cutoff_value, value_number = _clean_result(
        analyte=original.analyte,
        stage=original.stage,
        device_or_assay=device_or_assay or original.device_or_assay,
        cutoff=original.cutoff if cutoff in (None, "") else cutoff,
        value=value,
        outcome=outcome,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    explanation = _expected(original.analyte, outcome, specimen)
    now = timezone.now()
    amended = AnalyteResult.objects.create(
        specimen=specimen,
        analyte=original.analyte,
        stage=original.stage,
        device_or_assay=(device_or_assay or original.device_or_assay).strip(),
        lot=original.lot,
        cutoff=cutoff_value,
        value=value_number,
        unit=original.unit,
        outcome=outcome,
        expected=explanation.expected,
        expected_because=explanation.medication,
        entered_by=actor,
        finalised_at=now,
        finalised_by=actor,
        amends=original,
        amendment_reason=reason.strip(),
    )
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        amended,
        specimen.patient,
        changed_fields=["outcome"],
        reason=reason.strip(),
    )
    if amended.unexpected_positive:
        open_review(actor=actor, specimen=specimen, trigger=ReviewTrigger.UNEXPECTED_POSITIVE)
    return amended


# --- Clinical response -----------------------------------------------------------------------


def primary_clinician(patient: Patient):
    member = (
        CareTeamMember.objects.filter(
            episode_id=patient.current_episode_id, role=CareTeamRole.PRIMARY_CLINICIAN, ended_on__isnull=True
        )
        .select_related("user")
        .first()
    )
    return member.user if member else None


ALERT_MESSAGES = {
    ReviewTrigger.UNEXPECTED_POSITIVE: "Drug test: unexpected positive result to review",
    ReviewTrigger.REFUSAL: "Drug test: refused collection to review",
    ReviewTrigger.NO_SHOW: "Drug test: missed collection to review",
    ReviewTrigger.TAMPERED: "Drug test: specimen failed validity (presumptive positive) to review",
}


@transaction.atomic
def open_review(*, actor, specimen: Specimen, trigger: str) -> ResultReview:
    """An alert for the primary clinician with a review task. One per specimen and trigger."""
    existing = ResultReview.objects.filter(specimen=specimen, trigger=trigger).first()
    if existing is not None:
        return existing
    alert = raise_alert(
        actor=actor,
        patient=specimen.patient,
        kind=ALERT_KIND,
        message=f"{ALERT_MESSAGES[trigger]} ({timezone.localdate(specimen.collected_at):%Y-%m-%d})",
        severity=AlertSeverity.HIGH if trigger == ReviewTrigger.TAMPERED else AlertSeverity.MEDIUM,
    )
    review = ResultReview.objects.create(
        patient=specimen.patient,
        specimen=specimen,
        trigger=trigger,
        alert=alert,
        assigned_to=primary_clinician(specimen.patient),
    )
    audit_patient_change(actor, AuditAction.CREATE, review, specimen.patient, changed_fields=["trigger"])
    return review


@transaction.atomic
def record_review(
    *,
    actor,
    review: ResultReview,
    actions: list[str],
    note: str = "",
    increased_tests_per_week=None,
    increased_until: date | None = None,
) -> ResultReview:
    """The clinician's response: supportive actions (discuss in session, more frequent testing
    for a period, plan review, consider a step up). Resolves the alert."""
    require_role(actor, REVIEW_ROLES, "review drug test results")
    require_clinical_write(actor, review.patient, allow_break_glass=False, what="review a drug test result")
    review = ResultReview.objects.select_for_update().get(pk=review.pk)
    errors: dict[str, str] = {}
    if review.reviewed_at is not None:
        errors["__all__"] = "This review was already recorded."
    actions = list(dict.fromkeys(actions or []))
    if not actions or any(action not in ResponseAction.values for action in actions):
        errors["actions"] = "Choose at least one response."
    rate = _decimal(increased_tests_per_week, "increased_tests_per_week", errors)
    if ResponseAction.INCREASE_TESTING in actions:
        if rate is None or rate <= 0 or rate > 7:
            errors["increased_tests_per_week"] = "Give the tests per week for the period (up to 7)."
        if increased_until is None or increased_until <= timezone.localdate():
            errors["increased_until"] = "Give the day the increase ends (after today)."
    else:
        rate, increased_until = None, None
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    ResultReview.objects.filter(pk=review.pk).update(
        reviewed_at=now,
        reviewed_by=actor,
        actions=actions,
        note=(note or "").strip(),
        increased_tests_per_week=rate,
        increased_until=increased_until,
        updated_at=now,
    )
    review.refresh_from_db()
    audit_patient_change(
        actor, AuditAction.UPDATE, review, review.patient, changed_fields=["actions", "note"]
    )
    if review.alert.resolved_at is None:
        resolve_alert(actor=actor, alert=review.alert)
    return review
