"""Consents: to treatment, and 42 CFR Part 2 consents to disclose. Signed consents are never
edited; they expire or are revoked, and stay in the record."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from iop.core.models import PublicRecord


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Consent to treatment"
    PART2_DISCLOSURE = "part2_disclosure", "42 CFR Part 2 consent to disclose"


class ConsentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Consent(PublicRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    # 42 CFR 2.31: who may receive, why, what, until when.
    recipient = models.CharField(max_length=200, blank=True, help_text="Who may receive the information.")
    purpose = models.CharField(max_length=255, blank=True, help_text="Why it is disclosed.")
    information_description = models.TextField(
        blank=True, help_text="How much and what kind of information may be disclosed."
    )
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(
        max_length=255, blank=True, help_text="An event or condition that ends it."
    )
    text_presented = models.TextField(help_text="The consent text the patient read and signed.")
    signed_by_name = models.CharField(max_length=160, help_text="The patient's name, typed by the patient.")
    signed_at = models.DateTimeField()
    signed_ip_address = models.GenericIPAddressField(null=True, blank=True)
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="part2_disclosure")
                | (
                    ~Q(recipient="")
                    & ~Q(purpose="")
                    & ~Q(information_description="")
                    & (Q(expires_on__isnull=False) | ~Q(expiry_event=""))
                ),
                name="part2_consent_names_recipient_purpose_scope_and_end",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
                name="consent_revocation_records_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} signed {self.signed_at:%Y-%m-%d}"

    def status_on(self, day) -> ConsentStatus:
        if self.revoked_at is not None:
            return ConsentStatus.REVOKED
        if self.expires_on is not None and self.expires_on < day:
            return ConsentStatus.EXPIRED
        return ConsentStatus.ACTIVE

    @property
    def status(self) -> ConsentStatus:
        return self.status_on(timezone.localdate())

    @property
    def is_active(self) -> bool:
        return self.status == ConsentStatus.ACTIVE
