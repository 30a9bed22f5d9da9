"""Reminders, exactly once (issue 8, item 8; ADR 0010).

Each reminder is *claimed* before it is sent: a `Reminder` row is inserted in its own committed
transaction, and the unique constraints (occurrence, patient, kind) and (staff, day, kind) make
a second claim fail. A task run twice, or two workers racing, therefore send each reminder once;
a send that fails is marked failed and not retried automatically (a second message is worse
than none). The text carries no clinical detail (42 CFR Part 2): a time, a place and a number
to call; not the group's name.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from iop.audit.models import AuditAction
from patients.access import require_clinical_write
from patients.models import ContactChannel, Patient
from patients.services.auditing import audit_patient_change
from scheduling import permissions, selectors, sms
from scheduling.models import (
    Enrolment,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderChannel,
    ReminderKind,
    ReminderOptOut,
    ReminderStatus,
)

logger = logging.getLogger(__name__)
DEFAULT_LEAD_HOURS = 24


def lead_time() -> timedelta:
    return timedelta(hours=getattr(settings, "SCHEDULING_REMINDER_LEAD_HOURS", DEFAULT_LEAD_HOURS))


def channel_for(patient: Patient) -> str | None:
    """The patient's preferred channel where we can use it, else whichever contact exists."""
    if patient.preferred_contact_channel == ContactChannel.SMS and patient.phone:
        return ReminderChannel.SMS
    if patient.preferred_contact_channel == ContactChannel.EMAIL and patient.email:
        return ReminderChannel.EMAIL
    if patient.email:
        return ReminderChannel.EMAIL
    if patient.phone:
        return ReminderChannel.SMS
    return None


def reminder_text(occurrence: Occurrence) -> str:
    site = occurrence.series.site
    local = occurrence.starts_at.astimezone(site.timezone)
    place = site.name + (f", {site.address}" if site.address else "")
    call = f" Questions or cannot come? Call {site.phone}." if site.phone else ""
    return f"Reminder: your appointment at {place} is on {local:%a %b} {local.day} at {local:%H:%M}.{call}"


def _claim(**fields) -> Reminder | None:
    try:
        with transaction.atomic():
            return Reminder.objects.create(**fields)
    except IntegrityError:
        return None  # claimed already (an earlier run, or another worker right now)


def _finish(reminder: Reminder, ok: bool) -> None:
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.SENT if ok else ReminderStatus.FAILED, sent_at=timezone.now() if ok else None
    )


def send_session_reminders(*, now: datetime | None = None) -> int:
    """Remind every enrolled patient of the group sessions starting within the lead time.
    Not atomic on purpose: each claim commits before its message goes out. Returns how many
    were sent by this run."""
    now = now or timezone.now()
    occurrences = Occurrence.objects.filter(
        status=OccurrenceStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + lead_time()
    ).select_related("series__site")
    sent = 0
    for occurrence in occurrences:
        rows = Enrolment.objects.filter(series_id=occurrence.series_id).filter(
            selectors.enrolled_on(occurrence.local_date)
        )
        patients = Patient.objects.filter(
            current_episode__in=rows.values("episode_id"), current_episode__status="active"
        ).exclude(pk__in=ReminderOptOut.objects.values("patient_id"))
        text = reminder_text(occurrence)
        for patient in patients:
            channel = channel_for(patient)
            if channel is None:
                continue
            reminder = _claim(
                kind=ReminderKind.SESSION, channel=channel, occurrence=occurrence, patient=patient
            )
            if reminder is None:
                continue
            try:
                if channel == ReminderChannel.EMAIL:
                    send_mail("Appointment reminder", text, settings.DEFAULT_FROM_EMAIL, [patient.email])
                else:
                    sms.backend().send(str(patient.phone), text)
            except Exception:  # noqa: BLE001 - any provider error: mark failed, never resend
                logger.exception("Reminder %s failed", reminder.public_id)
                _finish(reminder, ok=False)
                continue
            _finish(reminder, ok=True)
            sent += 1
    return sent


