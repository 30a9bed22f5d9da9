"""Structured self-report of last use: the patient's own account, one substance at a time, which
the derived sobriety date weighs with the confirmed results (`selectors.sobriety_date`)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from iop.accounts.models import Role
from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from patients.access import DataClass, require_clinical_write, require_data_class
from patients.models import Patient
from patients.services.auditing import audit_patient_change
from testing.models import SelfReportedUse, Substance

SELF_REPORT_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL})


@transaction.atomic
def record_self_report(
    *,
    actor,
    patient: Patient,
    substance: str,
    last_used_on: date | None,
    reported_on: date | None = None,
    reported_to=None,
    note: str = "",
) -> SelfReportedUse:
    """Record what the patient said about their last use of `substance`, on `reported_on`
    (default today) to `reported_to` (default the person recording it). Never edited: a later
    report is a new row."""
    require_role(actor, SELF_REPORT_ROLES, "record self-reported use")
    require_data_class(actor, DataClass.DRUG_TEST_RESULTS)
    require_clinical_write(actor, patient, allow_break_glass=False, what="record self-reported use")
    today = timezone.localdate()
    reported_on = reported_on or today
    reported_to = reported_to or actor
    errors: dict[str, str] = {}
    if substance not in Substance.values:
        errors["substance"] = "Choose a substance."
    if last_used_on is None:
        errors["last_used_on"] = "Give the date of last use the patient reported."
    elif last_used_on > reported_on:
        errors["last_used_on"] = "The last use cannot be after the day it was reported."
    if reported_on > today:
        errors["reported_on"] = "A report cannot be dated in the future."
    if not getattr(reported_to, "is_active", False):
        errors["reported_to"] = "Choose the staff member the patient told."
    if errors:
        raise ValidationError(errors)
    report = SelfReportedUse.objects.create(
        patient=patient,
        substance=substance,
        last_used_on=last_used_on,
        reported_on=reported_on,
        reported_to=reported_to,
        recorded_by=actor,
        note=(note or "").strip(),
    )
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        report,
        patient,
        changed_fields=["substance", "last_used_on", "reported_on"],
    )
    return report
