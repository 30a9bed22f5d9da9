"""Business events of treatment plans: start, edit a draft, submit, sign, revise, review.

Who may do what (docs/decisions/0013-treatment-plans.md):
- Clinicians write plans (clinical supervisors are clinicians flagged as such), for patients
  they reach through their care team at the site holding the record (or site-wide as a
  supervisor), never through emergency access (`patients.access.require_clinical_write`).
- Only a draft changes. Submitting a draft freezes it (its content digest is fixed) and
  collects signatures; each signer signs the digest they were shown. When every signer the
  program requires has signed, the version becomes active and the previous active version is
  superseded. Editing an active plan starts a new draft copied from it.
- The patient signs in person: the clinician records the patient's signature as witnessed
  (the patient types their legal name on the screen). The primary clinician signature is the
  episode's current primary clinician's; the supervisor's is a clinical supervisor's, and not
  the same person as the clinician who signed.

Audit entries name the fields changed, never the clinical text.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from iop.accounts.models import Role
from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from patients.access import require_clinical_write
from patients.models import CareTeamMember, CareTeamRole, DischargeReason, Episode, EpisodeStatus
from patients.services.auditing import audit_patient_change
from patients.services.consents import signature_matches
from patients.services.discharge import discharge_episode
from patients.services.programs import require_program_admin
from treatment_plans import rules
from treatment_plans.models import (
    DischargeSummary,
    DueKind,
    Goal,
    Intervention,
    Objective,
    ObjectiveProgress,
    ObjectiveStatus,
    PlanDueNotice,
    PlanSettings,
    PlanVersion,
    Problem,
    ProblemTemplate,
    Review,
    ReviewReason,
    ServiceType,
    Signature,
    SignatureMethod,
    SignerRole,
    TransferDirection,
    TreatmentPlan,
    VersionStatus,
)
from treatment_plans.selectors import (
    episodes_needing_notices,
    latest_progress,
    plan_settings_for,
    version_items,
    version_tree,
)

PLAN_WRITER_ROLES = frozenset({Role.CLINICIAN})

# What a draft's items accept (the rest of a row is structure: version, lineage, parent).
EDITABLE_FIELDS = {
    Problem: ("title", "description", "asam_dimension", "order"),
    Goal: ("text", "order"),
    Objective: ("text", "measure", "target_date", "status", "progress_percent", "order"),
    Intervention: (
        "service_type",
        "description",
        "frequency",
        "duration",
        "responsible_role",
        "responsible_staff",
        "order",
    ),
}


def may_write_plans(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in PLAN_WRITER_ROLES)


def may_sign_as_supervisor(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.is_clinical_supervisor)


def _require_writer(actor, patient, what: str) -> None:
    require_role(actor, PLAN_WRITER_ROLES, what)
    require_clinical_write(actor, patient, allow_break_glass=False, what=what)


def _patient_of(version: PlanVersion):
    return version.plan.episode.patient


def _audit(actor, action, obj, patient, *, changed_fields=(), reason: str = "") -> None:
    audit_patient_change(actor, action, obj, patient, changed_fields=changed_fields, reason=reason)


def _locked_draft(version: PlanVersion) -> PlanVersion:
    """The version, locked; refused unless it is a draft."""
    locked = (
        PlanVersion.objects.select_for_update().select_related("plan__episode__patient").get(pk=version.pk)
    )
    if locked.status != VersionStatus.DRAFT:
        raise ValidationError(
            f"Version {locked.number} is {locked.get_status_display().lower()}: it never changes. "
            "Start a revision to change the plan."
        )
    return locked


# --- Starting a plan ------------------------------------------------------------------------


@transaction.atomic
def start_plan(*, actor, episode: Episode, template_keys=()) -> TreatmentPlan:
    """Create the episode's plan with a first draft, with a problem for each template chosen."""
    episode = Episode.objects.select_for_update().select_related("patient", "program").get(pk=episode.pk)
    _require_writer(actor, episode.patient, "write a treatment plan")
    if episode.status != EpisodeStatus.ACTIVE:
        raise ValidationError("This episode has ended: its plan can no longer be started.")
    if TreatmentPlan.objects.filter(episode=episode).exists():
        raise ValidationError("This episode already has a treatment plan.")
    settings = plan_settings_for(episode.program)
    plan = TreatmentPlan.objects.create(
        episode=episode,
        created_by=actor,
        initial_due_on=rules.initial_plan_due_on(episode.admitted_on, settings.initial_plan_due_days),
    )
    version = PlanVersion.objects.create(plan=plan, number=1, created_by=actor)
    _audit(actor, AuditAction.CREATE, plan, episode.patient, changed_fields=["episode", "initial_due_on"])
    templates = {
        t.key: t for t in ProblemTemplate.objects.filter(key__in=list(template_keys), is_active=True)
    }
    unknown = set(template_keys) - set(templates)
    if unknown:
        raise ValidationError({"templates": f"Unknown problem templates: {', '.join(sorted(unknown))}."})
    for order, key in enumerate(template_keys):
        _create_problem(actor, version, template=templates[key], order=order)
    return plan


