"""Plan lifecycle: start, edit a draft, submit, sign, activate, revise, review; immutability."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import require_service
from iop.audit.models import AuditEntry
from treatment_plans import selectors, services
from treatment_plans.models import (
    Goal,
    Intervention,
    Objective,
    PlanDueNotice,
    PlanSettings,
    PlanVersion,
    Problem,
    Signature,
    SignerRole,
    VersionStatus,
)
from treatment_plans.tests.factories import active_plan, complete_draft, fill_problem, sign_all

pytestmark = pytest.mark.django_db


def test_start_plan_makes_a_first_draft_with_the_chosen_templates(clinic):
    plan = services.start_plan(
        actor=clinic.clinician_on_team,
        episode=clinic.episode,
        template_keys=["relapse-prevention", "co-occurring-depression"],
    )
    version = plan.versions.get()
    assert version.number == 1 and version.status == VersionStatus.DRAFT
    assert [p.title for p in version.problems.order_by("order")] == [
        "Relapse prevention",
        "Co-occurring depression",
    ]
    assert plan.initial_due_on == clinic.episode.admitted_on + datetime.timedelta(days=7)
    assert (
        AuditEntry.objects.filter(object_type="treatment_plans.treatmentplan", action="create").count() == 1
    )


def test_initial_due_days_come_from_the_program_settings(clinic):
    PlanSettings.objects.create(program=clinic.episode.program, initial_plan_due_days=3)
    plan = services.start_plan(actor=clinic.clinician_on_team, episode=clinic.episode)
    assert plan.initial_due_on == clinic.episode.admitted_on + datetime.timedelta(days=3)


@pytest.mark.parametrize(
    "persona", ["clinician_elsewhere", "case_manager", "medical", "peer_support", "admin"]
)
def test_only_clinicians_who_reach_the_patient_start_a_plan(clinic, persona):
    with pytest.raises(PermissionError):
        services.start_plan(actor=clinic.persona(persona), episode=clinic.episode)
    assert not PlanVersion.objects.exists()


def test_a_second_plan_for_the_episode_is_refused(clinic):
    services.start_plan(actor=clinic.clinician_on_team, episode=clinic.episode)
    with pytest.raises(ValidationError):
        services.start_plan(actor=clinic.clinician_on_team, episode=clinic.episode)


def test_unknown_template_is_refused(clinic):
    with pytest.raises(ValidationError):
        services.start_plan(actor=clinic.clinician_on_team, episode=clinic.episode, template_keys=["nope"])


def test_an_incomplete_draft_cannot_be_submitted(clinic):
    plan = services.start_plan(
        actor=clinic.clinician_on_team, episode=clinic.episode, template_keys=["legal"]
    )
    version = plan.versions.get()
    with pytest.raises(ValidationError, match="has no goal"):
        services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_three_signatures_activate_the_plan_and_set_the_review_date(clinic):
    plan, version = complete_draft(clinic)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.AWAITING_SIGNATURES and len(version.content_digest) == 64
    sign_all(clinic, version)
    plan.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE
    assert plan.activated_on == timezone.localdate()
    assert plan.next_review_due_on == timezone.localdate() + datetime.timedelta(days=30)
    methods = dict(Signature.objects.filter(version=version).values_list("signer_role", "method"))
    assert methods == {
        "patient": "witnessed_in_person",
        "primary_clinician": "electronic",
        "clinical_supervisor": "electronic",
    }


def test_two_signatures_leave_the_plan_awaiting(clinic):
    plan, version = complete_draft(clinic)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    version.refresh_from_db()
    for role in (SignerRole.PRIMARY_CLINICIAN,):
        services.sign_version(
            actor=clinic.clinician_on_team,
            version=version,
            signer_role=role,
            content_digest_shown=version.content_digest,
        )
    services.sign_version(
        actor=clinic.supervisor,
        version=version,
        signer_role=SignerRole.CLINICAL_SUPERVISOR,
        content_digest_shown=version.content_digest,
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.AWAITING_SIGNATURES


def test_program_signers_are_configurable(clinic):
    PlanSettings.objects.create(
        program=clinic.episode.program, requires_patient_signature=False, requires_supervisor_signature=False
    )
    plan, version = complete_draft(clinic)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    version.refresh_from_db()
    with pytest.raises(ValidationError, match="does not ask"):
        services.sign_version(
            actor=clinic.supervisor,
            version=version,
            signer_role=SignerRole.CLINICAL_SUPERVISOR,
            content_digest_shown=version.content_digest,
        )
    services.sign_version(
        actor=clinic.clinician_on_team,
        version=version,
        signer_role=SignerRole.PRIMARY_CLINICIAN,
        content_digest_shown=version.content_digest,
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE


@pytest.fixture
def awaiting(clinic):
    plan, version = complete_draft(clinic)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    version.refresh_from_db()
    return version


def test_patient_signature_needs_the_legal_name(clinic, awaiting):
    with pytest.raises(ValidationError, match="legal name"):
        services.sign_version(
            actor=clinic.clinician_on_team,
            version=awaiting,
            signer_role=SignerRole.PATIENT,
            content_digest_shown=awaiting.content_digest,
            patient_typed_name="Someone Else",
        )


def test_only_the_primary_clinician_signs_as_primary_clinician(clinic, awaiting):
    with pytest.raises(PermissionError):
        services.sign_version(
            actor=clinic.supervisor,
            version=awaiting,
            signer_role=SignerRole.PRIMARY_CLINICIAN,
            content_digest_shown=awaiting.content_digest,
        )


def test_supervisor_signature_needs_a_supervisor_other_than_the_clinician(clinic, awaiting):
    with pytest.raises(PermissionError):
        services.sign_version(
            actor=clinic.clinician_elsewhere,
            version=awaiting,
            signer_role=SignerRole.CLINICAL_SUPERVISOR,
            content_digest_shown=awaiting.content_digest,
        )
    clinic.clinician_on_team.is_clinical_supervisor = True
    clinic.clinician_on_team.save()
    services.sign_version(
        actor=clinic.clinician_on_team,
        version=awaiting,
        signer_role=SignerRole.PRIMARY_CLINICIAN,
        content_digest_shown=awaiting.content_digest,
    )
    with pytest.raises(ValidationError, match="someone other"):
        services.sign_version(
            actor=clinic.clinician_on_team,
            version=awaiting,
            signer_role=SignerRole.CLINICAL_SUPERVISOR,
            content_digest_shown=awaiting.content_digest,
        )


def test_a_signature_on_a_stale_page_is_refused(clinic, awaiting):
    with pytest.raises(ValidationError, match="Reload"):
        services.sign_version(
            actor=clinic.clinician_on_team,
            version=awaiting,
            signer_role=SignerRole.PRIMARY_CLINICIAN,
            content_digest_shown="0" * 64,
        )


def test_the_same_role_signs_once(clinic, awaiting):
    kwargs = {
        "actor": clinic.clinician_on_team,
        "version": awaiting,
        "signer_role": SignerRole.PRIMARY_CLINICIAN,
        "content_digest_shown": awaiting.content_digest,
    }
    services.sign_version(**kwargs)
    with pytest.raises(ValidationError, match="already"):
        services.sign_version(**kwargs)


def test_a_draft_is_not_signed(clinic):
    plan, version = complete_draft(clinic)
    with pytest.raises(ValidationError, match="only a version awaiting"):
        services.sign_version(
            actor=clinic.clinician_on_team,
            version=version,
            signer_role=SignerRole.PRIMARY_CLINICIAN,
            content_digest_shown="",
        )


def every_edit(clinic, version):
    """Each way the services change a version's content."""
    actor = clinic.clinician_on_team
    problem = Problem.objects.filter(version=version).first()
    goal = Goal.objects.filter(version=version).first()
    objective = Objective.objects.filter(version=version).first()
    intervention = Intervention.objects.filter(version=version).first()
    return [
        lambda: services.add_problem(actor=actor, version=version, title="New"),
        lambda: services.add_goal(actor=actor, problem=problem, text="x"),
        lambda: services.add_objective(actor=actor, goal=goal, text="x", target_date=timezone.localdate()),
        lambda: services.add_intervention(
            actor=actor,
            objective=objective,
            service_type="other",
            frequency="x",
            duration="y",
            responsible_role="patient",
        ),
        lambda: services.update_item(actor=actor, item=problem, changes={"title": "Changed"}),
        lambda: services.update_item(actor=actor, item=goal, changes={"text": "Changed"}),
        lambda: services.update_item(actor=actor, item=objective, changes={"progress_percent": 50}),
        lambda: services.update_item(actor=actor, item=intervention, changes={"frequency": "daily"}),
        lambda: services.remove_item(actor=actor, item=intervention),
        lambda: services.remove_item(actor=actor, item=problem),
        lambda: services.submit_for_signatures(actor=actor, version=version),
    ]


