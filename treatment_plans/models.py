"""Treatment plans: problem -> goal -> objective -> intervention, in signed versions.

A plan belongs to one episode of care. Its content lives in versions: a draft is edited, then
submitted for signatures (its content frozen from then on), becomes active when every signer
the program requires has signed, and is superseded by the next version to become active.
A version that is not a draft never changes (the services refuse it; on PostgreSQL triggers
refuse it too: migration 0002). Every content row carries a `lineage` UUID that stays the same
when a revision copies it, so any two versions can be compared item by item.

docs/decisions/0013-treatment-plans.md explains the choices.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from iop.core.models import PublicRecord
from patients.models import Episode, Program


class SignerRole(models.TextChoices):
    PATIENT = "patient", "Patient"
    PRIMARY_CLINICIAN = "primary_clinician", "Primary clinician"
    CLINICAL_SUPERVISOR = "clinical_supervisor", "Clinical supervisor"


class NoteFormat(models.TextChoices):
    DAP = "dap", "DAP (data, assessment, plan)"
    SOAP = "soap", "SOAP (subjective, objective, assessment, plan)"


class PlanSettings(PublicRecord):
    """A program's plan rules (CLINICAL.md section 4). A program without a row uses the defaults
    (`treatment_plans.selectors.plan_settings_for`)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="plan_settings")
    initial_plan_due_days = models.PositiveSmallIntegerField(
        default=7, help_text="The initial plan is due this many days after admission."
    )
    review_interval_days = models.PositiveSmallIntegerField(
        default=30, help_text="An active plan is reviewed at least this often (and after every phase change)."
    )
    requires_patient_signature = models.BooleanField(default=True)
    requires_primary_clinician_signature = models.BooleanField(default=True)
    requires_supervisor_signature = models.BooleanField(default=True)
    # For progress notes (a later part of the issue): the program's note format and when an
    # unsigned note is shown on its author's home page.
    note_format = models.CharField(max_length=4, choices=NoteFormat.choices, default=NoteFormat.DAP)
    unsigned_note_alert_hours = models.PositiveSmallIntegerField(default=24)

    class Meta:
        ordering = ["program"]
        verbose_name_plural = "plan settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_plan_due_days__gte=1, review_interval_days__gte=1),
                name="plan_settings_positive_days",
            ),
            models.CheckConstraint(
                condition=Q(requires_patient_signature=True)
                | Q(requires_primary_clinician_signature=True)
                | Q(requires_supervisor_signature=True),
                name="plan_settings_needs_a_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan settings of {self.program}"

    @property
    def required_signers(self) -> list[str]:
        wanted = [
            (self.requires_patient_signature, SignerRole.PATIENT),
            (self.requires_primary_clinician_signature, SignerRole.PRIMARY_CLINICIAN),
            (self.requires_supervisor_signature, SignerRole.CLINICAL_SUPERVISOR),
        ]
        return [str(role) for needed, role in wanted if needed]


class ServiceType(models.TextChoices):
    GROUP_THERAPY = "group_therapy", "Group therapy"
    INDIVIDUAL_COUNSELLING = "individual_counselling", "Individual counselling"
    FAMILY_SESSION = "family_session", "Family session"
    PSYCHOEDUCATION = "psychoeducation", "Psycho-education group"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse-prevention group"
    SKILL_BUILDING = "skill_building", "Skill building"
    MUTUAL_HELP = "mutual_help", "Mutual-help meetings (12-step, SMART)"
    MEDICATION_MANAGEMENT = "medication_management", "Medication management"
    CASE_MANAGEMENT = "case_management", "Case management"
    DRUG_TESTING = "drug_testing", "Drug and alcohol testing"
    PEER_SUPPORT = "peer_support", "Peer recovery support"
    REFERRAL = "referral", "Referral to another service"
    OTHER = "other", "Other"


class ResponsibleRole(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    CASE_MANAGER = "case_manager", "Case manager"
    MEDICAL = "medical", "Medical staff"
    PEER_SUPPORT = "peer_support", "Peer support"
    PATIENT = "patient", "Patient"


class ProblemTemplate(PublicRecord):
    """A starting point for a problem, never the plan itself: its suggestions are offered in the
    editor, and what goes into a plan is written for the patient."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(help_text="The problem in behavioural terms.")
    asam_dimension = models.PositiveSmallIntegerField(null=True, blank=True)
    suggested_goals = models.JSONField(default=list, blank=True)
    suggested_objectives = models.JSONField(default=list, blank=True)
    suggested_interventions = models.JSONField(
        default=list, blank=True, help_text='[{"service_type", "description", "frequency", "duration"}]'
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class TreatmentPlan(PublicRecord):
    """The plan of one episode of care; its content is in `versions`."""

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="treatment_plan")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    initial_due_on = models.DateField(help_text="Admission date plus the program's initial-plan days.")
    activated_on = models.DateField(null=True, blank=True, help_text="When a first version became active.")
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_due_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["next_review_due_on"])]

    def __str__(self) -> str:
        return f"Treatment plan of episode {self.episode_id}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_SIGNATURES = "awaiting_signatures", "Awaiting signatures"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"


class PlanVersion(PublicRecord):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    change_summary = models.TextField(blank=True, help_text="What this version changes, and why.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    content_digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the content, fixed when submitted for signatures."
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="active"), name="one_active_version_per_plan"
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status__in=["draft", "awaiting_signatures"]),
                name="one_open_version_per_plan",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(content_digest=""),
                name="plan_version_signed_content_has_digest",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(activated_at__isnull=False),
                name="plan_version_active_has_activation_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class PlanItem(PublicRecord):
    """What every content row has: its version (for the immutability rule), its lineage across
    versions (for comparison) and its place."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="%(class)ss")
    lineage = models.UUIDField(default=uuid.uuid4, editable=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True


class Problem(PlanItem):
    template = models.ForeignKey(
        ProblemTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True, help_text="In behavioural terms, from the assessment.")
    asam_dimension = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "lineage"], name="problem_lineage_once_per_version"),
            models.CheckConstraint(
                condition=Q(asam_dimension__isnull=True) | Q(asam_dimension__gte=1, asam_dimension__lte=6),
                name="problem_asam_dimension_1_to_6",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Goal(PlanItem):
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="goals")
    text = models.TextField(help_text="In the patient's own words.")

    class Meta:
        ordering = ["problem", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "lineage"], name="goal_lineage_once_per_version"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class ObjectiveStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    DISCONTINUED = "discontinued", "Discontinued"


class Objective(PlanItem):
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="objectives")
    text = models.TextField(help_text="Specific, measurable, achievable, time-limited.")
    measure = models.CharField(max_length=200, blank=True, help_text="How progress is measured.")
    target_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED
    )
    progress_percent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["goal", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "lineage"], name="objective_lineage_once_per_version"),
            models.CheckConstraint(condition=Q(progress_percent__lte=100), name="objective_progress_percent"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Intervention(PlanItem):
    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="interventions")
    service_type = models.CharField(max_length=30, choices=ServiceType.choices)
    description = models.TextField(blank=True)
    frequency = models.CharField(max_length=80, help_text="e.g. 4 times a week")
    duration = models.CharField(max_length=80, help_text="e.g. 3 hours per session, for 4 weeks")
    responsible_role = models.CharField(max_length=20, choices=ResponsibleRole.choices, blank=True)
    responsible_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["objective", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "lineage"], name="intervention_lineage_once_per_version"
            ),
            models.CheckConstraint(
                condition=~Q(responsible_role="") | Q(responsible_staff__isnull=False),
                name="intervention_has_someone_responsible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} {self.frequency}"


class SignatureMethod(models.TextChoices):
    ELECTRONIC = "electronic", "Signed electronically by the signer"
    WITNESSED_IN_PERSON = "witnessed_in_person", "Signed in person, witnessed by staff"


class Signature(PublicRecord):
    """One signer's signature on a version. Append-only (a trigger on PostgreSQL)."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="signatures")
    signer_role = models.CharField(max_length=20, choices=SignerRole.choices)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who signed (or, for the patient, who witnessed it).",
    )
    signer_name = models.CharField(max_length=160, help_text="The name as signed.")
    method = models.CharField(max_length=20, choices=SignatureMethod.choices)
    signed_at = models.DateTimeField()
    content_digest = models.CharField(max_length=64, help_text="The version's digest the signer saw.")

    class Meta:
        ordering = ["version", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "signer_role"], name="one_signature_per_role_per_version"
            ),
            models.CheckConstraint(
                condition=Q(signer_role="patient", method="witnessed_in_person")
                | (~Q(signer_role="patient") & Q(method="electronic")),
                name="signature_method_fits_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_signer_role_display()}: {self.signer_name}"


class ReviewReason(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled review"
    PHASE_CHANGE = "phase_change", "After a phase change"
    CLINICAL_CHANGE = "clinical_change", "Clinical change"
    PATIENT_REQUEST = "patient_request", "Patient request"


class Review(PublicRecord):
    """A review of the active version: progress on each objective and when to review next."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    reason = models.CharField(max_length=20, choices=ReviewReason.choices, default=ReviewReason.SCHEDULED)
    summary = models.TextField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    next_review_due_on = models.DateField()
    revision_needed = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "-reviewed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_review_due_on__gt=models.F("reviewed_on")), name="review_next_after_this"
            )
        ]

    def __str__(self) -> str:
        return f"Review on {self.reviewed_on}"