def _create_problem(
    actor, version, *, template=None, title="", description="", asam_dimension=None, order=None
):
    if template is not None:
        title = title or template.name
        description = description or template.description
        asam_dimension = asam_dimension or template.asam_dimension
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Name the problem."})
    if asam_dimension is not None and not 1 <= int(asam_dimension) <= 6:
        raise ValidationError({"asam_dimension": "An ASAM dimension is 1 to 6."})
    if order is None:
        order = Problem.objects.filter(version=version).count()
    problem = Problem.objects.create(
        version=version,
        template=template,
        title=title,
        description=(description or "").strip(),
        asam_dimension=asam_dimension,
        order=order,
    )
    _audit(actor, AuditAction.CREATE, problem, _patient_of(version), changed_fields=["title", "description"])
    return problem


# --- Editing a draft ------------------------------------------------------------------------


@transaction.atomic
def add_problem(
    *,
    actor,
    version: PlanVersion,
    template: ProblemTemplate | None = None,
    title="",
    description="",
    asam_dimension=None,
) -> Problem:
    version = _locked_draft(version)
    _require_writer(actor, _patient_of(version), "edit a treatment plan")
    return _create_problem(
        actor, version, template=template, title=title, description=description, asam_dimension=asam_dimension
    )


def _clean_text(value, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


@transaction.atomic
def add_goal(*, actor, problem: Problem, text: str) -> Goal:
    version = _locked_draft(problem.version)
    _require_writer(actor, _patient_of(version), "edit a treatment plan")
    text = _clean_text(text, "text", "Write the goal in the patient's own words.")
    goal = Goal.objects.create(version=version, problem=problem, text=text, order=problem.goals.count())
    _audit(actor, AuditAction.CREATE, goal, _patient_of(version), changed_fields=["text"])
    return goal


def _check_objective(fields: dict) -> None:
    errors = {}
    if "text" in fields and not (fields["text"] or "").strip():
        errors["text"] = "Describe what the patient will do, measurably."
    if "target_date" in fields and fields["target_date"] is None:
        errors["target_date"] = "Give a target date."
    if "status" in fields and fields["status"] not in ObjectiveStatus.values:
        errors["status"] = "Choose a status."
    percent = fields.get("progress_percent")
    if percent is not None and not 0 <= int(percent) <= 100:
        errors["progress_percent"] = "Progress is a percentage, 0 to 100."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def add_objective(
    *,
    actor,
    goal: Goal,
    text: str,
    target_date: date,
    measure: str = "",
    status: str = ObjectiveStatus.NOT_STARTED,
    progress_percent: int = 0,
) -> Objective:
    version = _locked_draft(goal.version)
    _require_writer(actor, _patient_of(version), "edit a treatment plan")
    fields = {
        "text": text,
        "target_date": target_date,
        "status": status,
        "progress_percent": progress_percent,
    }
    _check_objective(fields)
    objective = Objective.objects.create(
        version=version,
        goal=goal,
        text=text.strip(),
        measure=(measure or "").strip(),
        target_date=target_date,
        status=status,
        progress_percent=progress_percent or 0,
        order=goal.objectives.count(),
    )
    _audit(actor, AuditAction.CREATE, objective, _patient_of(version), changed_fields=sorted(fields))
    return objective


def _check_intervention(fields: dict) -> None:
    errors = {}
    if "service_type" in fields and fields["service_type"] not in ServiceType.values:
        errors["service_type"] = "Choose a service type."
    for name, message in (("frequency", "How often (e.g. 4 times a week)."), ("duration", "How long.")):
        if name in fields and not (fields[name] or "").strip():
            errors[name] = message
    if not fields.get("responsible_role") and not fields.get("responsible_staff"):
        errors["responsible_role"] = "Name the role or the staff member responsible."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def add_intervention(
    *,
    actor,
    objective: Objective,
    service_type: str,
    frequency: str,
    duration: str,
    description: str = "",
    responsible_role: str = "",
    responsible_staff=None,
) -> Intervention:
    version = _locked_draft(objective.version)
    _require_writer(actor, _patient_of(version), "edit a treatment plan")
    fields = {
        "service_type": service_type,
        "frequency": frequency,
        "duration": duration,
        "responsible_role": responsible_role,
        "responsible_staff": responsible_staff,
    }
    _check_intervention(fields)
    intervention = Intervention.objects.create(
        version=version,
        objective=objective,
        service_type=service_type,
        description=(description or "").strip(),
        frequency=frequency.strip(),
        duration=duration.strip(),
        responsible_role=responsible_role or "",
        responsible_staff=responsible_staff,
        order=objective.interventions.count(),
    )
    _audit(actor, AuditAction.CREATE, intervention, _patient_of(version), changed_fields=sorted(fields))
    return intervention


@transaction.atomic
def update_item(*, actor, item, changes: dict):
    """Change fields of a draft's problem, goal, objective or intervention."""
    version = _locked_draft(item.version)
    _require_writer(actor, _patient_of(version), "edit a treatment plan")
    allowed = EDITABLE_FIELDS[type(item)]
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    item = type(item).objects.select_for_update().get(pk=item.pk)
    if isinstance(item, Objective):
        _check_objective(changes)
    if isinstance(item, Intervention):
        _check_intervention(
            {**{name: getattr(item, name) for name in ("responsible_role", "responsible_staff")}, **changes}
        )
    if isinstance(item, Goal) and "text" in changes:
        _clean_text(changes["text"], "text", "Write the goal in the patient's own words.")
    if isinstance(item, Problem) and "title" in changes:
        _clean_text(changes["title"], "title", "Name the problem.")
    changed = []
    for name, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.append(name)
    if changed:
        item.save(update_fields=[*changed, "updated_at"])
        _audit(actor, AuditAction.UPDATE, item, _patient_of(version), changed_fields=changed)
    return item


@transaction.atomic
def remove_item(*, actor, item) -> None:
    """Remove a draft's item and everything under it (a draft is work in progress: nothing signed
    is lost; earlier versions keep their copies)."""
    version = _locked_draft(item.version)
    patient = _patient_of(version)
    _require_writer(actor, patient, "edit a treatment plan")
    interventions = Intervention.objects.filter(version=version)
    objectives = Objective.objects.filter(version=version)
    goals = Goal.objects.filter(version=version)
    if isinstance(item, Problem):
        interventions.filter(objective__goal__problem=item).delete()
        objectives.filter(goal__problem=item).delete()
        goals.filter(problem=item).delete()
    elif isinstance(item, Goal):
        interventions.filter(objective__goal=item).delete()
        objectives.filter(goal=item).delete()
    elif isinstance(item, Objective):
        interventions.filter(objective=item).delete()
    _audit(actor, AuditAction.DELETE, item, patient)
    type(item).objects.filter(pk=item.pk).delete()


# --- Submitting and signing -----------------------------------------------------------------


def content_digest(version: PlanVersion) -> str:
    """SHA-256 of the version's content (its items in plan order): what the signers sign."""
    return rules.digest_of(version_items(version))


def completeness_problems(version: PlanVersion) -> list[str]:
    """What a draft lacks before it can be signed: every problem needs a goal, every goal an
    objective, every objective an intervention."""
    missing = []
    tree = version_tree(version)
    if not tree:
        missing.append("The plan has no problems.")
    for problem in tree:
        goals = list(problem.goals.all())
        if not goals:
            missing.append(f"Problem \u201c{problem.title}\u201d has no goal.")
        for goal in goals:
            objectives = list(goal.objectives.all())
            if not objectives:
                missing.append(f"A goal of \u201c{problem.title}\u201d has no objective.")
            for objective in objectives:
                if not objective.interventions.all():
                    missing.append(f"An objective of \u201c{problem.title}\u201d has no intervention.")
    return missing


@transaction.atomic
def submit_for_signatures(*, actor, version: PlanVersion, change_summary: str | None = None) -> PlanVersion:
    version = _locked_draft(version)
    patient = _patient_of(version)
    _require_writer(actor, patient, "submit a treatment plan for signatures")
    missing = completeness_problems(version)
    if missing:
        raise ValidationError(missing)
    changed = ["status", "submitted_at", "content_digest"]
    if change_summary is not None:
        version.change_summary = change_summary.strip()
        changed.append("change_summary")
    if version.number > 1 and not version.change_summary:
        raise ValidationError({"change_summary": "Say what this version changes, and why."})
    version.content_digest = content_digest(version)
    version.status = VersionStatus.AWAITING_SIGNATURES
    version.submitted_at = timezone.now()
    version.save(update_fields=[*changed, "updated_at"])
    _audit(actor, AuditAction.UPDATE, version, patient, changed_fields=changed)
    return version


def signed_roles(version: PlanVersion) -> list[str]:
    return list(version.signatures.values_list("signer_role", flat=True))


def _primary_clinician_id(episode: Episode) -> int | None:
    return (
        CareTeamMember.objects.filter(
            episode=episode, role=CareTeamRole.PRIMARY_CLINICIAN, ended_on__isnull=True
        )
        .values_list("user_id", flat=True)
        .first()
    )


def _staff_name(user) -> str:
    name = user.get_full_name() or user.username
    return f"{name}, {user.credentials}" if user.credentials else name


@transaction.atomic
def sign_version(
    *,
    actor,
    version: PlanVersion,
    signer_role: str,
    content_digest_shown: str,
    patient_typed_name: str = "",
) -> Signature:
    """Record one signature; activate the version when every required signer has signed."""
    version = (
        PlanVersion.objects.select_for_update()
        .select_related("plan__episode__patient", "plan__episode__program")
        .get(pk=version.pk)
    )
    episode = version.plan.episode
    patient = episode.patient
    require_clinical_write(actor, patient, allow_break_glass=False, what="sign a treatment plan")
    if version.status != VersionStatus.AWAITING_SIGNATURES:
        raise ValidationError(
            f"Version {version.number} is {version.get_status_display().lower()}: only a version awaiting "
            "signatures is signed."
        )
    if (content_digest_shown or "").strip().lower() != version.content_digest:
        raise ValidationError(
            "The plan shown is not the version awaiting signatures. Reload it and sign again."
        )
    required = plan_settings_for(episode.program).required_signers
    if signer_role not in SignerRole.values:
        raise ValidationError({"signer_role": "Choose who is signing."})
    if signer_role not in required:
        raise ValidationError({"signer_role": "This program does not ask for that signature."})
    if version.signatures.filter(signer_role=signer_role).exists():
        raise ValidationError({"signer_role": "This version already has that signature."})
    staff_signers = set(
        version.signatures.exclude(signer_role=SignerRole.PATIENT).values_list("signed_by_id", flat=True)
    )
    if signer_role == SignerRole.PATIENT:
        require_role(actor, PLAN_WRITER_ROLES, "record the patient's signature on a plan")
        if not signature_matches(patient, patient_typed_name or ""):
            raise ValidationError(
                {
                    "patient_typed_name": "The patient types their legal name "
                    f"({patient.legal_first_name} {patient.legal_last_name}); case and spacing do not matter."
                }
            )
        method, signer_name = SignatureMethod.WITNESSED_IN_PERSON, " ".join(patient_typed_name.split())
    elif signer_role == SignerRole.PRIMARY_CLINICIAN:
        if not actor.is_superuser and _primary_clinician_id(episode) != actor.pk:
            raise PermissionError("Only the patient's primary clinician signs as primary clinician.")
        if actor.pk in staff_signers:
            raise ValidationError("You have already signed this version in another role.")
        method, signer_name = SignatureMethod.ELECTRONIC, _staff_name(actor)
    else:
        if not may_sign_as_supervisor(actor):
            raise PermissionError("Only a clinical supervisor co-signs a treatment plan.")
        if actor.pk in staff_signers:
            raise ValidationError(
                "The supervisor's co-signature must come from someone other than the clinician."
            )
        method, signer_name = SignatureMethod.ELECTRONIC, _staff_name(actor)
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                version=version,
                signer_role=signer_role,
                signed_by=actor,
                signer_name=signer_name,
                method=method,
                signed_at=timezone.now(),
                content_digest=version.content_digest,
            )
    except IntegrityError as error:
        raise ValidationError("This version already has that signature.") from error
    _audit(
        actor, AuditAction.CREATE, signature, patient, changed_fields=["signer_role", "method", "signed_at"]
    )
    if not rules.missing_signers(required, signed_roles(version)):
        _activate(actor, version)
    return signature


