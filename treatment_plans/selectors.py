"""Reads of plans. Callers have already reached the patient through `patients.access` (a page or
endpoint under the patient's id); the home-page card scopes itself to the user's own care teams."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from patients.models import CareTeamMember, CareTeamRole, Episode, EpisodeStatus, Patient, Program
from patients.selectors.screening import asam_history, instrument_history
from treatment_plans import rules
from treatment_plans.models import (
    DischargeSummary,
    Goal,
    Intervention,
    Objective,
    ObjectiveProgress,
    PlanSettings,
    PlanVersion,
    Problem,
    ProblemTemplate,
    Review,
    Signature,
    TreatmentPlan,
    VersionStatus,
)

ITEM_MODELS = {"problem": Problem, "goal": Goal, "objective": Objective, "intervention": Intervention}
# The fields of each kind compared between versions and shown side by side.
COMPARED_FIELDS = {
    "problem": ["title", "description", "asam_dimension"],
    "goal": ["text"],
    "objective": ["text", "measure", "target_date", "status", "progress_percent"],
    "intervention": [
        "service_type",
        "description",
        "frequency",
        "duration",
        "responsible_role",
        "responsible_staff",
    ],
}


def plan_settings_for(program: Program) -> PlanSettings:
    """The program's plan settings, or the defaults when the program has none saved."""
    found = PlanSettings.objects.filter(program=program).first()
    return found or PlanSettings(program=program)


def problem_templates() -> QuerySet[ProblemTemplate]:
    return ProblemTemplate.objects.filter(is_active=True)


def discharge_of(episode: Episode | None) -> DischargeSummary | None:
    if episode is None:
        return None
    return DischargeSummary.objects.filter(episode=episode).select_related("written_by").first()


def plan_of(episode: Episode | None) -> TreatmentPlan | None:
    if episode is None:
        return None
    return TreatmentPlan.objects.filter(episode=episode).select_related("episode__program").first()


def versions_of(plan: TreatmentPlan) -> QuerySet[PlanVersion]:
    return plan.versions.select_related("created_by").prefetch_related(
        Prefetch("signatures", queryset=Signature.objects.select_related("signed_by"))
    )


def get_version(plan: TreatmentPlan, public_id) -> PlanVersion | None:
    return versions_of(plan).filter(public_id=public_id).first()


def get_item(patient: Patient, kind: str, public_id):
    """A content row of one of `patient`'s plans, or None (never another patient's)."""
    model = ITEM_MODELS.get(kind)
    if model is None:
        return None
    return (
        model.objects.select_related("version__plan__episode__patient")
        .filter(public_id=public_id, version__plan__episode__patient=patient)
        .first()
    )


def open_version(plan: TreatmentPlan) -> PlanVersion | None:
    return (
        versions_of(plan).filter(status__in=[VersionStatus.DRAFT, VersionStatus.AWAITING_SIGNATURES]).first()
    )


def active_version(plan: TreatmentPlan) -> PlanVersion | None:
    return versions_of(plan).filter(status=VersionStatus.ACTIVE).first()


def version_tree(version: PlanVersion) -> list[Problem]:
    """The version's problems with goals, objectives and interventions (5 queries at most)."""
    return list(
        Problem.objects.filter(version=version)
        .select_related("template")
        .prefetch_related(
            Prefetch(
                "goals",
                queryset=Goal.objects.prefetch_related(
                    Prefetch(
                        "objectives",
                        queryset=Objective.objects.prefetch_related(
                            Prefetch(
                                "interventions",
                                queryset=Intervention.objects.select_related("responsible_staff"),
                            )
                        ),
                    )
                ),
            )
        )
    )


def _value(item, name: str):
    if name == "responsible_staff":
        staff = item.responsible_staff
        return staff.get_full_name() or staff.username if staff else ""
    value = getattr(item, name)
    display = getattr(item, f"get_{name}_display", None)
    return display() if display and value else value


def version_items(version: PlanVersion) -> list[rules.Item]:
    """The version's content as plain items for `rules.diff_versions`."""
    items = []
    for p_index, problem in enumerate(version_tree(version)):
        items.append(plan_item("problem", problem, None, (p_index,)))
        for goal in problem.goals.all():
            items.append(plan_item("goal", goal, problem.lineage, (goal.order, goal.pk)))
            for objective in goal.objectives.all():
                items.append(plan_item("objective", objective, goal.lineage, (objective.order, objective.pk)))
                for intervention in objective.interventions.all():
                    order = (intervention.order, intervention.pk)
                    items.append(plan_item("intervention", intervention, objective.lineage, order))
    return items


def plan_item(kind: str, row, parent, order) -> rules.Item:
    """One content row as a plain item (the demo builds them in memory, the same way)."""
    fields = {name: _value(row, name) for name in COMPARED_FIELDS[kind]}
    return rules.Item(kind, str(row.lineage), str(parent) if parent else None, fields, order)


