"""The treatment-plan journey in a real browser: a clinician starts a plan from the intake
suggestions, fills it in with the editor (htmx, the templates' suggestions), submits it, records
the patient's signature and their own, a clinical supervisor co-signs, and the clinician records
the first review. Counts the pages opened and the forms submitted (ADR 0013)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from iop.accounts.tests.factories import TEST_PASSWORD
from patients.models import InstrumentResponse
from treatment_plans.models import PlanVersion, Review, VersionStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Journey:
    def __init__(self, page, base_url):
        self.page, self.pages, self.submissions, self.problems = page, 0, 0, []
        page.on("framenavigated", lambda frame: frame == page.main_frame and self._navigated())
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("response", lambda r: r.status >= 500 and self.problems.append(f"{r.status} {r.url}"))
        page.on("request", lambda r: not r.url.startswith(base_url) and self.problems.append(r.url))
        page.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks before irreversible steps

    def _navigated(self):
        self.pages += 1

    def submit(self, button):
        self.submissions += 1
        button.click()


def sign_in(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("home-heading")).to_be_visible()


def fill_from_suggestion(page, journey, problem, child: str):
    """Open the add-<child> form under the last item of `problem`, take the first suggestion, save."""
    problem.get_by_test_id(f"add-{child}").last.click()
    form = problem.get_by_test_id("plan-item-form")
    expect(form).to_be_visible()
    form.get_by_test_id("plan-suggestions").get_by_role("link").first.click()
    expect(form.locator("textarea, input[name=frequency]").first).not_to_have_value("")
    journey.submit(form.get_by_test_id("plan-item-save"))
    expect(page.get_by_test_id("plan-item-form")).to_have_count(0)


def test_clinician_plans_signs_three_times_and_reviews(clinic, live_server, journey_page):
    from treatment_plans.models import ProblemTemplate
    from treatment_plans.problem_library import ensure_problem_library

    ensure_problem_library(ProblemTemplate)  # a transactional test may have flushed it
    InstrumentResponse.objects.create(
        patient=clinic.patient,
        instrument_code="phq-9",
        instrument_version="1",
        answers={},
        total=14,
        band="Moderate",
        administered_at=timezone.now(),
        administered_by=clinic.clinician_on_team,
    )
    clinic.supervisor.two_factor_exempt = True
    clinic.supervisor.save()
    page = journey_page
    sign_in(page, live_server.url, clinic.clinician_on_team)
    journey = Journey(page, live_server.url)

    # The home page says the initial plan is overdue (admitted 14 days ago): start from there.
    due = page.get_by_test_id("plans-due")
    expect(due).to_contain_text("Initial plan")
    due.get_by_role("link", name=clinic.patient.display_name).click()
    page.get_by_test_id("plan-start").click()
    expect(page.get_by_test_id("plan-suggestions")).to_contain_text("PHQ-9 total 14")
    expect(page.get_by_label("Co-occurring depression")).to_be_checked()
    journey.submit(page.get_by_test_id("plan-start-submit"))

    # The editor: each problem gets a goal, an objective and an intervention from its template.
    problems = page.get_by_test_id("plan-problem")
    expect(problems).to_have_count(2)
    for index in range(2):
        problem = page.get_by_test_id("plan-problem").nth(index)
        for child in ("goal", "objective", "intervention"):
            fill_from_suggestion(page, journey, problem, child)
    expect(page.get_by_test_id("plan-incomplete")).to_have_count(0)
    expect(page.get_by_test_id("plan-intervention")).to_have_count(2)

    page.get_by_test_id("version-submit").click()
    journey.submit(page.get_by_role("button", name="Submit for signatures"))
    expect(page.get_by_test_id("sign-form")).to_be_visible()

    # The patient signs in person (witnessed), then the primary clinician.
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Patient", exact=True).check()
    form.get_by_label("Patient types their legal name").fill("testy mctestface")
    form.get_by_label(re.compile("I have read this version")).check()
    journey.submit(form.get_by_test_id("sign-submit"))
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Primary clinician").check()
    form.get_by_label(re.compile("I have read this version")).check()
    journey.submit(form.get_by_test_id("sign-submit"))
    expect(page.get_by_test_id("sign-form")).to_be_visible()
    clinician_steps = (journey.pages, journey.submissions)
    version = PlanVersion.objects.get()
    assert version.status == VersionStatus.AWAITING_SIGNATURES

    # The clinical supervisor co-signs from the Plan tab.
    page.get_by_role("button", name=re.compile("Sign out")).click()
    sign_in(page, live_server.url, clinic.supervisor)
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/plan/")
    page.get_by_test_id("plan-sign-link").click()
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Clinical supervisor").check()
    form.get_by_label(re.compile("I have read this version")).check()
    form.get_by_test_id("sign-submit").click()
    expect(page.get_by_test_id("plan-signatures")).to_contain_text("Clinical supervisor")
    version.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE

    # The first review: progress on each objective.
    page.get_by_test_id("plan-review").click()
    for objective in page.get_by_test_id("review-objective").all():
        objective.get_by_label("Status").select_option("in_progress")
        objective.get_by_label("Progress (%)").fill("40")
    page.get_by_label("Progress summary").fill("Attends every group; relapse-prevention plan drafted.")
    page.get_by_test_id("review-submit").click()
    expect(page.get_by_test_id("plan-reviews")).to_contain_text("Attends every group")
    assert Review.objects.get().progress.count() == 2
    assert not journey.problems, journey.problems
    print(
        f"\nPLAN JOURNEY (clinician, start to their signature): {clinician_steps[0]} pages, "
        f"{clinician_steps[1]} form submissions"
    )


def test_plan_pages_have_no_serious_accessibility_violations(clinic, live_server, journey_page):
    from tests.test_accessibility import serious_violations
    from treatment_plans import services
    from treatment_plans.tests.factories import active_plan

    plan, v1 = active_plan(clinic)
    draft = services.start_revision(actor=clinic.clinician_on_team, plan=plan, change_summary="More")
    page = journey_page
    sign_in(page, live_server.url, clinic.clinician_on_team)
    base = f"{live_server.url}/patients/{clinic.patient.public_id}/plan"
    found = {}
    for path in (
        "/",
        f"/versions/{draft.public_id}/",
        f"/versions/{v1.public_id}/sign/",
        "/compare/",
        "/review/",
        f"/versions/{v1.public_id}/print/",
    ):
        page.goto(base + path)
        if path == f"/versions/{draft.public_id}/":
            page.get_by_test_id("add-goal").first.click()  # an open htmx form, too
            expect(page.get_by_test_id("plan-item-form")).to_be_visible()
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    assert not found, found