def _activate(actor, version: PlanVersion) -> None:
    plan = (
        TreatmentPlan.objects.select_for_update()
        .select_related("episode__program", "episode__patient")
        .get(pk=version.plan_id)
    )
    now = timezone.now()
    today = timezone.localdate()
    for previous in PlanVersion.objects.filter(plan=plan, status=VersionStatus.ACTIVE):
        previous.status, previous.superseded_at = VersionStatus.SUPERSEDED, now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
        _audit(
            actor,
            AuditAction.UPDATE,
            previous,
            plan.episode.patient,
            changed_fields=["status", "superseded_at"],
        )
    version.status, version.activated_at = VersionStatus.ACTIVE, now
    version.save(update_fields=["status", "activated_at", "updated_at"])
    settings = plan_settings_for(plan.episode.program)
    changed = ["next_review_due_on"]
    if plan.activated_on is None:
        plan.activated_on = today
        changed.append("activated_on")
    plan.next_review_due_on = rules.next_review_due_on(today, settings.review_interval_days)
    plan.save(update_fields=[*changed, "updated_at"])
    PlanDueNotice.objects.filter(episode=plan.episode, resolved_at__isnull=True).update(resolved_at=now)
    _audit(
        actor, AuditAction.UPDATE, version, plan.episode.patient, changed_fields=["status", "activated_at"]
    )


