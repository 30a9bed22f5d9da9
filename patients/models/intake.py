"""Referral and the intake path to admission: the referral, its eligibility review."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from iop.accounts.models import Site
from iop.core.models import PublicRecord, VersionedRecord


class ReferralSource(models.TextChoices):
    SELF = "self", "Self"
    FAMILY = "family", "Family"
    COURT = "court", "Court or probation"
    EMPLOYER = "employer", "Employer"
    HOSPITAL = "hospital", "Hospital"
    RESIDENTIAL_STEP_DOWN = "residential", "Residential step-down"
    OTHER = "other", "Other"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent (within 72 hours)"
    EMERGENT = "emergent", "Emergent (same day)"


class ReferralStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReferralOutcome(models.TextChoices):
    ADMITTED = "admitted", "Admitted"
    REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"
    DECLINED = "declined", "Declined"
    NO_SHOW = "no_show", "No show"


class Referral(VersionedRecord):
    """A request for treatment. Open referrals form the intake queue, oldest first.

    `referred_at`, `screened_at` and `admitted_at` give the time to admission.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="referrals")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="referrals")
    source = models.CharField(max_length=20, choices=ReferralSource.choices)
    source_detail = models.CharField(max_length=120, blank=True, help_text="e.g. which court, hospital")
    referrer_name = models.CharField(max_length=120, blank=True)
    referrer_phone = PhoneNumberField(blank=True, region="US")
    referrer_email = models.EmailField(blank=True)
    reason = models.TextField()
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    intake_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="intake_referrals",
    )
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.OPEN)
    outcome = models.CharField(max_length=20, choices=ReferralOutcome.choices, blank=True)
    outcome_detail = models.TextField(
        blank=True, help_text="Where and why (referred elsewhere), or why declined."
    )
    referred_at = models.DateTimeField(default=timezone.now)
    screened_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["referred_at", "id"]
        indexes = [models.Index(fields=["site", "status", "referred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="open"), name="one_open_referral_per_patient"
            ),
            models.CheckConstraint(
                condition=(Q(status="open", outcome="") | (Q(status="closed") & ~Q(outcome=""))),
                name="referral_outcome_iff_closed",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="referred_elsewhere") | ~Q(outcome_detail=""),
                name="referral_elsewhere_says_where",
            ),
            models.CheckConstraint(
                condition=Q(admitted_at__isnull=True) | Q(outcome="admitted"),
                name="referral_admitted_at_only_when_admitted",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.public_id} ({self.get_status_display()})"

    @property
    def time_to_admission(self):
        return self.admitted_at - self.referred_at if self.admitted_at else None


class EligibilityReview(PublicRecord):
    """The IOP eligibility checklist from the source articles, feeding the admission decision."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="eligibility_reviews")
    stable_home_and_support = models.BooleanField(
        "Stable home and support", help_text="A safe place to live and people who support recovery."
    )
    has_transportation = models.BooleanField(
        "Transportation", help_text="Can reach the site 3-4 days a week."
    )
    committed_to_recovery = models.BooleanField("Commitment to recovery")
    severity_suits_iop = models.BooleanField(
        "Severity suits IOP", help_text="Severity fits outpatient care, or stepping down from residential."
    )
    has_obligations_to_keep = models.BooleanField(
        "Work, school or family obligations",
        help_text="Obligations that make outpatient care (rather than residential) the right fit.",
    )
    notes = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    CRITERIA = (
        "stable_home_and_support",
        "has_transportation",
        "committed_to_recovery",
        "severity_suits_iop",
        "has_obligations_to_keep",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Eligibility review {self.created_at:%Y-%m-%d}: {self.criteria_met}/{len(self.CRITERIA)}"

    @property
    def criteria_met(self) -> int:
        return sum(bool(getattr(self, name)) for name in self.CRITERIA)

    @property
    def unmet_criteria(self) -> list[str]:
        return [
            str(self._meta.get_field(name).verbose_name) for name in self.CRITERIA if not getattr(self, name)
        ]


class DuplicateReference(PublicRecord):
    """An opaque, single-use, expiring reference to a matching record the user may not see,
    handed out by duplicate detection instead of the record's id. Attaching a referral through
    it widens the user's reach, so it needs a reason and is listed in the access log."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="+", help_text="Where the record was held then."
    )
    nonce = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the referral was attached (when used).")
    referral = models.ForeignKey(
        "patients.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} -> record at {self.site_id} ({'used' if self.used_at else 'unused'})"
