"""Users, their roles and the sites they work at."""

import uuid
from datetime import time

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac
from timezone_field import TimeZoneField

from iop.core.models import VersionedRecord

WEEKDAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def default_operating_days() -> list[int]:
    return [1, 2, 3, 4, 5]


def validate_operating_days(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one operating day.")
    if any(day not in WEEKDAY_NAMES for day in value) or len(set(value)) != len(value):
        raise ValidationError("Operating days are ISO weekdays 1 (Monday) to 7 (Sunday), each once.")


class Site(VersionedRecord):
    """A clinic location. Each site keeps its own time zone and daily draw time."""

    name = models.CharField(max_length=120, unique=True)
    timezone = TimeZoneField(default="America/New_York")
    operating_days = models.JSONField(
        default=default_operating_days,
        validators=[validate_operating_days],
        help_text="ISO weekdays the site is open, 1 = Monday.",
    )
    daily_draw_time = models.TimeField(
        default=time(5, 30), help_text="Local time of the daily random test draw, before opening."
    )
    address = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def operating_day_names(self) -> str:
        return ", ".join(WEEKDAY_NAMES[day] for day in sorted(self.operating_days))


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    CASE_MANAGER = "case_manager", "Case manager"
    MEDICAL = "medical", "Medical staff"
    PEER_SUPPORT = "peer_support", "Peer support"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A member of staff. Their role decides what they may do; care teams decide whom they see."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    is_clinical_supervisor = models.BooleanField(
        default=False,
        help_text="Clinical supervisors see every patient at their sites, like admins.",
    )
    credentials = models.CharField(max_length=60, blank=True, help_text="e.g. LADC, RN, MD")
    sites = models.ManyToManyField(Site, related_name="staff", blank=True)
    must_change_password = models.BooleanField(
        default=False, help_text="Set by an admin: the person must choose a new password at next sign-in."
    )
    two_factor_exempt = models.BooleanField(
        default=False,
        help_text="Demo clinic only (seed_demo): signs in without a second factor where one is required.",
    )
    # Bumped by "sign out everywhere": part of the session hash, so every session ends.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_is_known")
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None):
        """Django's session hash (password hash, HMAC'd) plus `session_epoch`: a password change
        or `end_sessions` invalidates every session at its next request."""
        return salted_hmac(
            "iop.accounts.User.session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def sees_whole_site(self) -> bool:
        """Admins and clinical supervisors see every patient at their sites."""
        return self.role == Role.ADMIN or self.is_clinical_supervisor