@pytest.mark.parametrize("stage", ["awaiting", "active", "superseded"])
def test_no_service_changes_a_version_that_is_not_a_draft(clinic, stage):
    plan, version = complete_draft(clinic)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    if stage in ("active", "superseded"):
        sign_all(clinic, version)
    if stage == "superseded":
        draft = services.start_revision(actor=clinic.clinician_on_team, plan=plan, change_summary="New goal")
        services.submit_for_signatures(actor=clinic.clinician_on_team, version=draft)
        sign_all(clinic, draft)
    version.refresh_from_db()
    assert version.status == stage.replace("awaiting", "awaiting_signatures")
    before = selectors.version_items(version)
    for edit in every_edit(clinic, version):
        with pytest.raises(ValidationError, match="never changes"):
            edit()
    assert selectors.version_items(version) == before


def test_the_database_refuses_changes_to_signed_content(clinic):
    require_service("PostgreSQL", connection.vendor == "postgresql", "the triggers exist on PostgreSQL only")
    plan, version = active_plan(clinic)
    attempts = [
        lambda: Problem.objects.filter(version=version).update(title="Tampered"),
        lambda: Goal.objects.filter(version=version).update(text="Tampered"),
        lambda: Objective.objects.filter(version=version).update(progress_percent=99),
        lambda: Intervention.objects.filter(version=version).delete(),
        lambda: Problem.objects.create(version=version, title="Smuggled"),
        lambda: PlanVersion.objects.filter(pk=version.pk).update(change_summary="Tampered"),
        lambda: PlanVersion.objects.filter(pk=version.pk).update(status="draft"),
        lambda: Signature.objects.filter(version=version).update(signer_name="Someone"),
        lambda: Signature.objects.filter(version=version).delete(),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert Problem.objects.filter(version=version, title="Tampered").count() == 0


def test_editing_an_active_plan_starts_a_new_draft_that_keeps_lineage(clinic):
    plan, v1 = active_plan(clinic)
    v2 = services.start_revision(actor=clinic.clinician_on_team, plan=plan, change_summary="Add housing")
    assert v2.number == 2 and v2.status == VersionStatus.DRAFT and v2.based_on == v1
    old = {i.lineage for i in selectors.version_items(v1)}
    assert {i.lineage for i in selectors.version_items(v2)} == old
    with pytest.raises(ValidationError, match="already has a draft"):
        services.start_revision(actor=clinic.clinician_on_team, plan=plan)
    problem = services.add_problem(actor=clinic.clinician_on_team, version=v2, title="Housing")
    fill_problem(clinic.clinician_on_team, problem)
    services.update_item(
        actor=clinic.clinician_on_team,
        item=v2.goals.first(),
        changes={"text": "Stay sober and get my licence back"},
    )
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=v2)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.ACTIVE  # until v2 is signed
    sign_all(clinic, v2)
    v1.refresh_from_db()
    assert (v1.status, v2.status) == (VersionStatus.SUPERSEDED, VersionStatus.ACTIVE)
    rows = selectors.compare_versions(v1, v2)
    changes = {(r.kind, r.change) for r in rows if r.change != "same"}
    assert ("goal", "changed") in changes and ("problem", "added") in changes
    assert sum(r.change == "added" for r in rows) == 4  # problem, goal, objective, intervention


