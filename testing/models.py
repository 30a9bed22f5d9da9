"""Drug and alcohol testing: policies, panels, the daily random draw, orders, collections,
results and the clinical response (issue 9; docs/decisions/0011-random-testing.md).

Model names never start with "Test" (pytest would collect them). The draw's rule lives in
`testing.draw_rule` (pure); these tables record what it did, so an auditor can recompute it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from iop.accounts.models import Site
from iop.core.models import PublicRecord, VersionedRecord
from patients.models import ClinicalAlert, Episode, Patient, Phase


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("A draw is never edited.")

    def delete(self):
        raise PermissionError("A draw is never deleted.")


class SpecimenType(models.TextChoices):
    URINE = "urine", "Urine"
    ORAL_FLUID = "oral_fluid", "Oral fluid"
    BREATH = "breath", "Breath (alcohol)"


class Consequence(models.TextChoices):
    """How a refusal or a no-show counts (a program policy; default: as a positive)."""

    POSITIVE = "positive", "Counts as a positive"
    MISSED = "missed", "Counts as a missed test (not a positive)"


class Panel(VersionedRecord):
    """A set of analytes tested together (a point-of-care cup, a lab panel, a breath test)."""

    name = models.CharField(max_length=120, unique=True)
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices, default=SpecimenType.URINE)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Analyte(PublicRecord):
    """One substance on a panel, with the cutoffs the panel's device or lab uses."""

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="analytes")
    code = models.SlugField(max_length=40, help_text="e.g. thc, cocaine, opiates, fentanyl, etg")
    name = models.CharField(max_length=120)
    screen_cutoff = models.DecimalField(max_digits=10, decimal_places=3, help_text="Initial test cutoff")
    confirmation_cutoff = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=20, default="ng/mL")
    explained_by = models.JSONField(
        default=list,
        blank=True,
        help_text="Medication classes (patients.MedicationClass) whose prescription explains a positive.",
    )
    detection_window_days = models.PositiveSmallIntegerField(default=3)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["panel", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "code"], name="analyte_code_unique_in_panel"),
            models.CheckConstraint(condition=Q(screen_cutoff__gte=0), name="analyte_cutoff_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class TestingPolicy(VersionedRecord):
    """How one program phase is tested. The rate and the maximum days untested come from the
    phase (patients.Phase.tests_per_week, max_days_untested); the policy adds the rest."""

    __test__ = False  # not a pytest class

    phase = models.OneToOneField(Phase, on_delete=models.CASCADE, related_name="testing_policy")
    ramp = models.PositiveSmallIntegerField(
        default=2, help_text="Eligible days before the maximum over which the chance rises to 1."
    )
    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="policies")
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices, default=SpecimenType.URINE)
    include_etg = models.BooleanField("Include EtG (alcohol metabolite)", default=False)
    observed_collection = models.BooleanField("Observed collection required", default=False)
    refusal_counts_as = models.CharField(
        max_length=10, choices=Consequence.choices, default=Consequence.POSITIVE
    )
    no_show_counts_as = models.CharField(
        max_length=10, choices=Consequence.choices, default=Consequence.POSITIVE
    )
    check_in_by = models.TimeField(
        null=True, blank=True, help_text="Selected patients are asked to check in by this local time."
    )

    class Meta:
        ordering = ["phase"]
        verbose_name_plural = "testing policies"
        constraints = [
            models.CheckConstraint(condition=Q(ramp__gte=1), name="testing_policy_ramp_at_least_one")
        ]

    def __str__(self) -> str:
        return f"Testing policy for {self.phase}"


