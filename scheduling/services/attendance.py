"""Attendance: record one patient's status and minutes, or mark everyone not yet recorded
present in one step; every change audited in the patient's trail, every edit version-checked.
Two unexcused absences in a row (the program's policy) raise a retention alert."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from iop.audit.models import AuditAction
from iop.audit.services import record_events
from iop.core.concurrency import StaleEdit, save_if_unchanged
from patients.models import AlertSeverity, Episode
from patients.services import records as patient_services
from patients.services.auditing import audit_patient_change
from scheduling import hours, permissions, selectors
from scheduling.models import Attendance, AttendanceStatus, Enrolment, Occurrence
from scheduling.models.attendance import ATTENDED_STATUSES

RETENTION_ALERT_KIND = "retention"
RETENTION_ALERT_MESSAGE = "Missed group sessions in a row: follow up on attendance (retention)."


def _lock(occurrence: Occurrence) -> Occurrence:
    return (
        Occurrence.objects.select_for_update(of=("self",))
        .select_related("series__site", "series__session_type")
        .get(pk=occurrence.pk)
    )


def _check_occurrence(occurrence: Occurrence) -> None:
    if occurrence.is_cancelled:
        raise ValidationError("This session was cancelled: there is no attendance to take.")
    if occurrence.local_date > timezone.localdate(timezone=occurrence.series.site.timezone):
        raise ValidationError("This session has not happened yet: take attendance on the day.")


def _minutes(occurrence: Occurrence, status: str, minutes: int | None) -> int:
    return minutes_for(occurrence.minutes, status, minutes)


def minutes_for(length: int, status: str, minutes: int | None) -> int:
    """Minutes attended for a status: 0 when missed, the whole `length` by default, never more."""
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": f"Choose one of {', '.join(AttendanceStatus.values)}."})
    if status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
        if minutes:
            raise ValidationError({"minutes_attended": "An absent patient attended 0 minutes."})
        return 0
    if minutes is None:
        return length
    if minutes < 1:
        raise ValidationError({"minutes_attended": "A patient who attended was there at least 1 minute."})
    if minutes > length:
        raise ValidationError(
            {"minutes_attended": f"The session lasted {length} minutes: no more can be attended."}
        )
    return minutes


def _check_retention(actor, episode: Episode) -> None:
    policy = selectors.policy_for(episode.program_id)
    statuses = selectors.recent_statuses(episode, limit=max(20, policy.missed_in_a_row_alert * 3))
    if hours.needs_retention_alert(statuses, n=policy.missed_in_a_row_alert):
        patient_services.raise_alert(
            actor=actor,
            patient=episode.patient,
            kind=RETENTION_ALERT_KIND,
            message=RETENTION_ALERT_MESSAGE,
            severity=AlertSeverity.MEDIUM,
        )


@transaction.atomic
def record_attendance(
    *,
    actor,
    occurrence: Occurrence,
    episode: Episode,
    status: str,
    minutes_attended: int | None = None,
    expected_version: int | None = None,
) -> Attendance:
    """Record (or change, from `expected_version`) one patient's attendance at an occurrence.
    Minutes default to the session's length for present/late/left early and may not exceed it."""
    permissions.require(permissions.may_take_attendance(actor), "take attendance")
    occurrence = _lock(occurrence)
    _check_occurrence(occurrence)
    episode = Episode.objects.select_related("patient").get(pk=episode.pk)
    if not permissions.may_record_attendance_for(actor, occurrence, episode.patient):
        raise PermissionError(
            "You may not record attendance for this patient: facilitate the session or join their care team."
        )
    existing = Attendance.objects.filter(occurrence=occurrence, episode=episode).first()
    if (
        existing is None
        and not Enrolment.objects.filter(series_id=occurrence.series_id, episode=episode)
        .filter(selectors.enrolled_on(occurrence.local_date))
        .exists()
    ):
        raise ValidationError("The patient is not enrolled in this group on the session's day.")
    minutes = _minutes(occurrence, status, minutes_attended)
    if existing is None:
        if expected_version is not None:
            raise StaleEdit()
        try:
            with transaction.atomic():
                row = Attendance.objects.create(
                    occurrence=occurrence,
                    episode=episode,
                    status=status,
                    minutes_attended=minutes,
                    session_minutes=occurrence.minutes,
                    local_date=occurrence.local_date,
                    counts_toward_clinical_hours=occurrence.series.session_type.counts_toward_clinical_hours,
                    recorded_by=actor,
                )
        except IntegrityError as error:  # someone recorded this patient a moment ago
            raise StaleEdit() from error
        audit_patient_change(
            actor, AuditAction.CREATE, row, episode.patient, changed_fields=["status", "minutes_attended"]
        )
    else:
        if expected_version is None:
            raise StaleEdit()  # the page thought nothing was recorded yet
        row = existing
        changed = [
            name
            for name, value in (("status", status), ("minutes_attended", minutes))
            if getattr(row, name) != value
        ]
        row.status, row.minutes_attended, row.recorded_by = status, minutes, actor
        save_if_unchanged(
            row, expected_version=expected_version, fields=["status", "minutes_attended", "recorded_by"]
        )
        if changed:
            audit_patient_change(actor, AuditAction.UPDATE, row, episode.patient, changed_fields=changed)
    if status == AttendanceStatus.ABSENT:
        _check_retention(actor, episode)
    return row


@transaction.atomic
def mark_all_present(*, actor, occurrence: Occurrence) -> int:
    """Mark every enrolled patient without a record yet present for the whole session (one
    click; exceptions are then changed one by one). Patients already recorded are untouched.
    Returns how many were marked."""
    permissions.require(permissions.may_take_attendance(actor), "take attendance")
    occurrence = _lock(occurrence)
    _check_occurrence(occurrence)
    if not permissions.sees_whole_roster(actor, occurrence):
        raise PermissionError(
            "Only the session's facilitator (or a supervisor at the site) marks the whole group present."
        )
    rows = [row for row in selectors.roster(occurrence, actor) if row.attendance is None and row.enrolled]
    clinical = occurrence.series.session_type.counts_toward_clinical_hours
    new = [
        Attendance(
            occurrence=occurrence,
            episode=row.episode,
            status=AttendanceStatus.PRESENT,
            minutes_attended=occurrence.minutes,
            session_minutes=occurrence.minutes,
            local_date=occurrence.local_date,
            counts_toward_clinical_hours=clinical,
            recorded_by=actor,
        )
        for row in rows
    ]
    try:
        with transaction.atomic():
            created = Attendance.objects.bulk_create(new)
    except IntegrityError as error:  # someone recorded one of them meanwhile: reload and retry
        raise StaleEdit() from error
    record_events(
        actor=actor,
        action=AuditAction.CREATE,
        events=[
            {
                "object_type": Attendance._meta.label_lower,
                "object_id": row.public_id,
                "patient_public_id": roster_row.patient.public_id,
                "changed_fields": ["status", "minutes_attended"],
            }
            for row, roster_row in zip(created, rows, strict=True)
        ],
    )
    return len(created)


__all__ = ["ATTENDED_STATUSES", "mark_all_present", "record_attendance", "record_roster_read"]


def record_roster_read(*, actor, occurrence: Occurrence, rows) -> None:
    """A roster page names patients: one read entry per patient shown (one insert)."""
    record_events(
        actor=actor,
        action=AuditAction.READ,
        events=[
            {
                "object_type": Occurrence._meta.label_lower,
                "object_id": occurrence.public_id,
                "patient_public_id": row.patient.public_id,
                "reason": "roster",
            }
            for row in rows
        ],
    )