def test_a_version_awaiting_signatures_is_revised_into_a_new_draft(clinic, awaiting):
    draft = services.start_revision(actor=clinic.clinician_on_team, plan=awaiting.plan)
    awaiting.refresh_from_db()
    assert awaiting.status == VersionStatus.SUPERSEDED and awaiting.activated_at is None
    assert draft.based_on == awaiting


def test_a_revision_needs_a_change_summary(clinic):
    plan, v1 = active_plan(clinic)
    v2 = services.start_revision(actor=clinic.clinician_on_team, plan=plan)
    with pytest.raises(ValidationError):
        services.submit_for_signatures(actor=clinic.clinician_on_team, version=v2)
    services.submit_for_signatures(
        actor=clinic.clinician_on_team, version=v2, change_summary="Target dates moved"
    )


def progress_for(version, status="in_progress", percent=40):
    return {
        o.public_id: {"status": status, "progress_percent": percent, "note": "ok"}
        for o in version.objectives.all()
    }


def test_a_review_records_progress_on_every_objective_and_the_next_date(clinic):
    plan, version = active_plan(clinic)
    today = timezone.localdate()
    review = services.record_review(
        actor=clinic.clinician_on_team,
        plan=plan,
        reviewed_on=today,
        summary="Going well",
        progress=progress_for(version),
    )
    plan.refresh_from_db()
    assert review.progress.count() == version.objectives.count() == 1
    assert plan.last_reviewed_on == today and plan.next_review_due_on == today + datetime.timedelta(days=30)
    # The signed objective is unchanged; the progress lives on the review and seeds the next draft.
    objective = version.objectives.get()
    assert objective.progress_percent == 0
    draft = services.start_revision(actor=clinic.clinician_on_team, plan=plan)
    assert draft.objectives.get().progress_percent == 40


