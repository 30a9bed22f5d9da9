"""Recurring group series, their occurrences, enrolments, and one-to-one appointments.

A series keeps its rule and local start time in the site's time zone; occurrences are rows
(generated ahead by a periodic task) with aware start and end times, so one occurrence can be
cancelled, moved or given another facilitator without touching the others. Enrolment is per
series and dated (rolling admission): a patient is on an occurrence's roster when enrolled on
its local date.

Invariants the ORM cannot express are exclusion constraints added on PostgreSQL by migration
0003 (no two enrolments of one episode in one series overlap; no two scheduled occurrences or
appointments share a room at once); the services check the same rules with a clear message.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from iop.accounts.models import Site
from iop.core.models import PublicRecord, VersionedRecord
from patients.models import Episode, Phase
from scheduling.models.catalogue import MAX_SESSION_MINUTES, Room, SessionType, TopicCycle


class GroupSeries(VersionedRecord):
    """A recurring group, e.g. "Phase 1 morning: Mon-Thu 9:00-12:00, Room B, capacity 12"."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="group_series")
    name = models.CharField(max_length=120)
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="series")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="series")
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="facilitated_series"
    )
    capacity = models.PositiveSmallIntegerField()
    recurrence_rule = models.CharField(
        max_length=255,
        help_text="RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH",
    )
    start_time = models.TimeField(help_text="Local time at the site.")
    duration_minutes = models.PositiveSmallIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Last day (inclusive); empty: open-ended.")
    phases = models.ManyToManyField(Phase, related_name="group_series", blank=True)
    topic_cycle = models.ForeignKey(
        TopicCycle, null=True, blank=True, on_delete=models.PROTECT, related_name="series"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "start_time", "name"]
        verbose_name_plural = "group series"
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="series_name_unique_at_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="series_capacity_at_least_one"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=MAX_SESSION_MINUTES),
                name="series_duration_in_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="series_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OccurrenceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class Occurrence(VersionedRecord):
    """One meeting of a series. `original_start` (the rule's instant) is the natural key, so
    generating twice, or after a move, never makes a second row."""

    series = models.ForeignKey(GroupSeries, on_delete=models.PROTECT, related_name="occurrences")
    original_start = models.DateTimeField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    local_date = models.DateField(help_text="The day in the site's time zone (rosters and hours).")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="occurrences")
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="facilitated_occurrences"
    )
    status = models.CharField(
        max_length=10, choices=OccurrenceStatus.choices, default=OccurrenceStatus.SCHEDULED
    )
    change_reason = models.CharField(max_length=200, blank=True)
    topic_index = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0-based position in the series' topic cycle."
    )

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "original_start"], name="occurrence_once_per_series_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="occurrence_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OccurrenceStatus.values), name="occurrence_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["local_date", "series"]),
            models.Index(fields=["series", "local_date"]),
            models.Index(fields=["room", "starts_at"]),
            models.Index(fields=["facilitator", "local_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_cancelled(self) -> bool:
        return self.status == OccurrenceStatus.CANCELLED


class Enrolment(PublicRecord):
    """An episode's place in a series from `joined_on` to `left_on` (inclusive; empty: ongoing)."""

    series = models.ForeignKey(GroupSeries, on_delete=models.PROTECT, related_name="enrolments")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="enrolments")
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    leave_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["series", "joined_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="enrolment_leaves_after_joining",
            ),
            # One open enrolment per series and episode everywhere (overlap of dated ones:
            # an exclusion constraint on PostgreSQL, migration 0003).
            models.UniqueConstraint(
                fields=["series", "episode"],
                condition=Q(left_on__isnull=True),
                name="one_open_enrolment_per_series_episode",
            ),
        ]
        indexes = [
            models.Index(fields=["episode", "joined_on"]),
            models.Index(fields=["series", "joined_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.episode_id} in {self.series} from {self.joined_on}"

    def is_enrolled_on(self, day) -> bool:
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class Appointment(VersionedRecord):
    """An individual or family session: one staff member, one patient (episode), maybe a room.
    Recurring appointments are rows that share `recurrence_key`."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="appointments")
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="appointments")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    local_date = models.DateField()
    family_members = models.CharField(
        max_length=200, blank=True, help_text="Who else attends (family sessions), e.g. 'mother, partner'."
    )
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    recurrence_key = models.UUIDField(
        null=True, blank=True, help_text="Shared by the rows of one recurring appointment."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values), name="appointment_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["episode", "local_date"]),
            models.Index(fields=["staff", "local_date"]),
            models.Index(fields=["room", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.session_type} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)