# --- Revising -------------------------------------------------------------------------------


@transaction.atomic
def start_revision(*, actor, plan: TreatmentPlan, change_summary: str = "") -> PlanVersion:
    """A new draft copied from the active version (or from the version awaiting signatures, which
    is then superseded without ever becoming active). Copies keep their lineage."""
    plan = TreatmentPlan.objects.select_for_update().select_related("episode__patient").get(pk=plan.pk)
    patient = plan.episode.patient
    _require_writer(actor, patient, "revise a treatment plan")
    if plan.episode.status != EpisodeStatus.ACTIVE:
        raise ValidationError("This episode has ended: its plan is no longer revised.")
    versions = list(PlanVersion.objects.filter(plan=plan).order_by("-number"))
    if any(v.status == VersionStatus.DRAFT for v in versions):
        raise ValidationError("This plan already has a draft: edit it.")
    awaiting = next((v for v in versions if v.status == VersionStatus.AWAITING_SIGNATURES), None)
    source = awaiting or next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    if source is None:
        raise ValidationError("There is no version to revise.")
    if awaiting is not None:
        awaiting.status, awaiting.superseded_at = VersionStatus.SUPERSEDED, timezone.now()
        awaiting.save(update_fields=["status", "superseded_at", "updated_at"])
        _audit(actor, AuditAction.UPDATE, awaiting, patient, changed_fields=["status", "superseded_at"])
    draft = PlanVersion.objects.create(
        plan=plan,
        number=versions[0].number + 1,
        based_on=source,
        created_by=actor,
        change_summary=(change_summary or "").strip(),
    )
    _copy_content(source, draft, progress=latest_progress(plan))
    _audit(actor, AuditAction.CREATE, draft, patient, changed_fields=["number", "based_on"])
    return draft


