"""Random testing in a real browser: an admin runs the (missed) draw and sees it verify, medical
staff collect from the worklist and enter a result, the primary clinician finalises it, sees the
alert and records a supportive review."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from patients.models import Episode
from testing.models import ResultReview
from testing.services import draws
from testing.tests.factories import AnalyteFactory, PanelFactory, PolicyFactory
from tests.test_journey_screening import sign_in, watch_for_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page, base_url):
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")


def test_draw_worklist_collection_result_alert_review(clinic, live_server, journey_page):
    page = journey_page
    page.on("dialog", lambda dialog: dialog.accept())  # "Finalise these results?"
    problems = watch_for_problems(page, live_server.url)
    site = clinic.site_a
    today = datetime.datetime.now(ZoneInfo(str(site.timezone))).date()
    if today.isoweekday() not in site.operating_days:  # the journey runs any day of the week
        site.operating_days = [1, 2, 3, 4, 5, 6, 7]
        site.save()
    Episode.objects.filter(pk=clinic.episode.pk).update(admitted_on=today - datetime.timedelta(days=20))
    panel = PanelFactory(name="Journey cup")
    AnalyteFactory(panel=panel, code="thc", name="THC", screen_cutoff=50)
    PolicyFactory(phase=clinic.episode.current_phase, panel=panel)
    # The month's key was committed before the month began (the periodic task, last month).
    with time_machine.travel(
        datetime.datetime.combine(today.replace(day=1), datetime.time(0)) - datetime.timedelta(days=3)
    ):
        draws.commit_month_key(site=site, month=today)

    # An admin runs the draw the periodic task missed, and it verifies.
    sign_in(page, live_server.url, clinic.admin.username)
    page.get_by_role("link", name="Testing").click()
    expect(page.get_by_test_id("draw-status")).to_contain_text("has not run yet")
    page.get_by_role("link", name="Draws").click()
    page.get_by_role("link", name="Run a missed draw").click()
    page.get_by_label("Site").select_option(label=site.name)
    page.get_by_label("Date").fill(today.isoformat())
    page.get_by_label("Reason").fill("The server was down at 05:30.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("verification-result")).to_contain_text("This draw verifies")
    sign_out(page, live_server.url)

    # Medical staff collect from today's worklist (20 days untested: the patient is selected).
    sign_in(page, live_server.url, clinic.medical.username)
    page.get_by_role("link", name="Testing").click()
    expect(page.get_by_test_id("not-dot")).to_contain_text("not a DOT random testing")
    worklist = page.get_by_test_id("worklist")
    expect(worklist).to_contain_text(clinic.patient.mrn)
    worklist.get_by_test_id("collect-link").first.click()
    page.get_by_label("Collected", exact=True).check()
    page.get_by_label("Collection observed").check()
    page.get_by_label("Temperature (°C)").fill("35.0")
    page.get_by_label("Chain of custody number").fill("COC-JOURNEY-1")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/testing/worklist/$"))
    expect(page.get_by_test_id("worklist")).to_contain_text("Collected")

    # ... and enter a positive screen.
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/tests/")
    page.get_by_test_id("enter-result").click()
    page.get_by_label("Analyte").select_option(label="THC")
    page.get_by_label("Device or assay").fill("Journey cup, lot A")
    page.get_by_label("Positive").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("results")).to_contain_text("not final")
    sign_out(page, live_server.url)

    # The primary clinician finalises it: an alert and a review task appear; the review is supportive.
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/tests/")
    page.get_by_test_id("finalise").click()
    expect(page.get_by_test_id("chart-alert")).to_contain_text("unexpected positive")
    page.get_by_test_id("review-link").click()
    expect(page.get_by_test_id("supportive-guidance")).to_contain_text("not by punishment")
    page.get_by_label("Discuss in session").check()
    page.get_by_label("Note").fill("Talked it through; more support at weekends.")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_test_id("reviews")).to_contain_text("reviewed by")
    assert ResultReview.objects.get().reviewed_by == clinic.clinician_on_team
    assert not problems, problems


def test_testing_pages_have_no_serious_accessibility_violations(clinic, live_server, journey_page):
    from django.urls import reverse

    from testing.models import CollectionOutcome, OrderKind, ResultOutcome, ResultStage
    from testing.services import collection
    from tests.test_accessibility import serious_violations

    panel = PanelFactory(name="Axe cup")
    AnalyteFactory(panel=panel, code="thc", name="THC", screen_cutoff=50)
    PolicyFactory(phase=clinic.episode.current_phase, panel=panel)
    today = datetime.date.today()
    order = collection.order_test(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind=OrderKind.FOR_CAUSE,
        reason="Axe",
        due_on=today,
    )
    open_order = collection.order_test(
        actor=clinic.clinician_on_team, patient=clinic.patient, kind=OrderKind.SCHEDULED, due_on=today
    )
    specimen = collection.record_collection(
        actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED
    )
    collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=panel.analytes.get(),
        stage=ResultStage.SCREEN,
        device_or_assay="Cup",
        outcome=ResultOutcome.POSITIVE,
    )
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    review = ResultReview.objects.get()
    page = journey_page
    problems = watch_for_problems(page, live_server.url)  # a CSP violation, a script error, a 4xx
    sign_in(page, live_server.url, clinic.admin.username)
    paths = [
        reverse("testing:worklist"),
        reverse("testing:draw_list"),
        reverse("testing:draw_run"),
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"]),
        reverse("testing:collect", args=[open_order.public_id]),
        reverse("testing:policy_list"),
        reverse("testing:policy_edit", args=[clinic.episode.current_phase.public_id]),
        reverse("testing:site_report"),
    ]
    found = {}
    for path in paths:
        assert page.goto(live_server.url + path).status == 200, path
        if violations := serious_violations(page):
            found[path] = violations
    # The report's charts are drawn (Chart.js from npm, no inline script).
    expect(page.locator('canvas[data-testing-chart="compliance"][data-drawn="1"]')).to_have_count(1)
    expect(page.locator('canvas[data-testing-chart="positivity"][data-drawn="1"]')).to_have_count(1)
    sign_out(page, live_server.url)
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    for path in [
        reverse("testing:review", args=[review.public_id]),
        reverse("testing:result_create", args=[specimen.public_id]),
        reverse("testing_chart:order", args=[clinic.patient.public_id]),
        reverse("testing_chart:self_report", args=[clinic.patient.public_id]),
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"]),
    ]:
        assert page.goto(live_server.url + path).status == 200, path
        if violations := serious_violations(page):
            found[path] = violations
    assert not found, found
    assert not problems, problems