def test_a_review_must_cover_every_objective(clinic):
    plan, version = active_plan(clinic)
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=clinic.clinician_on_team,
            plan=plan,
            reviewed_on=timezone.localdate(),
            summary="x",
            progress={},
        )
    assert "progress" in refused.value.message_dict


def test_a_plan_without_an_active_version_is_not_reviewed(clinic):
    plan, version = complete_draft(clinic)
    with pytest.raises(ValidationError, match="once a version is active"):
        services.record_review(
            actor=clinic.clinician_on_team,
            plan=plan,
            reviewed_on=timezone.localdate(),
            summary="x",
            progress={},
        )


def test_due_notices_are_recorded_once_and_resolved_by_activation(clinic):
    today = clinic.episode.admitted_on + datetime.timedelta(days=10)  # initial plan due on day 7
    first = services.record_due_notices(today=today)
    again = services.record_due_notices(today=today)
    assert first["new"] == 1 and again["new"] == 0
    notice = PlanDueNotice.objects.get()
    assert notice.kind == "initial_plan" and notice.responsible == clinic.clinician_on_team
    assert notice.overdue_at is not None
    overdue_at = notice.overdue_at
    services.record_due_notices(today=today)
    notice.refresh_from_db()
    assert notice.overdue_at == overdue_at
    active_plan(clinic)
    notice.refresh_from_db()
    assert notice.resolved_at is not None


def test_home_card_lists_due_initial_plans_and_reviews_for_the_primary_clinician(clinic):
    today = timezone.localdate()
    rows = selectors.plans_due_for(clinic.clinician_on_team, today=today)
    assert [(r.patient, r.kind) for r in rows] == [(clinic.patient, "initial_plan")]  # admitted 14 days ago
    assert rows[0].state == "overdue"
    assert selectors.plans_due_for(clinic.case_manager, today=today) == []
    plan, version = active_plan(clinic)
    assert selectors.plans_due_for(clinic.clinician_on_team, today=today) == []
    later = today + datetime.timedelta(days=29)
    (row,) = selectors.plans_due_for(clinic.clinician_on_team, today=later)
    assert row.kind == "review" and row.state == "due"


def test_home_card_leaves_out_patients_at_a_site_the_clinician_left(clinic):
    today = timezone.localdate()
    assert selectors.plans_due_for(clinic.clinician_on_team, today=today)
    clinic.clinician_on_team.sites.set([clinic.site_b])
    assert selectors.plans_due_for(clinic.clinician_on_team, today=today) == []
