"""Business events: the patient's prescribed medications.

The list explains expected drug-test results (a patient on buprenorphine is expected to test
positive for it). Medical staff and clinicians keep it. A medication is never deleted: it is
stopped (`stopped_on`), and stays in the record as a past medication.

Only someone who reaches the patient through their care team (or intake) at the site holding
the record changes the list: not through another site or break-the-glass
(`patients.access.require_clinical_write`).
"""

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from iop.accounts.models import Role
from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from iop.core.concurrency import save_if_unchanged
from patients.access import require_clinical_write
from patients.models import Medication, MedicationClass, Patient
from patients.services.auditing import audit_patient_change

MEDICATION_ROLES = frozenset({Role.MEDICAL, Role.CLINICIAN})
WRITE = "change the medication list"
MEDICATION_FIELDS = ("name", "medication_class", "dose", "prescriber", "started_on", "stopped_on")
TEXT_LIMITS = {"name": 120, "dose": 80, "prescriber": 120}


def may_edit_medications(user) -> bool:
    """Medical staff and clinicians keep the prescribed-medication list."""
    return user.is_authenticated and (user.is_superuser or user.role in MEDICATION_ROLES)


def _clean(values: Mapping[str, object]) -> dict:
    cleaned = dict(values)
    errors = {}
    for name, limit in TEXT_LIMITS.items():
        cleaned[name] = str(cleaned.get(name) or "").strip()
        if len(cleaned[name]) > limit:
            errors[name] = f"Keep this to {limit} characters."
    if not cleaned["name"]:
        errors["name"] = "Give the medication's name."
    if cleaned["medication_class"] not in MedicationClass.values:
        errors["medication_class"] = "Choose the class that a drug test would detect (or Other)."
    started_on, stopped_on = cleaned.get("started_on"), cleaned.get("stopped_on")
    if started_on and stopped_on and stopped_on < started_on:
        errors["stopped_on"] = "A medication cannot stop before it started."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def add_medication(
    *,
    actor,
    patient: Patient,
    name: str,
    medication_class: str,
    dose: str = "",
    prescriber: str = "",
    started_on: date | None = None,
    stopped_on: date | None = None,
) -> Medication:
    """Add a prescribed medication to the patient's list."""
    require_role(actor, MEDICATION_ROLES, WRITE)
    require_clinical_write(actor, patient, allow_break_glass=False, what=WRITE)
    values = _clean(
        {
            "name": name,
            "medication_class": medication_class,
            "dose": dose,
            "prescriber": prescriber,
            "started_on": started_on,
            "stopped_on": stopped_on,
        }
    )
    medication = Medication.objects.create(patient=patient, **values)
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        medication,
        patient,
        changed_fields=[name for name, value in values.items() if value],
    )
    return medication


@transaction.atomic
def update_medication(
    *,
    actor,
    medication: Medication,
    expected_version: int | None,
    changes: Mapping[str, object],
) -> Medication:
    """Correct a medication (dose, dates, ...); refuses (StaleEdit) if someone saved it since
    `expected_version`."""
    require_role(actor, MEDICATION_ROLES, WRITE)
    require_clinical_write(actor, medication.patient, allow_break_glass=False, what=WRITE)
    unknown = set(changes) - set(MEDICATION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    values = _clean({name: changes.get(name, getattr(medication, name)) for name in MEDICATION_FIELDS})
    changed = [name for name in MEDICATION_FIELDS if getattr(medication, name) != values[name]]
    for name in changed:
        setattr(medication, name, values[name])
    if changed:
        save_if_unchanged(medication, expected_version=expected_version, fields=changed)
        audit_patient_change(
            actor, AuditAction.UPDATE, medication, medication.patient, changed_fields=changed
        )
    return medication


@transaction.atomic
def stop_medication(*, actor, medication: Medication, stopped_on: date | None = None) -> Medication:
    """Record that the patient stopped a medication (default today). It moves to past medications.

    Compare-and-set on "not yet stopped"; it bumps the version, so an edit started before the
    stop is refused rather than silently clearing `stopped_on`.
    """
    require_role(actor, MEDICATION_ROLES, WRITE)
    require_clinical_write(actor, medication.patient, allow_break_glass=False, what=WRITE)
    stopped_on = stopped_on or timezone.localdate()
    if medication.started_on and stopped_on < medication.started_on:
        raise ValidationError({"stopped_on": "A medication cannot stop before it started."})
    updated = Medication.objects.filter(pk=medication.pk, stopped_on__isnull=True).update(
        stopped_on=stopped_on, updated_at=timezone.now(), version=F("version") + 1
    )
    if not updated:
        raise ValidationError("This medication was already stopped.")
    medication.refresh_from_db()
    audit_patient_change(
        actor, AuditAction.UPDATE, medication, medication.patient, changed_fields=["stopped_on"]
    )
    return medication