def _copy_content(source: PlanVersion, draft: PlanVersion, *, progress: dict) -> None:
    for problem in version_tree(source):
        new_problem = Problem.objects.create(
            version=draft,
            lineage=problem.lineage,
            order=problem.order,
            template=problem.template,
            title=problem.title,
            description=problem.description,
            asam_dimension=problem.asam_dimension,
        )
        for goal in problem.goals.all():
            new_goal = Goal.objects.create(
                version=draft, lineage=goal.lineage, order=goal.order, problem=new_problem, text=goal.text
            )
            for objective in goal.objectives.all():
                reviewed = progress.get(objective.lineage)
                new_objective = Objective.objects.create(
                    version=draft,
                    lineage=objective.lineage,
                    order=objective.order,
                    goal=new_goal,
                    text=objective.text,
                    measure=objective.measure,
                    target_date=objective.target_date,
                    status=reviewed.status if reviewed else objective.status,
                    progress_percent=reviewed.progress_percent if reviewed else objective.progress_percent,
                )
                Intervention.objects.bulk_create(
                    Intervention(
                        version=draft,
                        lineage=i.lineage,
                        order=i.order,
                        objective=new_objective,
                        service_type=i.service_type,
                        description=i.description,
                        frequency=i.frequency,
                        duration=i.duration,
                        responsible_role=i.responsible_role,
                        responsible_staff=i.responsible_staff,
                    )
                    for i in objective.interventions.all()
                )


