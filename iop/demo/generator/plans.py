"""Treatment plans for the admitted demo patients, as `treatment_plans.services` would leave them:

- admitted within the program's initial-plan days: a draft (relapse prevention plus what intake
  suggests, not yet complete: a goal in the patient's words and nothing under it yet);
- admitted earlier: version 1 signed by the patient (witnessed), the primary clinician and the
  site's clinical supervisor a few days after admission, with a review every 30 days since
  (progress on each objective) and the next review date. Where the site's supervisor is the
  primary clinician the co-signature is still missing (awaiting signatures): someone else must
  co-sign.

Rows are built in memory and bulk-inserted a batch at a time (the content while its version is a
draft, signatures while it awaits them: the database triggers allow nothing else), and each
version's content digest is computed from the same items the service would read.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from iop.accounts.models import Role
from iop.demo.generator.clinic import DemoClinic, seeded_uuid
from iop.demo.generator.roster import DemoPatient, roster
from iop.demo.generator.staff import SUPERVISOR_SLOT
from treatment_plans import rules
from treatment_plans.models import (
    Goal,
    Intervention,
    Objective,
    ObjectiveProgress,
    ObjectiveStatus,
    PlanVersion,
    Problem,
    ProblemTemplate,
    Review,
    Signature,
    SignatureMethod,
    SignerRole,
    TreatmentPlan,
    VersionStatus,
)
from treatment_plans.problem_library import ensure_problem_library
from treatment_plans.selectors import plan_item

INITIAL_PLAN_DAYS = 7
REVIEW_DAYS = 30
EXTRA_PROBLEMS = (
    "co-occurring-depression",
    "co-occurring-anxiety",
    "family-relationships",
    "employment-life-skills",
    "housing-transportation",
    "legal",
)


@dataclass
class _Plan:
    patient: DemoPatient
    plan: TreatmentPlan
    version: PlanVersion
    signed: bool
    problems: list = field(default_factory=list)  # (problem, [(goal, [(objective, [intervention])])])


class TreatmentPlans:
    def build(self, clinic: DemoClinic) -> None:
        ensure_problem_library(ProblemTemplate)
        self._names = {user.pk: _signed_name(user) for user in clinic.users_by_username.values()}
        templates = {t.key: t for t in ProblemTemplate.objects.all()}
        for batch in roster(clinic, "Demo treatment plans"):
            admitted = [p for p in batch if p.episode is not None and p.episode.active]
            have = set(
                TreatmentPlan.objects.filter(episode_id__in=[p.episode.pk for p in admitted]).values_list(
                    "episode_id", flat=True
                )
            )
            plans = [
                self._plan(clinic, patient, templates)
                for patient in admitted
                if patient.episode.pk not in have and patient.episode.primary_clinician_id
            ]
            if plans:
                self._save(clinic, plans)

    def _plan(self, clinic: DemoClinic, patient: DemoPatient, templates: dict) -> _Plan:
        rng = clinic.rng("plan", patient.index)
        episode = patient.episode
        signed = (clinic.today - episode.admitted_on).days >= INITIAL_PLAN_DAYS
        author_id = episode.primary_clinician_id
        plan = TreatmentPlan(
            public_id=seeded_uuid(rng),
            episode_id=episode.pk,
            created_by_id=author_id,
            initial_due_on=rules.initial_plan_due_on(episode.admitted_on, INITIAL_PLAN_DAYS),
        )
        version = PlanVersion(public_id=seeded_uuid(rng), number=1, created_by_id=author_id)
        planned = _Plan(patient, plan, version, signed)
        keys = ["relapse-prevention", *rng.sample(EXTRA_PROBLEMS, rng.randint(0, 2))]
        for order, key in enumerate(keys):
            template = templates[key]
            problem = Problem(
                public_id=seeded_uuid(rng),
                lineage=seeded_uuid(rng),
                order=order,
                template=template,
                title=template.name,
                description=template.description,
                asam_dimension=template.asam_dimension,
            )
            goal = Goal(
                public_id=seeded_uuid(rng),
                lineage=seeded_uuid(rng),
                text=rng.choice(template.suggested_goals),
            )
            objectives = []
            if signed or order == 0:
                start = episode.admitted_on + timedelta(days=3)
                for index, text in enumerate(template.suggested_objectives[:2]):
                    suggestion = template.suggested_interventions[
                        index % len(template.suggested_interventions)
                    ]
                    objective = Objective(
                        public_id=seeded_uuid(rng),
                        lineage=seeded_uuid(rng),
                        order=index,
                        text=text,
                        target_date=start + timedelta(weeks=rng.choice((4, 6, 8, 12))),
                    )
                    intervention = Intervention(
                        public_id=seeded_uuid(rng),
                        lineage=seeded_uuid(rng),
                        service_type=suggestion["service_type"],
                        description=suggestion["description"],
                        frequency=suggestion["frequency"],
                        duration=suggestion["duration"],
                        responsible_role="clinician",
                    )
                    objectives.append((objective, [intervention] if signed else []))
            planned.problems.append((problem, [(goal, objectives)]))
        return planned

    def _save(self, clinic: DemoClinic, plans: list[_Plan]) -> None:
        TreatmentPlan.objects.bulk_create([p.plan for p in plans])
        for p in plans:
            p.version.plan = p.plan
        PlanVersion.objects.bulk_create([p.version for p in plans])
        self._save_content(plans)
        signed = [p for p in plans if p.signed]
        for p in signed:
            p.version.content_digest = rules.digest_of(self._items(p))
            p.version.status = VersionStatus.AWAITING_SIGNATURES
            p.version.submitted_at = self._moment(
                clinic, p.patient, p.patient.episode.admitted_on + timedelta(days=3)
            )
        PlanVersion.objects.bulk_update(
            [p.version for p in signed], ["content_digest", "status", "submitted_at"]
        )
        signatures, activated = [], []
        for p in signed:
            supervisor = clinic.staff_for(p.patient.site_index, Role.CLINICIAN)[SUPERVISOR_SLOT]
            signers = [
                (
                    SignerRole.PATIENT,
                    p.version.created_by_id,
                    p.patient.legal_name,
                    SignatureMethod.WITNESSED_IN_PERSON,
                ),
                (SignerRole.PRIMARY_CLINICIAN, p.version.created_by_id, None, SignatureMethod.ELECTRONIC),
            ]
            if supervisor.pk != p.version.created_by_id:
                signers.append(
                    (SignerRole.CLINICAL_SUPERVISOR, supervisor.pk, None, SignatureMethod.ELECTRONIC)
                )
            for minutes, (role, user_id, name, method) in enumerate(signers):
                signatures.append(
                    Signature(
                        public_id=seeded_uuid(clinic.rng("signature", p.patient.index, role)),
                        version=p.version,
                        signer_role=role,
                        signed_by_id=user_id,
                        signer_name=name or self._staff_name(clinic, user_id),
                        method=method,
                        signed_at=p.version.submitted_at + timedelta(minutes=10 * (minutes + 1)),
                        content_digest=p.version.content_digest,
                    )
                )
            if len(signers) == 3:
                p.version.status = VersionStatus.ACTIVE
                p.version.activated_at = p.version.submitted_at + timedelta(minutes=30)
                activated.append(p)
        Signature.objects.bulk_create(signatures)
        PlanVersion.objects.bulk_update([p.version for p in activated], ["status", "activated_at"])
        self._reviews(clinic, activated)
        clinic.created["treatment plans"] += len(plans)
        clinic.created["signed treatment plans"] += len(activated)

    def _save_content(self, plans: list[_Plan]) -> None:
        problems, goals, objectives, interventions = [], [], [], []
        for p in plans:
            for problem, _goal_rows in p.problems:
                problem.version = p.version
                problems.append(problem)
        Problem.objects.bulk_create(problems)
        for p in plans:
            for problem, goal_rows in p.problems:
                for order, (goal, _objective_rows) in enumerate(goal_rows):
                    goal.version, goal.problem, goal.order = p.version, problem, order
                    goals.append(goal)
        Goal.objects.bulk_create(goals)
        for p in plans:
            for _problem, goal_rows in p.problems:
                for goal, objective_rows in goal_rows:
                    for objective, _ in objective_rows:
                        objective.version, objective.goal = p.version, goal
                        objectives.append(objective)
        Objective.objects.bulk_create(objectives)
        for p in plans:
            for _problem, goal_rows in p.problems:
                for _goal, objective_rows in goal_rows:
                    for objective, intervention_rows in objective_rows:
                        for order, intervention in enumerate(intervention_rows):
                            intervention.version, intervention.objective, intervention.order = (
                                p.version,
                                objective,
                                order,
                            )
                            interventions.append(intervention)
        Intervention.objects.bulk_create(interventions)

    def _items(self, p: _Plan) -> list[rules.Item]:
        """The version's items in plan order, as `selectors.version_items` reads them back."""
        items = []
        for index, (problem, goal_rows) in enumerate(p.problems):
            items.append(plan_item("problem", problem, None, (index,)))
            for goal, objective_rows in goal_rows:
                items.append(plan_item("goal", goal, problem.lineage, (goal.order, goal.pk)))
                for objective, intervention_rows in objective_rows:
                    items.append(
                        plan_item("objective", objective, goal.lineage, (objective.order, objective.pk))
                    )
                    for intervention in intervention_rows:
                        order = (intervention.order, intervention.pk)
                        items.append(plan_item("intervention", intervention, objective.lineage, order))
        return items

    def _reviews(self, clinic: DemoClinic, activated: list[_Plan]) -> None:
        reviews, progress, plans = [], [], []
        for p in activated:
            rng = clinic.rng("reviews", p.patient.index)
            activated_on = timezone.localdate(p.version.activated_at)
            objectives = [o for _pr, goal_rows in p.problems for _g, rows in goal_rows for o, _i in rows]
            reviewed_on, count = rules.next_review_due_on(activated_on, REVIEW_DAYS), 0
            while reviewed_on <= clinic.today and p.patient.episode.last_day(clinic.today) >= reviewed_on:
                count += 1
                review = Review(
                    public_id=seeded_uuid(rng),
                    plan=p.plan,
                    version=p.version,
                    reviewed_on=reviewed_on,
                    summary=rng.choice(
                        (
                            "Attending groups; working on the relapse-prevention plan.",
                            "Engaged; some missed sessions discussed and a plan agreed.",
                            "Good progress; tests negative; family session held.",
                        )
                    ),
                    reviewed_by_id=p.version.created_by_id,
                    next_review_due_on=rules.next_review_due_on(reviewed_on, REVIEW_DAYS),
                )
                reviews.append(review)
                for objective in objectives:
                    percent = min(100, 25 * count + rng.randint(0, 15))
                    status = ObjectiveStatus.MET if percent >= 100 else ObjectiveStatus.IN_PROGRESS
                    progress.append(
                        ObjectiveProgress(
                            review=review, objective=objective, status=status, progress_percent=percent
                        )
                    )
                reviewed_on = review.next_review_due_on
            p.plan.activated_on = activated_on
            p.plan.last_reviewed_on = reviews[-1].reviewed_on if count else None
            p.plan.next_review_due_on = reviewed_on
            plans.append(p.plan)
        Review.objects.bulk_create(reviews)
        ObjectiveProgress.objects.bulk_create(progress)
        TreatmentPlan.objects.bulk_update(plans, ["activated_on", "last_reviewed_on", "next_review_due_on"])
        clinic.created["plan reviews"] += len(reviews)

    def _moment(self, clinic: DemoClinic, patient: DemoPatient, day: date) -> datetime:
        day = min(day, clinic.today)
        return clinic.moment(day, random.Random(patient.index), 9, 16, patient.site)  # noqa: S311

    def _staff_name(self, clinic: DemoClinic, user_id: int) -> str:
        return self._names.get(user_id, "Clinician")


def _signed_name(user) -> str:
    name = user.get_full_name() or user.username
    return f"{name}, {user.credentials}" if user.credentials else name
