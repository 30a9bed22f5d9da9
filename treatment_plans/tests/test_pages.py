"""The plan pages through the client: tab, editor (htmx), submit, sign, compare, review, print, home."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import InstrumentResponse
from treatment_plans import selectors, services
from treatment_plans.models import Goal, PlanVersion, Problem, Review, VersionStatus
from treatment_plans.tests.factories import active_plan, complete_draft, fill_problem

pytestmark = pytest.mark.django_db


def plan_url(clinic, name="treatment_plans:plan", *extra):
    return reverse(name, args=[clinic.patient.public_id, *extra])


def version_url(clinic, version, name="treatment_plans:version"):
    return reverse(name, args=[clinic.patient.public_id, version.public_id])


def test_plan_tab_without_a_plan_offers_to_start_it_to_clinicians_only(clinic, login):
    client = login(clinic.clinician_on_team)
    response = client.get(reverse("patients:chart_tab", args=[clinic.patient.public_id, "plan"]))
    assert response.status_code == 200
    assert b'data-testid="plan-start"' in response.content
    assert b"overdue" in response.content  # admitted 14 days ago, due after 7
    client = login(clinic.peer_support)
    response = client.get(plan_url(clinic))
    assert response.status_code == 200 and b'data-testid="plan-start"' not in response.content
    assert client.get(plan_url(clinic, "treatment_plans:start")).status_code == 404


def test_start_page_checks_the_problems_intake_suggests(clinic, login):
    InstrumentResponse.objects.create(
        patient=clinic.patient,
        instrument_code="phq-9",
        instrument_version="1",
        answers={},
        total=15,
        band="Moderately severe",
        administered_at=timezone.now(),
        administered_by=clinic.clinician_on_team,
    )
    client = login(clinic.clinician_on_team)
    response = client.get(plan_url(clinic, "treatment_plans:start"))
    assert b"PHQ-9 total 15" in response.content
    initial = {t.key for t in response.context["form"].initial["templates"]}
    assert initial == {"relapse-prevention", "co-occurring-depression"}
    response = client.post(
        plan_url(clinic, "treatment_plans:start"),
        {"templates": ["relapse-prevention", "co-occurring-depression"]},
    )
    version = PlanVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == version_url(clinic, version)
    assert version.problems.count() == 2


def test_editor_adds_items_through_htmx_partials(clinic, login):
    plan = services.start_plan(actor=clinic.clinician_on_team, episode=clinic.episode)
    version = plan.versions.get()
    client = login(clinic.clinician_on_team)
    page = client.get(version_url(clinic, version))
    assert b'data-testid="add-problem"' in page.content
    add = reverse("treatment_plans:problem_add", args=[clinic.patient.public_id, version.public_id])
    form = client.get(add, headers={"HX-Request": "true"})
    assert b"<html" not in form.content and b'data-testid="plan-item-form"' in form.content
    tree = client.post(
        add, {"template": "", "title": "Housing", "description": ""}, headers={"HX-Request": "true"}
    )
    assert tree.status_code == 200 and b'id="plan-tree"' in tree.content and b"Housing" in tree.content
    problem = Problem.objects.get(version=version)
    goal_url = reverse(
        "treatment_plans:item_add", args=[clinic.patient.public_id, "problem", problem.public_id]
    )
    invalid = client.post(goal_url, {"text": ""}, headers={"HX-Request": "true"})
    assert invalid["HX-Retarget"] == f"#slot-{problem.public_id.hex}"
    assert not Goal.objects.exists()
    done = client.post(goal_url, {"text": "I want a place of my own"})
    assert done.status_code == 302
    assert Goal.objects.get().text == "I want a place of my own"


def test_template_suggestions_prefill_the_child_form(clinic, login):
    plan = services.start_plan(
        actor=clinic.clinician_on_team, episode=clinic.episode, template_keys=["legal"]
    )
    problem = plan.versions.get().problems.get()
    client = login(clinic.clinician_on_team)
    url = reverse("treatment_plans:item_add", args=[clinic.patient.public_id, "problem", problem.public_id])
    response = client.get(url + "?suggestion=0", headers={"HX-Request": "true"})
    assert response.context["form"].initial["text"].startswith("I want to finish probation")


def test_submit_sign_three_times_and_the_plan_is_active(clinic, login, client):
    plan, version = complete_draft(clinic)
    client.force_login(clinic.clinician_on_team)
    response = client.post(version_url(clinic, version, "treatment_plans:submit"), {"change_summary": ""})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.AWAITING_SIGNATURES
    sign = version_url(clinic, version, "treatment_plans:sign")
    page = client.get(sign)
    assert b'data-testid="sign-form"' in page.content
    digest = version.content_digest
    name = f"{clinic.patient.legal_first_name} {clinic.patient.legal_last_name}"
    wrong = client.post(
        sign,
        {"signer_role": "patient", "patient_typed_name": "Nobody", "content_digest": digest, "confirm": "on"},
    )
    assert wrong.status_code == 200 and b"legal name" in wrong.content
    unconfirmed = client.post(sign, {"signer_role": "primary_clinician", "content_digest": digest})
    assert b"Tick the confirmation" in unconfirmed.content
    for data in (
        {"signer_role": "patient", "patient_typed_name": name},
        {"signer_role": "primary_clinician"},
    ):
        response = client.post(sign, {**data, "content_digest": digest, "confirm": "on"})
        assert response.status_code == 302
    client.force_login(clinic.supervisor)
    response = client.post(
        sign, {"signer_role": "clinical_supervisor", "content_digest": digest, "confirm": "on"}
    )
    assert response.status_code == 302 and response["Location"] == plan_url(clinic)
    version.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE
    tab = client.get(plan_url(clinic))
    assert b'data-testid="plan-signatures"' in tab.content and name.encode() in tab.content


def test_no_page_changes_a_signed_version(clinic, login):
    plan, version = active_plan(clinic)
    before = selectors.version_items(version)
    client = login(clinic.clinician_on_team)
    patient = clinic.patient.public_id
    problem = version.problems.get()
    goal, objective, intervention = version.goals.get(), version.objectives.get(), version.interventions.get()
    posts = [
        (reverse("treatment_plans:problem_add", args=[patient, version.public_id]), {"title": "Smuggled"}),
        (reverse("treatment_plans:item_add", args=[patient, "problem", problem.public_id]), {"text": "x"}),
        (
            reverse("treatment_plans:item_edit", args=[patient, "problem", problem.public_id]),
            {"title": "Changed"},
        ),
        (reverse("treatment_plans:item_edit", args=[patient, "goal", goal.public_id]), {"text": "Changed"}),
        (
            reverse("treatment_plans:item_edit", args=[patient, "objective", objective.public_id]),
            {"text": "x", "target_date": "2030-01-01", "status": "met", "progress_percent": 100},
        ),
        (
            reverse("treatment_plans:item_edit", args=[patient, "intervention", intervention.public_id]),
            {"service_type": "other", "frequency": "daily", "duration": "1h", "responsible_role": "patient"},
        ),
        (reverse("treatment_plans:item_remove", args=[patient, "intervention", intervention.public_id]), {}),
        (reverse("treatment_plans:item_remove", args=[patient, "problem", problem.public_id]), {}),
        (version_url(clinic, version, "treatment_plans:submit"), {"change_summary": "x"}),
    ]
    for url, data in posts:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200, url
        assert b"never changes" in response.content, url
    assert selectors.version_items(version) == before
    page = client.get(version_url(clinic, version))
    assert b'data-testid="add-problem"' not in page.content


def test_revise_from_the_tab_then_compare_side_by_side(clinic, login):
    plan, v1 = active_plan(clinic)
    client = login(clinic.clinician_on_team)
    response = client.post(plan_url(clinic, "treatment_plans:revise"), {"change_summary": "Add housing"})
    v2 = PlanVersion.objects.get(number=2)
    assert response["Location"] == version_url(clinic, v2)
    problem = services.add_problem(actor=clinic.clinician_on_team, version=v2, title="Housing")
    fill_problem(clinic.clinician_on_team, problem)
    response = client.get(plan_url(clinic, "treatment_plans:compare"))
    assert response.status_code == 200
    changes = [row.change for row in response.context["rows"]]
    assert changes.count("added") == 4 and changes.count("same") == 4
    assert b'data-change="added"' in response.content
    bad = client.get(plan_url(clinic, "treatment_plans:compare") + "?old=nope&new=nope")
    assert bad.status_code == 200 and b"Choose two versions" in bad.content


def test_review_page_records_progress(clinic, login):
    plan, version = active_plan(clinic)
    objective = version.objectives.get()
    client = login(clinic.clinician_on_team)
    url = plan_url(clinic, "treatment_plans:review")
    assert client.get(url).status_code == 200
    key = objective.public_id.hex
    incomplete = client.post(url, {"reviewed_on": timezone.localdate().isoformat(), "reason": "scheduled"})
    assert incomplete.status_code == 200 and not Review.objects.exists()
    response = client.post(
        url,
        {
            "reviewed_on": timezone.localdate().isoformat(),
            "reason": "scheduled",
            "summary": "Attending every group",
            f"status_{key}": "in_progress",
            f"percent_{key}": "60",
            f"note_{key}": "Triggers listed",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.progress.get().progress_percent == 60
    tab = client.get(plan_url(clinic))
    assert b"In progress, 60%" in tab.content


def test_print_view_has_the_part2_notice_and_signatures(clinic, login):
    plan, version = active_plan(clinic)
    client = login(clinic.peer_support)
    response = client.get(version_url(clinic, version, "treatment_plans:print"))
    assert response.status_code == 200
    assert b"42 CFR part 2" in response.content and b"print-notice-repeat" in response.content
    assert b"Clinical supervisor" in response.content and b"plan_print.css" in response.content


def test_home_card_lists_the_overdue_initial_plan(clinic, login):
    response = login(clinic.clinician_on_team).get(reverse("home"))
    assert b'data-testid="plans-due"' in response.content
    assert b'data-testid="plan-due-row"' in response.content and b"Initial plan" in response.content


def test_other_patients_items_are_404(clinic, login):
    from patients.tests.factories import PatientFactory, admit

    other = PatientFactory(site=clinic.site_a)
    episode = admit(other, team={"primary_clinician": clinic.clinician_elsewhere})
    plan = services.start_plan(actor=clinic.clinician_elsewhere, episode=episode, template_keys=["legal"])
    problem = plan.versions.get().problems.get()
    client = login(clinic.clinician_on_team)
    url = reverse("treatment_plans:item_edit", args=[clinic.patient.public_id, "problem", problem.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"title": "x"}).status_code == 404
    other_version = reverse(
        "treatment_plans:version", args=[clinic.patient.public_id, plan.versions.get().public_id]
    )
    assert client.get(other_version).status_code == 404


def query_count_without_session(fn) -> int:
    """Queries `fn()` makes, leaving out the session's (saved now and then, by the idle timeout)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return sum("django_session" not in q["sql"] for q in captured.captured_queries)