# --- Reviews --------------------------------------------------------------------------------


@transaction.atomic
def record_review(
    *,
    actor,
    plan: TreatmentPlan,
    reviewed_on: date,
    summary: str,
    progress: dict,
    reason: str = ReviewReason.SCHEDULED,
    revision_needed: bool = False,
) -> Review:
    """Review the active version: `progress` maps each objective's public_id to
    {"status", "progress_percent", "note"}; every objective of the active version is reviewed."""
    plan = (
        TreatmentPlan.objects.select_for_update()
        .select_related("episode__patient", "episode__program")
        .get(pk=plan.pk)
    )
    patient = plan.episode.patient
    _require_writer(actor, patient, "review a treatment plan")
    active = PlanVersion.objects.filter(plan=plan, status=VersionStatus.ACTIVE).first()
    if active is None:
        raise ValidationError("A plan is reviewed once a version is active (signed).")
    errors = {}
    if reviewed_on is None or reviewed_on > timezone.localdate():
        errors["reviewed_on"] = "The review date cannot be in the future."
    elif reviewed_on < active.activated_at.date():
        errors["reviewed_on"] = "The review date cannot be before the version became active."
    if reason not in ReviewReason.values:
        errors["reason"] = "Choose why the plan is reviewed."
    if not (summary or "").strip():
        errors["summary"] = "Summarize the patient's progress."
    objectives = list(Objective.objects.filter(version=active))
    by_id = {str(o.public_id): o for o in objectives}
    given = {str(k): v for k, v in (progress or {}).items()}
    if set(given) - set(by_id):
        errors["progress"] = "Progress was given for an objective that is not in the active version."
    elif set(by_id) - set(given):
        errors["progress"] = "Record progress on every objective of the active version."
    rows = []
    for key, values in given.items():
        objective = by_id.get(key)
        if objective is None:
            continue
        status, percent = values.get("status"), values.get("progress_percent")
        if status not in ObjectiveStatus.values or percent is None or not 0 <= int(percent) <= 100:
            errors["progress"] = "Each objective needs a status and a progress percentage (0 to 100)."
            continue
        rows.append((objective, status, int(percent), (values.get("note") or "").strip()))
    if errors:
        raise ValidationError(errors)
    settings = plan_settings_for(plan.episode.program)
    review = Review.objects.create(
        plan=plan,
        version=active,
        reviewed_on=reviewed_on,
        reason=reason,
        summary=summary.strip(),
        reviewed_by=actor,
        next_review_due_on=rules.next_review_due_on(reviewed_on, settings.review_interval_days),
        revision_needed=revision_needed,
    )
    ObjectiveProgress.objects.bulk_create(
        ObjectiveProgress(review=review, objective=o, status=s, progress_percent=p, note=n)
        for o, s, p, n in rows
    )
    if plan.last_reviewed_on is None or reviewed_on >= plan.last_reviewed_on:
        plan.last_reviewed_on = reviewed_on
        plan.next_review_due_on = review.next_review_due_on
        plan.save(update_fields=["last_reviewed_on", "next_review_due_on", "updated_at"])
    PlanDueNotice.objects.filter(
        episode=plan.episode,
        kind=DueKind.REVIEW,
        resolved_at__isnull=True,
        due_on__lte=review.next_review_due_on,
    ).update(resolved_at=timezone.now())
    _audit(
        actor,
        AuditAction.CREATE,
        review,
        patient,
        changed_fields=["reviewed_on", "reason", "summary", "progress"],
    )
    return review