class DrawKey(PublicRecord):
    """A site's secret for one month. Created with `secrets`; its SHA-256 commitment goes into
    the audit chain before the month starts; the secret is shown in the draw records only after
    the month has ended (`revealed_at`)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The first day of the month.")
    secret = models.CharField(max_length=64, editable=False, help_text="32 random bytes, hex")
    commitment = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the secret, hex")
    commitment_sequence = models.PositiveBigIntegerField(
        null=True, editable=False, help_text="The audit entry that recorded the commitment."
    )
    committed_late = models.BooleanField(
        default=False, editable=False, help_text="Committed after the month had started (a missed task)."
    )
    revealed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-month", "site"]
        constraints = [
            models.UniqueConstraint(fields=["site", "month"], name="one_draw_key_per_site_and_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="draw_key_month_is_first_day"),
        ]

    def __str__(self) -> str:
        return f"Draw key {self.site} {self.month:%Y-%m}"

    @property
    def key_bytes(self) -> bytes:
        return bytes.fromhex(self.secret)


class DrawTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled (before opening)"
    MANUAL = "manual", "Missed draw run by an admin"
    # The reference workload's two years of history: not drawn under the algorithm, never verified.
    GENERATED = "generated", "Generated history (benchmark data, not verifiable)"


class Draw(PublicRecord):
    """One site's random draw for one operating day. Exactly one per site and day (database
    constraint); never edited or deleted; the snapshot is what the rule computed from."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    key = models.ForeignKey(DrawKey, on_delete=models.PROTECT, related_name="draws")
    algorithm_version = models.CharField(max_length=8)
    nonce = models.CharField(max_length=128, blank=True, help_text="An optional external beacon value.")
    snapshot = models.JSONField(help_text="Pool: pseudonyms, state, q, p, U, selection.")
    snapshot_hash = models.CharField(max_length=64)
    pool_size = models.PositiveIntegerField()
    selected_count = models.PositiveIntegerField()
    trigger = models.CharField(max_length=10, choices=DrawTrigger.choices, default=DrawTrigger.SCHEDULED)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why a missed draw was run by hand.")

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "site"]
        constraints = [
            models.UniqueConstraint(fields=["site", "date"], name="one_draw_per_site_and_day"),
            models.CheckConstraint(
                condition=Q(selected_count__lte=F("pool_size")), name="draw_selects_from_its_pool"
            ),
            models.CheckConstraint(
                condition=~Q(trigger="manual") | ~Q(reason=""), name="manual_draw_has_a_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Draw {self.site} {self.date}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A draw is never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A draw is never deleted.")


class SelectionStatus(models.TextChoices):
    """Selections are never deleted, only annotated."""

    PENDING = "pending", "Awaiting collection"
    COLLECTED = "collected", "Collected"
    NOT_COLLECTED = "not_collected", "Not collected"
    EXCUSED = "excused", "Excused"


class DrawSelection(PublicRecord):
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="selections")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="draw_selections")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    pseudonym = models.CharField(max_length=32)
    probability = models.CharField(max_length=20)
    status = models.CharField(max_length=16, choices=SelectionStatus.choices, default=SelectionStatus.PENDING)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["draw", "pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "patient"], name="one_selection_per_patient_and_draw"),
            models.UniqueConstraint(fields=["draw", "pseudonym"], name="selection_pseudonym_unique_in_draw"),
        ]

    def __str__(self) -> str:
        return f"{self.pseudonym} on {self.draw.date}"

    def delete(self, *args, **kwargs):
        raise PermissionError("A selection is never deleted; annotate it instead.")


class OrderKind(models.TextChoices):
    RANDOM = "random", "Random (daily draw)"
    FOR_CAUSE = "for_cause", "For cause"
    ADMISSION_BASELINE = "baseline", "Admission baseline"
    SCHEDULED = "scheduled", "Scheduled"


class OrderStatus(models.TextChoices):
    OPEN = "open", "Open"
    COLLECTED = "collected", "Collected"
    REFUSED = "refused", "Refused"
    NO_SHOW = "no_show", "No-show"
    UNABLE = "unable", "Unable to provide"
    CANCELLED = "cancelled", "Cancelled"


