"""What sessions are made of: rooms, session types and curriculum topic cycles."""

from django.db import models
from django.db.models import Q

from iop.accounts.models import Site
from iop.core.models import PublicRecord, VersionedRecord

MAX_SESSION_MINUTES = 12 * 60


class Room(VersionedRecord):
    """A room at a site where sessions take place."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    capacity = models.PositiveSmallIntegerField(help_text="How many people the room seats.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="room_name_unique_at_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name


class SessionKind(models.TextChoices):
    GROUP = "group", "Group"
    INDIVIDUAL = "individual", "Individual"
    FAMILY = "family", "Family"


class SessionType(VersionedRecord):
    """Group therapy, individual counselling, ...: seeded (migration 0002), edited by admins."""

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=12, choices=SessionKind.choices)
    default_minutes = models.PositiveSmallIntegerField()
    counts_toward_clinical_hours = models.BooleanField(
        default=True, help_text="Whether attending counts toward the phase's clinical hours per week."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SessionKind.values), name="session_type_kind_known"),
            models.CheckConstraint(
                condition=Q(default_minutes__gte=5, default_minutes__lte=MAX_SESSION_MINUTES),
                name="session_type_minutes_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TopicCycle(VersionedRecord):
    """An ordered curriculum (e.g. 12 relapse-prevention modules) a group series runs through."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CurriculumTopic(PublicRecord):
    cycle = models.ForeignKey(TopicCycle, on_delete=models.CASCADE, related_name="topics")
    position = models.PositiveSmallIntegerField(help_text="0-based place in the cycle.")
    title = models.CharField(max_length=160)

    class Meta:
        ordering = ["cycle", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "position"], name="topic_position_unique_in_cycle")
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.title}"