class ObjectiveProgress(models.Model):
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="progress")
    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=ObjectiveStatus.choices)
    progress_percent = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["review", "objective"]
        verbose_name_plural = "objective progress"
        constraints = [
            models.UniqueConstraint(
                fields=["review", "objective"], name="objective_progress_once_per_review"
            ),
            models.CheckConstraint(
                condition=Q(progress_percent__lte=100), name="objective_progress_review_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.progress_percent}%)"


class DueKind(models.TextChoices):
    INITIAL_PLAN = "initial_plan", "Initial plan"
    REVIEW = "review", "Plan review"


class PlanDueNotice(PublicRecord):
    """Recorded by the periodic task: an initial plan or review is due (or overdue) for an
    episode. One per episode, kind and due date, so the task is idempotent; `overdue_at` is set
    once, when the due date has passed without the plan or review."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=DueKind.choices)
    due_on = models.DateField()
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overdue_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "kind", "due_on"], name="one_due_notice_per_episode_kind_date"
            )
        ]
        indexes = [models.Index(fields=["responsible", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_on}"


class TransferDirection(models.TextChoices):
    HIGHER = "higher", "Higher level of care"
    LOWER = "lower", "Lower level of care"


class DischargeSummary(PublicRecord):
    """What is written when an episode ends (CLINICAL.md section 6): the TEDS-D reason is on the
    episode (`patients.Episode.discharge_reason`); the transfer, the continuing-care plan and the
    summary are here. Written once, with the discharge; never edited (append-only on PostgreSQL)."""

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="discharge_summary")
    transfer_direction = models.CharField(max_length=10, choices=TransferDirection.choices, blank=True)
    receiving_level = models.CharField(
        max_length=10, blank=True, help_text="ASAM level of the receiving program, e.g. 2.5 or 3.5"
    )
    receiving_program = models.CharField(max_length=160, blank=True)
    aftercare_group = models.CharField(max_length=200, blank=True, help_text="e.g. Tuesday alumni group")
    mutual_help = models.CharField(max_length=200, blank=True, help_text="e.g. AA 3 times a week, SMART")
    follow_up_on = models.DateField(null=True, blank=True)
    follow_up_with = models.CharField(max_length=200, blank=True)
    continuing_care_months = models.PositiveSmallIntegerField(default=6)
    summary = models.TextField(help_text="Course of treatment, progress on the plan, condition at discharge.")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "discharge summaries"
        constraints = [
            models.CheckConstraint(
                condition=Q(transfer_direction="") | ~Q(receiving_level=""),
                name="discharge_transfer_names_the_receiving_level",
            ),
            models.CheckConstraint(
                condition=Q(continuing_care_months__lte=12), name="discharge_continuing_care_up_to_12_months"
            ),
        ]

    def __str__(self) -> str:
        return f"Discharge summary of episode {self.episode_id}"
