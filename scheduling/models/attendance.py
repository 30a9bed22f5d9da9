"""Attendance in minutes, the program's attendance policy, and reminders sent exactly once."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from iop.core.models import PublicRecord, VersionedRecord
from patients.models import Episode, Patient, Program
from scheduling.models.sessions import Appointment, Occurrence


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    LEFT_EARLY = "left_early", "Left early"
    ABSENT = "absent", "Absent"
    EXCUSED = "excused", "Excused"


ATTENDED_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY)
MISSED_STATUSES = (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)


class Attendance(VersionedRecord):
    """One patient at one occurrence (group) or appointment. `session_minutes` is the session's
    length when recorded, so "minutes attended never exceed the session" is a CHECK; the local
    date and whether the session counts toward clinical hours are copied for the weekly sums."""

    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.PROTECT, related_name="attendance"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="attendance"
    )
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=12, choices=AttendanceStatus.choices)
    minutes_attended = models.PositiveSmallIntegerField(default=0)
    session_minutes = models.PositiveSmallIntegerField()
    local_date = models.DateField()
    counts_toward_clinical_hours = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["local_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(occurrence__isnull=False) & Q(appointment__isnull=True))
                | (Q(occurrence__isnull=True) & Q(appointment__isnull=False)),
                name="attendance_at_one_session",
            ),
            models.UniqueConstraint(
                fields=["occurrence", "episode"],
                condition=Q(occurrence__isnull=False),
                name="attendance_once_per_occurrence",
            ),
            models.UniqueConstraint(
                fields=["appointment", "episode"],
                condition=Q(appointment__isnull=False),
                name="attendance_once_per_appointment",
            ),
            models.CheckConstraint(
                condition=Q(minutes_attended__lte=F("session_minutes")),
                name="attendance_minutes_within_session",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ATTENDED_STATUSES], minutes_attended__gt=0)
                | Q(status__in=[s.value for s in MISSED_STATUSES], minutes_attended=0),
                name="attendance_minutes_match_status",
            ),
        ]
        indexes = [models.Index(fields=["episode", "local_date"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.minutes_attended}/{self.session_minutes} min"


class AttendancePolicy(VersionedRecord):
    """A program's attendance rules (configuration, not code; CLINICAL.md section 1)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="attendance_policy")
    max_unexcused_absences = models.PositiveSmallIntegerField(default=6)
    absence_window_weeks = models.PositiveSmallIntegerField(default=12)
    excused_notice_hours = models.PositiveSmallIntegerField(
        default=48, help_text="An absence is excused only when announced this long before."
    )
    missed_in_a_row_alert = models.PositiveSmallIntegerField(
        default=2, help_text="Unexcused absences in a row that raise a retention alert."
    )
    billable_day_minutes = models.PositiveSmallIntegerField(
        default=180, help_text="Clinical minutes attended in a day for a billable day (H0015: 3 hours)."
    )

    class Meta:
        verbose_name_plural = "attendance policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    absence_window_weeks__gte=1, missed_in_a_row_alert__gte=1, billable_day_minutes__gte=1
                ),
                name="attendance_policy_positive",
            )
        ]

    def __str__(self) -> str:
        return f"Attendance policy of {self.program}"


class ReminderKind(models.TextChoices):
    SESSION = "session", "Session reminder (patient)"
    CHANGE = "change", "Session changed or cancelled (patient)"
    AGENDA = "agenda", "Daily agenda (staff)"


class ReminderChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class ReminderStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Reminder(PublicRecord):
    """A reminder claimed (inserted) before it is sent: the unique constraints make a second
    claim fail, so a task run twice or two racing workers send it once."""

    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    channel = models.CharField(max_length=10, choices=ReminderChannel.choices)
    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    for_date = models.DateField(null=True, blank=True, help_text="The agenda's day (staff agendas).")
    occurrence_version = models.PositiveIntegerField(
        default=0, help_text="Change notices: the occurrence's version they announce (0 otherwise)."
    )
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.CLAIMED)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "patient", "kind", "occurrence_version"],
                condition=Q(occurrence__isnull=False),
                name="reminder_once_per_occurrence_patient_version",
            ),
            models.UniqueConstraint(
                fields=["appointment", "patient", "kind"],
                condition=Q(appointment__isnull=False),
                name="reminder_once_per_appointment_patient",
            ),
            models.UniqueConstraint(
                fields=["staff", "for_date", "kind"],
                condition=Q(staff__isnull=False),
                name="agenda_once_per_staff_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class ReminderOptOut(PublicRecord):
    """The patient asked not to get session reminders."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="reminder_opt_out")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Reminder opt-out of {self.patient_id}"
