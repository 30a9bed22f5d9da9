"""The patient record, programs and their phases, episodes of care, care teams, alerts.

Every read of these tables on behalf of a user goes through `patients.access`.
"""

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField

from iop.accounts.models import Site
from iop.core.models import PublicRecord, VersionedRecord


class Program(VersionedRecord):
    """A treatment program (e.g. "Adult SUD IOP", ASAM level 2.1) with its ordered phases."""

    name = models.CharField(max_length=120, unique=True)
    level_of_care = models.CharField(max_length=10, default="2.1", help_text="ASAM level, e.g. 2.1")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Phase(PublicRecord):
    """One phase of a program: its length, intensity and testing rate are configuration."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    min_weeks = models.PositiveSmallIntegerField()
    sessions_per_week = models.PositiveSmallIntegerField()
    min_hours_per_week = models.DecimalField(max_digits=4, decimal_places=1)
    tests_per_week = models.DecimalField(max_digits=3, decimal_places=1)
    max_days_untested = models.PositiveSmallIntegerField(help_text="In operating days.")
    attendance_threshold_percent = models.PositiveSmallIntegerField()
    advancement_criteria = models.TextField(blank=True)

    class Meta:
        ordering = ["program", "order"]
        constraints = [
            models.UniqueConstraint(fields=["program", "order"], name="phase_order_unique_in_program"),
            models.CheckConstraint(
                condition=Q(attendance_threshold_percent__lte=100),
                name="phase_attendance_threshold_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"Phase {self.order}: {self.name}"


def new_mrn() -> str:
    """A medical record number: 'M' and eight random digits (uniqueness is a DB constraint)."""
    return f"M{secrets.randbelow(10**8):08d}"


class SexAssignedAtBirth(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Unknown"
    DECLINED = "declined", "Declined to answer"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"
    MAIL = "mail", "Post"


class Patient(VersionedRecord):
    legal_first_name = models.CharField(max_length=80)
    legal_last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)
    date_of_birth = models.DateField()
    sex_assigned_at_birth = models.CharField(max_length=10, choices=SexAssignedAtBirth.choices, blank=True)
    gender_identity = models.CharField(max_length=60, blank=True)
    mrn = models.CharField("MRN", max_length=20, unique=True, default=new_mrn)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="patients", help_text="The site holding the record."
    )
    current_episode = models.OneToOneField(
        "Episode", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Contact
    phone = PhoneNumberField(blank=True, region="US")
    email = models.EmailField(blank=True)
    preferred_contact_channel = models.CharField(max_length=10, choices=ContactChannel.choices, blank=True)
    address_line1 = models.CharField("Address", max_length=120, blank=True)
    address_line2 = models.CharField("Address (line 2)", max_length=120, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = PhoneNumberField(blank=True, region="US")
    # Coverage
    payer = models.CharField(max_length=120, blank=True, help_text="Insurer or payer, e.g. Medicaid")
    payer_member_id = models.CharField("Member id", max_length=60, blank=True)
    # Special populations
    is_pregnant = models.BooleanField("Pregnant", default=False)
    is_adolescent = models.BooleanField("Adolescent", default=False)
    is_justice_involved = models.BooleanField("Justice-involved", default=False)
    is_veteran = models.BooleanField("Veteran", default=False)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        indexes = [
            models.Index(fields=["legal_last_name", "legal_first_name"]),
            models.Index(fields=["date_of_birth"]),
            # The intake pool of a site (never admitted): patients.access reads it for every list.
            models.Index(
                fields=["site"],
                condition=models.Q(current_episode__isnull=True),
                name="patient_intake_pool_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"


class DischargeReason(models.TextChoices):
    """TEDS-D REASON codes."""

    COMPLETED = "1", "Treatment completed"
    LEFT_AGAINST_ADVICE = "2", "Dropped out / left against professional advice"
    ADMINISTRATIVE = "3", "Terminated by facility (administrative)"
    TRANSFERRED = "4", "Transferred to another level of care"
    INCARCERATED = "5", "Incarcerated"
    DEATH = "6", "Death"
    OTHER = "7", "Other"


class Episode(VersionedRecord):
    """An episode of care: one admission to one program at one site, until discharge."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="episodes")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="episodes")
    status = models.CharField(max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE)
    admitted_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=2, choices=DischargeReason.choices, blank=True)
    current_phase = models.ForeignKey(Phase, null=True, on_delete=models.PROTECT, related_name="+")
    phase_started_on = models.DateField(null=True, blank=True)
    referral = models.ForeignKey(
        "Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="episodes",
        help_text="The referral this admission answered (time to admission is measured from it).",
    )
    admission_note = models.TextField(
        blank=True, help_text="Why the patient was admitted despite the concerns shown at admission."
    )

    class Meta:
        ordering = ["-admitted_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="one_active_episode_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=models.F("admitted_on")),
                name="episode_discharge_not_before_admission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} from {self.admitted_on}"