def change_text(occurrence: Occurrence) -> str:
    site = occurrence.series.site
    local = occurrence.starts_at.astimezone(site.timezone)
    call = f" Questions? Call {site.phone}." if site.phone else ""
    if occurrence.is_cancelled:
        when = f"{local:%a %b} {local.day} at {local:%H:%M}"
        return f"Your appointment at {site.name} on {when} is cancelled.{call}"
    room = f", {occurrence.room.name}" if occurrence.room_id else ""
    return (
        f"Your appointment at {site.name} is now on {local:%a %b} {local.day} at {local:%H:%M}{room}.{call}"
    )


def notify_occurrence_change(*, occurrence_id: int) -> int:
    """Tell the patients enrolled in an occurrence that it was cancelled or moved: once per
    patient and version of the occurrence (a second change is a second notice). Returns how
    many were sent. Past sessions are not announced."""
    occurrence = Occurrence.objects.select_related("series__site", "room").filter(pk=occurrence_id).first()
    if occurrence is None or occurrence.starts_at <= timezone.now():
        return 0
    rows = Enrolment.objects.filter(series_id=occurrence.series_id).filter(
        selectors.enrolled_on(occurrence.local_date)
    )
    patients = Patient.objects.filter(
        current_episode__in=rows.values("episode_id"), current_episode__status="active"
    ).exclude(pk__in=ReminderOptOut.objects.values("patient_id"))
    text = change_text(occurrence)
    sent = 0
    for patient in patients:
        channel = channel_for(patient)
        if channel is None:
            continue
        reminder = _claim(
            kind=ReminderKind.CHANGE,
            channel=channel,
            occurrence=occurrence,
            patient=patient,
            occurrence_version=occurrence.version,
        )
        if reminder is None:
            continue
        try:
            if channel == ReminderChannel.EMAIL:
                send_mail("Appointment change", text, settings.DEFAULT_FROM_EMAIL, [patient.email])
            else:
                sms.backend().send(str(patient.phone), text)
        except Exception:  # noqa: BLE001 - any provider error: mark failed, never resend
            logger.exception("Change notice %s failed", reminder.public_id)
            _finish(reminder, ok=False)
            continue
        _finish(reminder, ok=True)
        sent += 1
    return sent


def send_staff_agendas(*, now: datetime | None = None) -> int:
    """Each facilitator's agenda for today (their sessions, times, rooms and roster sizes; no
    patient names), once per person and day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sessions = selectors.with_roster_counts(
        Occurrence.objects.filter(local_date=today, status=OccurrenceStatus.SCHEDULED).select_related(
            "series", "room", "facilitator"
        )
    ).order_by("facilitator_id", "starts_at")
    by_person: dict = {}
    for occurrence in sessions:
        by_person.setdefault(occurrence.facilitator, []).append(occurrence)
    sent = 0
    for person, mine in by_person.items():
        if not person.email:
            continue
        reminder = _claim(
            kind=ReminderKind.AGENDA, channel=ReminderChannel.EMAIL, staff=person, for_date=today
        )
        if reminder is None:
            continue
        lines = [
            f"{o.starts_at.astimezone(o.series.site.timezone):%H:%M} {o.series.name}, {o.room.name}: "
            f"{o.enrolled_count} enrolled"
            for o in mine
        ]
        try:
            send_mail(
                f"Your sessions today ({today:%a %b %d})",
                "\n".join(lines),
                settings.DEFAULT_FROM_EMAIL,
                [person.email],
            )
        except Exception:  # noqa: BLE001
            logger.exception("Agenda %s failed", reminder.public_id)
            _finish(reminder, ok=False)
            continue
        _finish(reminder, ok=True)
        sent += 1
    return sent


@transaction.atomic
def set_reminder_opt_out(*, actor, patient: Patient, opted_out: bool) -> None:
    """The patient asked (not) to get session reminders; recorded by their care team."""
    permissions.require(permissions.may_enrol(actor), "change reminder preferences")
    require_clinical_write(actor, patient, allow_break_glass=False, what="change reminder preferences")
    if opted_out:
        row, created = ReminderOptOut.objects.get_or_create(patient=patient, defaults={"recorded_by": actor})
        if created:
            audit_patient_change(actor, AuditAction.CREATE, row, patient, changed_fields=["reminder_opt_out"])
    else:
        row = ReminderOptOut.objects.filter(patient=patient).first()
        if row is not None:
            audit_patient_change(actor, AuditAction.DELETE, row, patient, changed_fields=["reminder_opt_out"])
            row.delete()