class DrugTestOrder(VersionedRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="drug_test_orders")
    episode = models.ForeignKey(Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=OrderKind.choices)
    reason = models.TextField(blank=True, help_text="Required for a for-cause test.")
    due_on = models.DateField()
    selection = models.OneToOneField(
        DrawSelection, null=True, blank=True, on_delete=models.PROTECT, related_name="order"
    )
    panel = models.ForeignKey(Panel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices, default=SpecimenType.URINE)
    observed_required = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-due_on", "-created_at"]
        indexes = [
            models.Index(fields=["site", "due_on", "status"]),
            models.Index(fields=["patient", "-due_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="for_cause") | ~Q(reason=""), name="for_cause_order_has_a_reason"
            ),
            models.CheckConstraint(
                condition=(Q(kind="random") & Q(selection__isnull=False))
                | (~Q(kind="random") & Q(selection__isnull=True)),
                name="random_order_comes_from_a_selection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} test due {self.due_on}"


class CollectionOutcome(models.TextChoices):
    COLLECTED = "collected", "Collected"
    REFUSED = "refused", "Refused"
    NO_SHOW = "no_show", "No-show"
    UNABLE = "unable", "Unable to provide"


class Validity(models.TextChoices):
    """Mirrors testing.validity.Validity."""

    NOT_ASSESSED = "not_assessed", "Not assessed"
    VALID = "valid", "Valid"
    DILUTE = "dilute", "Dilute"
    INVALID = "invalid", "Invalid"
    ADULTERATED = "adulterated", "Adulterated"
    SUBSTITUTED = "substituted", "Substituted"


class Specimen(PublicRecord):
    """One collection attempt for an order (a recollection is a second row)."""

    order = models.ForeignKey(DrugTestOrder, on_delete=models.PROTECT, related_name="specimens")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="specimens")
    outcome = models.CharField(max_length=10, choices=CollectionOutcome.choices)
    counts_as_positive = models.BooleanField(
        default=False, help_text="A refusal, no-show or tampered specimen under the policy's rule."
    )
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    collected_at = models.DateTimeField(help_text="When collected, or when the refusal/no-show was recorded.")
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices)
    observed = models.BooleanField(default=False)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    temperature_in_range = models.BooleanField(null=True, blank=True)
    chain_of_custody_number = models.CharField(max_length=40, blank=True)
    self_report = models.TextField(blank=True, help_text="What the patient reported before collection.")
    creatinine = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    specific_gravity = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    ph = models.DecimalField("pH", max_digits=4, decimal_places=2, null=True, blank=True)
    nitrite = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    foreign_substance = models.BooleanField(default=False)
    validity = models.CharField(max_length=14, choices=Validity.choices, default=Validity.NOT_ASSESSED)
    validity_findings = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-collected_at"]
        indexes = [models.Index(fields=["patient", "-collected_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_of_custody_number"],
                condition=~Q(chain_of_custody_number=""),
                name="chain_of_custody_number_unique",
            ),
        ]

    def __str__(self) -> str:
        outcome = self.get_outcome_display().lower()
        return f"{self.get_specimen_type_display()} {outcome} {self.collected_at:%Y-%m-%d}"


class ResultStage(models.TextChoices):
    SCREEN = "screen", "Screen (point of care, presumptive)"
    CONFIRMATION = "confirmation", "Confirmation (lab, definitive)"


class ResultOutcome(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    INVALID = "invalid", "Invalid"


class AnalyteResult(PublicRecord):
    """One analyte's result at one stage. Finalised by a clinician, then never changed: a
    correction is a new row that `amends` it."""

    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="results")
    analyte = models.ForeignKey(Analyte, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=12, choices=ResultStage.choices)
    device_or_assay = models.CharField(max_length=120)
    lot = models.CharField(max_length=60, blank=True)
    cutoff = models.DecimalField(max_digits=10, decimal_places=3)
    value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=20, default="ng/mL")
    outcome = models.CharField(max_length=10, choices=ResultOutcome.choices)
    expected = models.BooleanField(default=False, help_text="Explained by a prescribed medication.")
    expected_because = models.CharField(max_length=120, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amends = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by"
    )
    amendment_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["specimen", "analyte", "stage", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amends__isnull=True) | ~Q(amendment_reason=""), name="amendment_has_a_reason"
            ),
            models.CheckConstraint(
                condition=Q(expected=False) | Q(outcome="positive"), name="only_a_positive_is_expected"
            ),
            models.CheckConstraint(
                condition=Q(finalised_at__isnull=True) | Q(finalised_by__isnull=False),
                name="finalised_result_names_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.get_stage_display()}: {self.get_outcome_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("finalised_at", flat=True).first()
            if stored is not None:
                raise PermissionError("A finalised result is never changed: amend it.")
        super().save(*args, **kwargs)

    @property
    def unexpected_positive(self) -> bool:
        return self.outcome == ResultOutcome.POSITIVE and not self.expected


class ReviewTrigger(models.TextChoices):
    UNEXPECTED_POSITIVE = "unexpected_positive", "Unexpected positive"
    REFUSAL = "refusal", "Refusal"
    NO_SHOW = "no_show", "No-show"
    TAMPERED = "tampered", "Tampered specimen"


class ResponseAction(models.TextChoices):
    """Supportive responses (CLINICAL.md: review and intensify treatment, not punishment)."""

    DISCUSS_IN_SESSION = "discuss", "Discuss in session"
    INCREASE_TESTING = "increase_testing", "Increase testing frequency for a period"
    PLAN_REVIEW = "plan_review", "Review the treatment plan"
    CONSIDER_STEP_UP = "step_up", "Consider a step up in level of care"
    NO_CHANGE = "no_change", "No change (explained)"


class ResultReview(PublicRecord):
    """The clinical response to an unexpected positive, a refusal, a no-show or a tampered
    specimen: an alert for the primary clinician and the review they record."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="result_reviews")
    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="reviews")
    trigger = models.CharField(max_length=20, choices=ReviewTrigger.choices)
    alert = models.OneToOneField(ClinicalAlert, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actions = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    increased_tests_per_week = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    increased_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "reviewed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["specimen", "trigger"], name="one_review_per_specimen_and_trigger"
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | Q(reviewed_by__isnull=False),
                name="review_names_reviewer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} review"


class Substance(models.TextChoices):
    ALCOHOL = "alcohol", "Alcohol"
    OPIOIDS = "opioids", "Opioids"
    STIMULANTS = "stimulants", "Stimulants (cocaine, amphetamines)"
    CANNABIS = "cannabis", "Cannabis"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines (not as prescribed)"
    OTHER = "other", "Other"


class SelfReportedUse(PublicRecord):
    """What a patient said about their last use of one substance: when they last used it, on
    which day they said so and to whom. Feeds the derived sobriety date; never edited (a later
    report is a new row, and the latest use reported counts)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="self_reported_uses")
    substance = models.CharField(max_length=20, choices=Substance.choices)
    last_used_on = models.DateField("Date of last use")
    reported_on = models.DateField("Reported on")
    reported_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "-last_used_on"], name="self_report_patient_last_use")]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_used_on__lte=F("reported_on")), name="self_reported_use_not_after_report"
            )
        ]

    def __str__(self) -> str:
        return f"Self-reported {self.get_substance_display()} use"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A self-report is never edited: record a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A self-report is never deleted.")
