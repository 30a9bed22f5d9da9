"""Individual and family appointments: one-off or weekly, with a staff member, maybe a room and
family members; refused when the staff member, the room or the patient is busy then."""

import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from iop.accounts.models import Role, User
from iop.audit.models import AuditAction
from iop.core.concurrency import StaleEdit, save_if_unchanged
from patients.access import may_write_clinical, require_clinical_write
from patients.models import Episode, EpisodeStatus
from patients.services.auditing import audit_patient_change
from scheduling import conflicts, hours, permissions, selectors
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    AttendanceStatus,
    Enrolment,
    Occurrence,
    OccurrenceStatus,
    Room,
    SessionKind,
    SessionType,
)
from scheduling.services.attendance import _check_retention, minutes_for

STAFF_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL, Role.CASE_MANAGER})
MAX_REPEAT_WEEKS = 26


def _patient_clash(episode: Episode, starts_at: datetime, ends_at: datetime) -> str | None:
    """A group session or appointment of the patient's at that time."""
    day = starts_at.astimezone(episode.site.timezone).date()
    series = Enrolment.objects.filter(episode=episode).filter(selectors.enrolled_on(day)).values("series_id")
    group = (
        Occurrence.objects.filter(
            series_id__in=series,
            status=OccurrenceStatus.SCHEDULED,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .select_related("series")
        .first()
    )
    if group is not None:
        return f"the patient's group {group.series.name}"
    other = Appointment.objects.filter(
        episode=episode, status=AppointmentStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).first()
    return "another appointment of the patient's" if other else None


@transaction.atomic
def book_appointment(
    *,
    actor,
    episode: Episode,
    session_type: SessionType,
    staff: User,
    starts_at: datetime,
    minutes: int | None = None,
    room: Room | None = None,
    family_members: str = "",
    repeat_weeks: int = 0,
) -> list[Appointment]:
    """Book one appointment, or the same weekday and time for `repeat_weeks` more weeks; any
    clash refuses the whole booking (nothing half-booked)."""
    permissions.require(permissions.may_enrol(actor), "book appointments")
    episode = Episode.objects.select_for_update().select_related("patient", "site").get(pk=episode.pk)
    require_clinical_write(actor, episode.patient, allow_break_glass=False, what="book appointments")
    errors = {}
    if episode.status != EpisodeStatus.ACTIVE:
        errors["episode"] = "The episode is discharged."
    if session_type.kind == SessionKind.GROUP or not session_type.is_active:
        errors["session_type"] = "Choose an individual or family session type (groups are series)."
    if (
        staff.role not in STAFF_ROLES
        or not staff.is_active
        or not staff.sites.filter(pk=episode.site_id).exists()
    ):
        errors["staff"] = (
            "Choose an active clinician, case manager or medical staff member at the patient's site."
        )
    if room is not None and (room.site_id != episode.site_id or not room.is_active):
        errors["room"] = "Choose an active room at the patient's site."
    if timezone.is_naive(starts_at):
        errors["starts_at"] = "Give a time with its time zone."
    elif not hours.FIRST_DAY <= starts_at.date() <= hours.LAST_DAY:
        errors["starts_at"] = hours.OUT_OF_RANGE
    minutes = minutes or session_type.default_minutes
    if not 5 <= minutes <= 720:
        errors["minutes"] = "An appointment lasts 5 to 720 minutes."
    if not 0 <= repeat_weeks <= MAX_REPEAT_WEEKS:
        errors["repeat_weeks"] = f"Repeat for 0 to {MAX_REPEAT_WEEKS} more weeks."
    family_members = (family_members or "").strip()
    if family_members and session_type.kind != SessionKind.FAMILY:
        errors["family_members"] = "Family members attend family sessions only."
    if errors:
        raise ValidationError(errors)
    zone = episode.site.timezone
    local = starts_at.astimezone(zone)
    key = uuid.uuid4() if repeat_weeks else None
    booked = []
    for week in range(repeat_weeks + 1):
        wall = (local.replace(tzinfo=None) + timedelta(weeks=week)).replace(tzinfo=zone)  # same local time
        start = wall
        end = start + timedelta(minutes=minutes)
        if end.astimezone(zone).date() != start.astimezone(zone).date():
            raise ValidationError({"minutes": "An appointment must end on the day it starts."})
        clash = conflicts.busy_clashes(starts_at=start, ends_at=end, person_id=staff.pk)
        if clash:
            raise ValidationError(
                {"staff": f"{staff} is busy on {start.astimezone(zone):%a %b %d %H:%M} with {clash[0].what}."}
            )
        if room is not None:
            clash = conflicts.busy_clashes(starts_at=start, ends_at=end, room_id=room.pk)
            if clash:
                raise ValidationError(
                    {"room": f"{room.name} is in use on {start.astimezone(zone):%a %b %d %H:%M}."}
                )
        patient_clash = _patient_clash(episode, start, end)
        if patient_clash:
            raise ValidationError(
                {"starts_at": f"On {start.astimezone(zone):%a %b %d %H:%M} the patient has {patient_clash}."}
            )
        booked.append(
            Appointment(
                site_id=episode.site_id,
                session_type=session_type,
                staff=staff,
                room=room,
                episode=episode,
                starts_at=start,
                ends_at=end,
                local_date=start.astimezone(zone).date(),
                family_members=family_members,
                recurrence_key=key,
                created_by=actor,
            )
        )
    try:
        with transaction.atomic():
            Appointment.objects.bulk_create(booked)
    except IntegrityError as error:  # the exclusion constraints, under a race
        raise ValidationError(
            {"starts_at": "Someone booked that time a moment ago: choose another."}
        ) from error
    for appointment in booked:
        audit_patient_change(
            actor,
            AuditAction.CREATE,
            appointment,
            episode.patient,
            changed_fields=["session_type", "staff", "starts_at"],
        )
    return booked


def _is_its_staff(actor, appointment: Appointment) -> bool:
    """The appointment's staff member, while they work at its site (ADR 0010's own reach)."""
    return actor.pk == appointment.staff_id and permissions.works_at(actor, appointment.site_id)


@transaction.atomic
def cancel_appointment(
    *, actor, appointment: Appointment, expected_version: int | None, reason: str = ""
) -> Appointment:
    permissions.require(
        permissions.may_enrol(actor) or _is_its_staff(actor, appointment), "cancel appointments"
    )
    appointment = (
        Appointment.objects.select_for_update().select_related("episode__patient").get(pk=appointment.pk)
    )
    if not _is_its_staff(actor, appointment):
        require_clinical_write(
            actor, appointment.episode.patient, allow_break_glass=False, what="cancel appointments"
        )
    if appointment.status == AppointmentStatus.CANCELLED:
        raise ValidationError("This appointment is already cancelled.")
    if appointment.attendance.exists():
        raise ValidationError("Attendance is recorded for this appointment: it took place.")
    appointment.status = AppointmentStatus.CANCELLED
    save_if_unchanged(appointment, expected_version=expected_version, fields=["status"])
    audit_patient_change(
        actor,
        AuditAction.UPDATE,
        appointment,
        appointment.episode.patient,
        changed_fields=["status"],
        reason=(reason or "")[:200],
    )
    return appointment


@transaction.atomic
def record_appointment_attendance(
    *,
    actor,
    appointment: Appointment,
    status: str,
    minutes_attended: int | None = None,
    expected_version: int | None = None,
) -> Attendance:
    """The appointment's staff member (or the care team) records whether the patient came."""
    permissions.require(
        permissions.may_take_attendance(actor) or _is_its_staff(actor, appointment), "take attendance"
    )
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("episode__patient", "site", "session_type")
        .get(pk=appointment.pk)
    )
    patient = appointment.episode.patient
    if not _is_its_staff(actor, appointment) and not may_write_clinical(
        actor, patient, allow_break_glass=False
    ):
        raise PermissionError("You may not record attendance for this patient.")
    if appointment.status == AppointmentStatus.CANCELLED:
        raise ValidationError("This appointment was cancelled.")
    if appointment.local_date > timezone.localdate(timezone=appointment.site.timezone):
        raise ValidationError("This appointment has not happened yet.")
    minutes = minutes_for(appointment.minutes, status, minutes_attended)
    row = Attendance.objects.filter(appointment=appointment, episode=appointment.episode).first()
    if row is None:
        if expected_version is not None:
            raise StaleEdit()
        row = Attendance.objects.create(
            appointment=appointment,
            episode=appointment.episode,
            status=status,
            minutes_attended=minutes,
            session_minutes=appointment.minutes,
            local_date=appointment.local_date,
            counts_toward_clinical_hours=appointment.session_type.counts_toward_clinical_hours,
            recorded_by=actor,
        )
        audit_patient_change(
            actor, AuditAction.CREATE, row, patient, changed_fields=["status", "minutes_attended"]
        )
    else:
        if expected_version is None:
            raise StaleEdit()
        row.status, row.minutes_attended, row.recorded_by = status, minutes, actor
        save_if_unchanged(
            row, expected_version=expected_version, fields=["status", "minutes_attended", "recorded_by"]
        )
        audit_patient_change(
            actor, AuditAction.UPDATE, row, patient, changed_fields=["status", "minutes_attended"]
        )
    if status == AttendanceStatus.ABSENT:
        _check_retention(actor, appointment.episode)
    return row