def compare_versions(old: PlanVersion, new: PlanVersion) -> list[rules.DiffRow]:
    return rules.diff_versions(version_items(old), version_items(new))


def latest_progress(plan: TreatmentPlan) -> dict:
    """Objective lineage -> the most recent review's progress on it."""
    rows = (
        ObjectiveProgress.objects.filter(review__plan=plan)
        .select_related("objective", "review")
        .order_by("review__reviewed_on", "review__id")
    )
    return {row.objective.lineage: row for row in rows}


def reviews_of(plan: TreatmentPlan) -> QuerySet[Review]:
    return plan.reviews.select_related("reviewed_by", "version")


def intake_suggestions(patient: Patient) -> list[dict]:
    """The problem templates the patient's latest intake results suggest, with the reason."""
    phq9 = instrument_history(patient, "phq-9").first()
    gad7 = instrument_history(patient, "gad-7").first()
    asam = asam_history(patient).first()
    suggestions = rules.suggest_problems(
        phq9=phq9.total if phq9 else None,
        gad7=gad7.total if gad7 else None,
        asam_ratings={str(k): v for k, v in (asam.ratings or {}).items()} if asam else None,
    )
    templates = {t.key: t for t in problem_templates()}
    return [
        {"template": templates[s.template_key], "reason": s.reason}
        for s in suggestions
        if s.template_key in templates
    ]


@dataclass(frozen=True)
class DueRow:
    episode: Episode
    patient: Patient
    kind: str  # "initial_plan" or "review"
    due_on: date
    state: str  # "overdue", "due", "upcoming"


def _next_due(episode: Episode, settings_by_program: dict) -> tuple[str, date | None]:
    """What is due next for an episode (its `treatment_plan` prefetched): the initial plan until a
    first version is active, then the next review."""
    plan = getattr(episode, "treatment_plan", None)
    if plan is not None and plan.activated_on is not None:
        return "review", plan.next_review_due_on
    if plan is not None:
        return "initial_plan", plan.initial_due_on
    settings = settings_by_program.get(episode.program_id) or PlanSettings()
    return "initial_plan", rules.initial_plan_due_on(episode.admitted_on, settings.initial_plan_due_days)


def _primary_episodes(user) -> QuerySet[Episode]:
    """Active episodes at the user's sites whose current primary clinician is `user` (care-team
    membership counts only at the user's current sites, as in `patients.access`)."""
    mine = CareTeamMember.objects.filter(
        episode=OuterRef("pk"), user=user, role=CareTeamRole.PRIMARY_CLINICIAN, ended_on__isnull=True
    )
    return Episode.objects.filter(
        Exists(mine), status=EpisodeStatus.ACTIVE, site__in=user.sites.all()
    ).select_related("patient", "program")


def plans_due_for(user, *, today: date, limit: int = 20) -> list[DueRow]:
    """Initial plans and reviews due within a few days or overdue, for the patients whose primary
    clinician `user` is (their own care teams: within what they may see). Three queries."""
    if not user.is_authenticated:
        return []
    horizon = today.toordinal() + rules.DUE_SOON_DAYS
    episodes = list(
        _primary_episodes(user).prefetch_related(
            Prefetch("treatment_plan", queryset=TreatmentPlan.objects.all()),
        )
    )
    settings_by_program = {
        s.program_id: s for s in PlanSettings.objects.filter(program_id__in={e.program_id for e in episodes})
    }
    rows = []
    for episode in episodes:
        kind, due_on = _next_due(episode, settings_by_program)
        if due_on is None or due_on.toordinal() > horizon:
            continue
        rows.append(DueRow(episode, episode.patient, kind, due_on, rules.due_state(due_on, today)))
    rows.sort(key=lambda row: (row.due_on, row.patient.legal_last_name))
    return rows[:limit]


def episodes_needing_notices(*, today: date) -> list[tuple[Episode, str, date, int | None]]:
    """Every active episode whose initial plan or review is due today or overdue, with its primary
    clinician's id: what the periodic task records."""
    primary = CareTeamMember.objects.filter(
        role=CareTeamRole.PRIMARY_CLINICIAN, ended_on__isnull=True
    ).select_related("episode")
    primary_of = dict(primary.values_list("episode_id", "user_id"))
    episodes = Episode.objects.filter(status=EpisodeStatus.ACTIVE).prefetch_related(
        Prefetch("treatment_plan", queryset=TreatmentPlan.objects.all())
    )
    settings_by_program = {s.program_id: s for s in PlanSettings.objects.all()}
    found = []
    for episode in episodes:
        kind, due_on = _next_due(episode, settings_by_program)
        if due_on is not None and due_on <= today:
            found.append((episode, kind, due_on, primary_of.get(episode.pk)))
    return found
