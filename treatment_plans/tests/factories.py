"""Plans built through the services (so every test plan is one the pages could have made)."""

import datetime

from django.utils import timezone

from treatment_plans import services
from treatment_plans.models import ProblemTemplate, SignerRole
from treatment_plans.problem_library import ensure_problem_library


def complete_draft(clinic, *, template_keys=("relapse-prevention",)):
    """Start the clinic patient's plan and give each problem a goal, objective and intervention."""
    ensure_problem_library(ProblemTemplate)  # a transactional test may have flushed the seeded library
    actor = clinic.clinician_on_team
    plan = services.start_plan(actor=actor, episode=clinic.episode, template_keys=template_keys)
    version = plan.versions.get()
    for problem in version.problems.all():
        fill_problem(actor, problem)
    return plan, version


def fill_problem(actor, problem):
    goal = services.add_goal(actor=actor, problem=problem, text="I want to stay sober for my kids.")
    objective = services.add_objective(
        actor=actor,
        goal=goal,
        text="Write a relapse-prevention plan naming 5 triggers.",
        target_date=timezone.localdate() + datetime.timedelta(days=28),
        measure="Plan reviewed in session",
    )
    services.add_intervention(
        actor=actor,
        objective=objective,
        service_type="relapse_prevention",
        frequency="2 times a week",
        duration="3 hours",
        responsible_role="clinician",
    )
    return goal, objective


def sign_all(clinic, version):
    """The three default signatures: patient (witnessed by the clinician), clinician, supervisor."""
    version.refresh_from_db()
    patient = clinic.patient
    services.sign_version(
        actor=clinic.clinician_on_team,
        version=version,
        signer_role=SignerRole.PATIENT,
        content_digest_shown=version.content_digest,
        patient_typed_name=f"{patient.legal_first_name} {patient.legal_last_name}",
    )
    services.sign_version(
        actor=clinic.clinician_on_team,
        version=version,
        signer_role=SignerRole.PRIMARY_CLINICIAN,
        content_digest_shown=version.content_digest,
    )
    services.sign_version(
        actor=clinic.supervisor,
        version=version,
        signer_role=SignerRole.CLINICAL_SUPERVISOR,
        content_digest_shown=version.content_digest,
    )
    version.refresh_from_db()
    return version


def active_plan(clinic, **kwargs):
    plan, version = complete_draft(clinic, **kwargs)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    sign_all(clinic, version)
    plan.refresh_from_db()
    return plan, version