class CareTeamRole(models.TextChoices):
    PRIMARY_CLINICIAN = "primary_clinician", "Primary clinician"
    CLINICIAN = "clinician", "Clinician"
    CASE_MANAGER = "case_manager", "Case manager"
    MEDICAL = "medical", "Medical"
    PEER_SUPPORT = "peer_support", "Peer support"


class CareTeamMember(PublicRecord):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams")
    role = models.CharField(max_length=20, choices=CareTeamRole.choices)
    assigned_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["episode", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "role"],
                condition=Q(role="primary_clinician", ended_on__isnull=True),
                name="one_current_primary_clinician_per_episode",
            ),
            models.UniqueConstraint(
                fields=["episode", "user", "role"],
                condition=Q(ended_on__isnull=True),
                name="care_team_member_once_per_role",
            ),
        ]
        indexes = [models.Index(fields=["user", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"


class AlertSeverity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    INFO = "info", "Information"


class ClinicalAlert(PublicRecord):
    """Something the care team must act on (a safety flag, a withdrawal risk, ...)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.MEDIUM)
    message = models.CharField(max_length=255)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "resolved_at"])]

    def __str__(self) -> str:
        return self.message


class BreakGlassReason(models.TextChoices):
    IMMINENT_RISK = "imminent_risk", "Imminent risk to the patient or others"
    CONTINUITY_OF_CARE = "continuity_of_care", "Continuity of care"
    PATIENT_REQUEST = "patient_request", "Patient request"
    OTHER = "other", "Other"


class BreakGlassGrant(PublicRecord):
    """Time-limited access to a chart outside the user's care team, given with a reason."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass_grants")
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the patient's record was held then.",
    )
    category = models.CharField(
        max_length=24, choices=BreakGlassReason.choices, default=BreakGlassReason.OTHER
    )
    reason = models.TextField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.user} -> {self.patient_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class AvailabilityKind(models.TextChoices):
    WORK = "work", "Work"
    SCHOOL = "school", "School"
    FAMILY = "family", "Family"
    OTHER = "other", "Other"


class AvailabilityWindow(VersionedRecord):
    """A weekly time the patient is NOT available (work, school, family); the schedule builder
    fits sessions around these."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="availability_windows")
    kind = models.CharField(max_length=10, choices=AvailabilityKind.choices)
    weekday = models.PositiveSmallIntegerField(help_text="ISO weekday, 1 = Monday")
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["patient", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=1, weekday__lte=7), name="availability_weekday_iso"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="availability_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.weekday} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


class MedicationClass(models.TextChoices):
    """Classes that explain an expected positive on a drug test."""

    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    METHADONE = "methadone", "Methadone"
    NALTREXONE = "naltrexone", "Naltrexone"
    OPIOID_ANALGESIC = "opioid_analgesic", "Opioid analgesic"
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepine"
    STIMULANT = "stimulant", "Stimulant (amphetamine, methylphenidate)"
    BARBITURATE = "barbiturate", "Barbiturate"
    GABAPENTINOID = "gabapentinoid", "Gabapentinoid"
    OTHER = "other", "Other"


class Medication(VersionedRecord):
    """A prescribed medication; marks matching drug-test results as expected."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120)
    medication_class = models.CharField(max_length=20, choices=MedicationClass.choices)
    dose = models.CharField(max_length=80, blank=True)
    prescriber = models.CharField(max_length=120, blank=True)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(stopped_on__gte=models.F("started_on")),
                name="medication_stops_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_medication_class_display()})"