# --- Due and overdue (the periodic task) -----------------------------------------------------


@transaction.atomic
def record_due_notices(*, today: date) -> dict[str, int]:
    """Record an initial plan or review due (or overdue) for every active episode, once per
    episode, kind and due date; mark a notice overdue once, the day after its due date.
    Idempotent: unique constraint and compare-and-set. Returns counts. Not audited: it reads no
    chart and changes no clinical record."""
    found = episodes_needing_notices(today=today)
    before = PlanDueNotice.objects.count()
    PlanDueNotice.objects.bulk_create(
        [
            PlanDueNotice(episode=episode, kind=kind, due_on=due_on, responsible_id=user_id)
            for episode, kind, due_on, user_id in found
        ],
        ignore_conflicts=True,
    )
    now = timezone.now()
    overdue = PlanDueNotice.objects.filter(
        resolved_at__isnull=True, overdue_at__isnull=True, due_on__lt=today
    ).update(overdue_at=now)
    return {"due": len(found), "new": PlanDueNotice.objects.count() - before, "overdue": overdue}


# --- Discharge ------------------------------------------------------------------------------


@transaction.atomic
def discharge_patient(
    *,
    actor,
    episode: Episode,
    discharged_on: date,
    reason: str,
    summary: str,
    transfer_direction: str = "",
    receiving_level: str = "",
    receiving_program: str = "",
    aftercare_group: str = "",
    mutual_help: str = "",
    follow_up_on: date | None = None,
    follow_up_with: str = "",
    continuing_care_months: int = 6,
) -> DischargeSummary:
    """End the episode (`patients.services.discharge.discharge_episode`, TEDS-D reason) and write
    its discharge summary and continuing-care plan, in one transaction."""
    errors = {}
    transferred = reason == DischargeReason.TRANSFERRED
    if transferred and transfer_direction not in TransferDirection.values:
        errors["transfer_direction"] = "A transfer says whether it is to a higher or a lower level of care."
    if transferred and not (receiving_level or "").strip():
        errors["receiving_level"] = "Name the receiving ASAM level (e.g. 2.5, 3.5)."
    if not transferred and (transfer_direction or (receiving_level or "").strip()):
        errors["transfer_direction"] = "Only a transfer (reason 4) has a direction and a receiving level."
    if not (summary or "").strip():
        errors["summary"] = "Write the discharge summary."
    if continuing_care_months is None or not 0 <= int(continuing_care_months) <= 12:
        errors["continuing_care_months"] = "Continuing care is 0 to 12 months."
    if follow_up_on is not None and discharged_on is not None and follow_up_on < discharged_on:
        errors["follow_up_on"] = "The follow-up appointment comes after the discharge."
    if errors:
        raise ValidationError(errors)
    episode = discharge_episode(actor=actor, episode=episode, discharged_on=discharged_on, reason=reason)
    record = DischargeSummary.objects.create(
        episode=episode,
        transfer_direction=transfer_direction or "",
        receiving_level=(receiving_level or "").strip(),
        receiving_program=(receiving_program or "").strip(),
        aftercare_group=(aftercare_group or "").strip(),
        mutual_help=(mutual_help or "").strip(),
        follow_up_on=follow_up_on,
        follow_up_with=(follow_up_with or "").strip(),
        continuing_care_months=int(continuing_care_months),
        summary=summary.strip(),
        written_by=actor,
    )
    PlanDueNotice.objects.filter(episode=episode, resolved_at__isnull=True).update(resolved_at=timezone.now())
    _audit(
        actor,
        AuditAction.CREATE,
        record,
        episode.patient,
        changed_fields=["summary", "continuing_care", *(["transfer"] if transferred else [])],
    )
    return record


