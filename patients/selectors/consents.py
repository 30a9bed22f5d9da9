"""Read queries: consents, availability windows and prescribed medications of one patient.

Callers pass a patient they got from `patients.access` (`get_visible_patient`), or patient ids
they scoped there: these functions do not decide who may see whom.

Used by other areas:
- admission: `has_active_treatment_consent(patient)`;
- disclosures and exports: `active_consents(patient)` (kind `part2_disclosure`);
- the schedule builder: `availability_of(patient)`, `availability_for_patients(patient_ids)`;
- drug-test expectations: `active_medications(patient, on=day)`,
  `active_medication_classes(patient_ids, on=day, lookback_days=...)`.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from iop.accounts.models import WEEKDAY_NAMES
from patients.models import AvailabilityWindow, Consent, ConsentKind, ConsentStatus, Medication, Patient

INTAKE_CARD_INACTIVE_CONSENTS = 10
INTAKE_CARD_PAST_MEDICATIONS = 10
WEEKDAYS = [(number, WEEKDAY_NAMES[number]) for number in range(1, 8)]


# --- Consents -----------------------------------------------------------------------------


def active_consent_q(day: date) -> Q:
    """Not revoked and not past its expiry date (a consent is active through `expires_on`).

    Same rule as `Consent.status_on`. An expiry *event* is recorded in words; the program decides
    when it happened and revokes the consent then.
    """
    return Q(revoked_at__isnull=True) & (Q(expires_on__isnull=True) | Q(expires_on__gte=day))


def consents_of(patient: Patient) -> QuerySet[Consent]:
    """Every consent of the patient, newest first, with the staff who witnessed or revoked it."""
    return Consent.objects.filter(patient=patient).select_related("witnessed_by", "revoked_by")


def active_consents(
    patient: Patient, *, on: date | None = None, kind: str | None = None
) -> QuerySet[Consent]:
    day = on or timezone.localdate()
    consents = consents_of(patient).filter(active_consent_q(day))
    return consents.filter(kind=kind) if kind else consents


def inactive_consents(patient: Patient, *, on: date | None = None) -> QuerySet[Consent]:
    """Expired or revoked consents: kept, shown as inactive."""
    return consents_of(patient).exclude(active_consent_q(on or timezone.localdate()))


def has_active_treatment_consent(patient: Patient, *, on: date | None = None) -> bool:
    """Whether the patient has signed a consent to treatment that is still in force (admission needs it)."""
    day = on or timezone.localdate()
    return (
        Consent.objects.filter(patient=patient, kind=ConsentKind.TREATMENT)
        .filter(active_consent_q(day))
        .exists()
    )


def get_consent(patient: Patient, consent_public_id) -> Consent | None:
    return consents_of(patient).filter(public_id=consent_public_id).first()


# --- Availability -------------------------------------------------------------------------


def availability_of(patient: Patient) -> QuerySet[AvailabilityWindow]:
    """The patient's weekly unavailable windows, Monday first, by start time."""
    return AvailabilityWindow.objects.filter(patient=patient).order_by("weekday", "starts_at", "id")


def availability_by_weekday(windows: Iterable[AvailabilityWindow]) -> list[tuple[int, str, list]]:
    """[(ISO weekday, "Mon", [windows that day])] for all seven days, for a weekly grid."""
    by_day: dict[int, list] = defaultdict(list)
    for window in windows:
        by_day[window.weekday].append(window)
    return [(number, name, by_day[number]) for number, name in WEEKDAYS]


def availability_for_patients(patient_ids: Iterable[int]) -> dict[int, list[AvailabilityWindow]]:
    """{patient id: [windows]} for many patients in one query (the schedule builder)."""
    result: dict[int, list[AvailabilityWindow]] = defaultdict(list)
    for window in AvailabilityWindow.objects.filter(patient_id__in=list(patient_ids)).order_by(
        "patient_id", "weekday", "starts_at"
    ):
        result[window.patient_id].append(window)
    return dict(result)