def test_plan_pages_make_a_constant_number_of_queries(clinic, login):
    query_count = query_count_without_session
    plan, version = active_plan(clinic)
    client = login(clinic.clinician_on_team)
    urls = [
        plan_url(clinic),
        version_url(clinic, version),
        version_url(clinic, version, "treatment_plans:print"),
    ]
    small = [query_count(lambda u=u: client.get(u)) for u in urls]
    draft = services.start_revision(actor=clinic.clinician_on_team, plan=plan, change_summary="More")
    for title in ("Housing", "Legal", "Family"):
        fill_problem(
            clinic.clinician_on_team,
            services.add_problem(actor=clinic.clinician_on_team, version=draft, title=title),
        )
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=draft)
    from treatment_plans.tests.factories import sign_all

    sign_all(clinic, draft)
    services.record_review(
        actor=clinic.clinician_on_team,
        plan=plan,
        reviewed_on=timezone.localdate(),
        summary="ok",
        progress={o.public_id: {"status": "met", "progress_percent": 100} for o in draft.objectives.all()},
    )
    urls = [plan_url(clinic), version_url(clinic, draft), version_url(clinic, draft, "treatment_plans:print")]
    large = [query_count(lambda u=u: client.get(u)) for u in urls]
    assert large == small
    compare = plan_url(clinic, "treatment_plans:compare")
    assert query_count(lambda: client.get(compare)) <= 40


def test_plan_tab_query_budget(clinic, login, django_assert_max_num_queries):
    active_plan(clinic)
    client = login(clinic.clinician_on_team)
    with django_assert_max_num_queries(40):
        assert client.get(plan_url(clinic)).status_code == 200


def test_due_date_of_a_plan_not_started_is_shown(clinic, login):
    clinic.episode.admitted_on = timezone.localdate() - datetime.timedelta(days=1)
    clinic.episode.save()
    response = login(clinic.clinician_on_team).get(plan_url(clinic))
    due = (timezone.localdate() + datetime.timedelta(days=6)).strftime("%b %-d, %Y")
    assert due.encode() in response.content