# --- Program plan settings -------------------------------------------------------------------

PLAN_SETTINGS_FIELDS = (
    "initial_plan_due_days",
    "review_interval_days",
    "requires_patient_signature",
    "requires_primary_clinician_signature",
    "requires_supervisor_signature",
    "note_format",
    "unsigned_note_alert_hours",
)


@transaction.atomic
def update_plan_settings(*, actor, program, changes: dict) -> PlanSettings:
    """Set a program's plan rules (admins). Creates the row on first save (defaults until then)."""
    require_program_admin(actor)
    errors = {}
    for name in ("initial_plan_due_days", "review_interval_days"):
        if name in changes and (changes[name] is None or int(changes[name]) < 1):
            errors[name] = "At least 1 day."
    settings, _ = PlanSettings.objects.select_for_update().get_or_create(program=program)
    signers = [
        changes.get(name, getattr(settings, name))
        for name in (
            "requires_patient_signature",
            "requires_primary_clinician_signature",
            "requires_supervisor_signature",
        )
    ]
    if not any(signers):
        errors["requires_primary_clinician_signature"] = "A plan needs at least one signer."
    if errors:
        raise ValidationError(errors)
    changed = [n for n in PLAN_SETTINGS_FIELDS if n in changes and getattr(settings, n) != changes[n]]
    for name in changed:
        setattr(settings, name, changes[name])
    if changed:
        settings.save(update_fields=[*changed, "updated_at"])
        record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=settings._meta.label_lower,
            object_id=settings.public_id,
            changed_fields=changed,
        )
    return settings