# --- Medications --------------------------------------------------------------------------


def _taken_between(first: date, last: date) -> Q:
    """Taken on some day in [first, last]: started by `last` (or undated) and not stopped before `first`.

    `stopped_on` is the last day the medication was taken.
    """
    return (Q(started_on__isnull=True) | Q(started_on__lte=last)) & (
        Q(stopped_on__isnull=True) | Q(stopped_on__gte=first)
    )


def medications_of(patient: Patient) -> QuerySet[Medication]:
    return Medication.objects.filter(patient=patient).order_by("name", "id")


def active_medications(
    patient: Patient, *, on: date | None = None, lookback_days: int = 0
) -> QuerySet[Medication]:
    """Medications the patient took on `on` (default today), or on any of the `lookback_days` before.

    A drug test collected on `on` may still detect a medication stopped a few days earlier: the
    drug-test area passes its detection window as `lookback_days`.
    """
    day = on or timezone.localdate()
    return medications_of(patient).filter(_taken_between(day - timedelta(days=lookback_days), day))


def current_medications(patient: Patient, *, on: date | None = None) -> QuerySet[Medication]:
    """Not stopped before `on` (default today): taken now, or prescribed to start later."""
    day = on or timezone.localdate()
    return medications_of(patient).filter(Q(stopped_on__isnull=True) | Q(stopped_on__gte=day))


def past_medications(patient: Patient, *, on: date | None = None) -> QuerySet[Medication]:
    """Stopped before `on` (default today), most recently stopped first."""
    day = on or timezone.localdate()
    return Medication.objects.filter(patient=patient, stopped_on__lt=day).order_by(
        "-stopped_on", "name", "id"
    )


def active_medication_classes(
    patient_ids: Iterable[int], *, on: date, lookback_days: int = 0
) -> dict[int, set[str]]:
    """{patient id: {medication classes}} taken around `on`, for many patients in one query."""
    result: dict[int, set[str]] = defaultdict(set)
    rows = Medication.objects.filter(
        _taken_between(on - timedelta(days=lookback_days), on), patient_id__in=list(patient_ids)
    ).values_list("patient_id", "medication_class")
    for patient_id, medication_class in rows:
        result[patient_id].add(medication_class)
    return dict(result)


# --- The chart's Intake tab ---------------------------------------------------------------


def intake_card_context(patient) -> dict:
    """What the chart's Intake tab shows for consents, availability and medications.

    Three queries: the consents (active, and the latest inactive ones and whether there are
    more), the availability windows, the medications (current, and recent past ones).
    """
    today = timezone.localdate()
    # One query each for consents and medications (a patient has tens, not thousands), split
    # here by the same rules as `active_consents`/`inactive_consents` (`Consent.status_on`) and
    # `current_medications`/`past_medications`.
    active, inactive = [], []
    for consent in consents_of(patient).order_by("-signed_at", "-id"):
        (active if consent.status_on(today) == ConsentStatus.ACTIVE else inactive).append(consent)
    current, past = [], []
    for medication in medications_of(patient):
        (past if medication.stopped_on is not None and medication.stopped_on < today else current).append(
            medication
        )
    past.sort(key=lambda medication: (medication.name, medication.pk))
    past.sort(key=lambda medication: medication.stopped_on, reverse=True)
    return {
        "consents_active": active,
        "consents_treatment_missing": not any(c.kind == ConsentKind.TREATMENT for c in active),
        "consents_inactive": inactive[:INTAKE_CARD_INACTIVE_CONSENTS],
        "consents_inactive_more": len(inactive) > INTAKE_CARD_INACTIVE_CONSENTS,
        "availability_week": availability_by_weekday(availability_of(patient)),
        "medications_current": current,
        "medications_past": past[:INTAKE_CARD_PAST_MEDICATIONS],
        "medications_past_more": len(past) > INTAKE_CARD_PAST_MEDICATIONS,
    }
