"""Screening results: administered instruments and ASAM assessments. Never edited: a repeat
administration is a new row, so the history is kept."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from iop.core.models import PublicRecord


class InstrumentResponse(PublicRecord):
    """One administration of a validated instrument, with the score the engine gave it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="instrument_responses"
    )
    referral = models.ForeignKey(
        "patients.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instrument_responses",
    )
    instrument_code = models.CharField(max_length=20)
    instrument_version = models.CharField(max_length=40)
    answers = models.JSONField(help_text="Item number (as published) -> answer value.")
    sex_used = models.CharField(max_length=10, blank=True, help_text="Sex used for scoring (AUDIT-C).")
    total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=40)
    flags = models.JSONField(default=list, blank=True)
    administered_at = models.DateTimeField()
    administered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-administered_at", "-id"]
        indexes = [models.Index(fields=["patient", "instrument_code", "administered_at"])]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.administered_at:%Y-%m-%d}: {self.total} ({self.band})"


class AsamEdition(models.TextChoices):
    THIRD = "3", "3rd edition (2013)"
    FOURTH = "4", "4th edition (2023)"


class AsamAssessment(PublicRecord):
    """Six dimensions rated 0-4, the rule's recommended level, and the level the clinician chose."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="asam_assessments")
    referral = models.ForeignKey(
        "patients.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="asam_assessments"
    )
    edition = models.CharField(max_length=1, choices=AsamEdition.choices)
    ratings = models.JSONField(help_text='Dimension ("1".."6") -> rating 0-4.')
    dimension_notes = models.JSONField(default=dict, blank=True)
    recommended_level = models.CharField(max_length=10)
    recommendation_reasons = models.JSONField(default=list)
    chosen_level = models.CharField(max_length=10)
    override_reason = models.TextField(
        blank=True, help_text="Why the chosen level differs from the recommendation."
    )
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-assessed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(chosen_level=F("recommended_level")) | ~Q(override_reason=""),
                name="asam_override_needs_a_reason",
            )
        ]

    def __str__(self) -> str:
        return f"ASAM ({self.edition}) {self.assessed_at:%Y-%m-%d}: {self.chosen_level}"

    @property
    def overridden(self) -> bool:
        return self.chosen_level != self.recommended_level
