"""Business events: the patient's weekly availability windows (work, school, family).

A window is a weekly time the patient is NOT available; the schedule builder fits sessions
around them. Clinicians and case managers (who build schedules) add, change and remove them.
They are scheduling preferences rather than clinical records, so removing one deletes the row;
the audit entry names the window removed (its id) and its fields, never their values or the
note (free text stays out of the permanent audit trail).

Only someone who reaches the patient through their care team (or intake) at the site holding
the record changes them: not through another site or break-the-glass
(`patients.access.require_clinical_write`).

A window is a `VersionedRecord`: an edit carries the version it started from and is refused
(`StaleEdit`) if the row changed since (`iop.core.concurrency.save_if_unchanged`).
"""

from collections.abc import Mapping
from datetime import time

from django.core.exceptions import ValidationError
from django.db import transaction

from iop.accounts.models import WEEKDAY_NAMES, Role
from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from iop.core.concurrency import save_if_unchanged
from patients.access import require_clinical_write
from patients.models import AvailabilityKind, AvailabilityWindow, Patient
from patients.services.auditing import audit_patient_change

AVAILABILITY_ROLES = frozenset({Role.CLINICIAN, Role.CASE_MANAGER})
WINDOW_FIELDS = ("kind", "weekday", "starts_at", "ends_at", "note")


def may_edit_availability(user) -> bool:
    """Clinicians and case managers (who build schedules) keep the availability windows."""
    return user.is_authenticated and (user.is_superuser or user.role in AVAILABILITY_ROLES)


def _describe(window: AvailabilityWindow) -> str:
    return (
        f"{AvailabilityKind(window.kind).label} {WEEKDAY_NAMES.get(window.weekday, window.weekday)} "
        f"{window.starts_at:%H:%M}-{window.ends_at:%H:%M}"
    )


def _validate(patient: Patient, values: Mapping[str, object], *, exclude_pk: int | None = None) -> None:
    errors = {}
    if values["kind"] not in AvailabilityKind.values:
        errors["kind"] = f"Choose one of {', '.join(AvailabilityKind.values)}."
    weekday = values["weekday"]
    if not isinstance(weekday, int) or not 1 <= weekday <= 7:
        errors["weekday"] = "Weekday is 1 (Monday) to 7 (Sunday)."
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    if not isinstance(starts_at, time):
        errors["starts_at"] = "Give a start time."
    if not isinstance(ends_at, time):
        errors["ends_at"] = "Give an end time."
    elif isinstance(starts_at, time) and ends_at <= starts_at:
        errors["ends_at"] = (
            "The end time must be after the start time (split a window that runs past midnight)."
        )
    if len(str(values.get("note") or "")) > 120:
        errors["note"] = "Keep the note to 120 characters."
    if errors:
        raise ValidationError(errors)
    overlapping = AvailabilityWindow.objects.filter(
        patient=patient, weekday=weekday, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    clash = overlapping.order_by("starts_at").first()
    if clash is not None:
        raise ValidationError(
            {
                "starts_at": f"This overlaps the patient's {_describe(clash)} window. "
                "Change that window instead, or choose times that do not overlap."
            }
        )


def _lock_patient(actor, patient: Patient) -> Patient:
    """Serialize writes to one patient's windows, so the overlap check is race-free; refuse
    (PermissionError) a writer who may not change this patient's record."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    require_clinical_write(actor, patient, allow_break_glass=False, what="change availability windows")
    return patient


@transaction.atomic
def add_availability_window(
    *,
    actor,
    patient: Patient,
    kind: str,
    weekday: int,
    starts_at: time,
    ends_at: time,
    note: str = "",
) -> AvailabilityWindow:
    """Record a weekly time the patient cannot attend; refuses one overlapping another that day."""
    require_role(actor, AVAILABILITY_ROLES, "change availability windows")
    values = {"kind": kind, "weekday": weekday, "starts_at": starts_at, "ends_at": ends_at, "note": note}
    _lock_patient(actor, patient)
    _validate(patient, values)
    window = AvailabilityWindow.objects.create(
        patient=patient,
        kind=kind,
        weekday=weekday,
        starts_at=starts_at,
        ends_at=ends_at,
        note=(note or "").strip(),
    )
    audit_patient_change(actor, AuditAction.CREATE, window, patient, changed_fields=WINDOW_FIELDS)
    return window


@transaction.atomic
def update_availability_window(
    *,
    actor,
    window: AvailabilityWindow,
    expected_version: int | None,
    changes: Mapping[str, object],
) -> AvailabilityWindow:
    """Change a window; refuses (StaleEdit) if someone saved it since `expected_version`."""
    require_role(actor, AVAILABILITY_ROLES, "change availability windows")
    unknown = set(changes) - set(WINDOW_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    patient = _lock_patient(actor, window.patient)
    values = {name: changes.get(name, getattr(window, name)) for name in WINDOW_FIELDS}
    values["note"] = str(values["note"] or "").strip()
    _validate(patient, values, exclude_pk=window.pk)
    changed = [name for name in WINDOW_FIELDS if getattr(window, name) != values[name]]
    for name in changed:
        setattr(window, name, values[name])
    if changed:
        save_if_unchanged(window, expected_version=expected_version, fields=changed)
        audit_patient_change(actor, AuditAction.UPDATE, window, patient, changed_fields=changed)
    return window


@transaction.atomic
def remove_availability_window(*, actor, window: AvailabilityWindow) -> None:
    """Delete a window (a scheduling preference, not a clinical record); audited by id and fields."""
    require_role(actor, AVAILABILITY_ROLES, "change availability windows")
    patient = _lock_patient(actor, window.patient)
    deleted, _ = AvailabilityWindow.objects.filter(pk=window.pk).delete()
    if not deleted:
        raise ValidationError("This window was already removed.")
    # The row is gone: the audit entry names it and its fields (no values, no free text).
    audit_patient_change(actor, AuditAction.DELETE, window, patient, changed_fields=WINDOW_FIELDS)
