"""Screening in a real browser: the score updates as the clinician answers, the C-SSRS asks its
follow-up questions only when they apply, the ASAM recommendation updates live, and the saved
result puts the safety alert on the chart and draws the chart of scores."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from iop.accounts.tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTJS_WIRED = any(
    isinstance(entry, tuple) and entry[0] == "vendor/chartjs" for entry in settings.STATICFILES_DIRS
)


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()


def watch_for_problems(page, base_url):
    """Console errors (a CSP violation, a script error) and failed or off-site requests."""
    problems = []

    def expected_gap(url: str) -> bool:  # Chart.js until settings serve it (see static/js/screening.js)
        return not CHARTJS_WIRED and "vendor/chartjs" in url

    page.on("console", lambda m: m.type == "error" and not expected_gap(m.text) and problems.append(m.text))
    page.on(
        "response",
        lambda r: r.status >= 400 and not expected_gap(r.url) and problems.append(f"{r.status} {r.url}"),
    )
    page.on("request", lambda r: not r.url.startswith(base_url) and problems.append(r.url))
    return problems


def answer(page, item: str, label: str):
    page.get_by_test_id(f"item-{item}").get_by_label(label, exact=True).check()


def test_phq9_scores_live_and_saving_raises_the_safety_alert(clinic, live_server, journey_page):
    page = journey_page
    problems = watch_for_problems(page, live_server.url)
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/intake/")
    page.get_by_test_id("administer-menu").click()
    page.get_by_test_id("administer-phq-9").click()
    expect(page.get_by_test_id("score-progress")).to_have_text("0 of 9 answered")

    answer(page, "9", "Several days (1)")
    expect(page.get_by_test_id("score-progress")).to_have_text("1 of 9 answered")
    expect(page.locator('[data-flag="suicide_risk"]')).to_be_visible()  # at once, before the total
    for item in range(1, 9):
        answer(page, str(item), "More than half the days (2)")
    expect(page.get_by_test_id("score-total")).to_have_text("17")
    expect(page.get_by_test_id("score-band")).to_have_text("moderately severe")

    page.get_by_test_id("save-instrument").click()
    expect(page).to_have_url(re.compile(r"/intake/$"))
    expect(page.get_by_test_id("chart-alert")).to_contain_text("PHQ-9 item 9 positive")
    expect(page.get_by_test_id("screening-result-phq-9")).to_contain_text("17")
    if CHARTJS_WIRED:
        expect(page.locator('canvas[data-score-chart][data-code="phq-9"][data-drawn="1"]')).to_have_count(1)
    assert not problems, problems


def test_cssrs_asks_follow_up_questions_only_when_they_apply(clinic, live_server, journey_page):
    page = journey_page
    problems = watch_for_problems(page, live_server.url)
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/instruments/c-ssrs/")
    for item in ["3", "4", "5", "6a"]:
        expect(page.get_by_test_id(f"item-{item}")).to_be_hidden()
    # The "recent" screener: ideation in the past month, behaviour ever (then: past 3 months?).
    expect(page.get_by_test_id("instrument-instructions")).to_contain_text("past month")
    for item in ["1", "2"]:
        expect(page.get_by_test_id(f"item-{item}").locator("legend")).to_contain_text("In the past month:")
    expect(page.get_by_test_id("item-6").locator("legend")).to_contain_text("Lifetime:")
    answer(page, "1", "Yes")
    answer(page, "2", "Yes")
    for item in ["3", "4", "5"]:
        expect(page.get_by_test_id(f"item-{item}")).to_be_visible()
        expect(page.get_by_test_id(f"item-{item}").locator("legend")).to_contain_text("In the past month:")
    answer(page, "4", "Yes")
    expect(page.locator('[data-flag="high_suicide_risk"]')).to_be_visible()
    answer(page, "2", "No")  # the follow-ups go away, and their answers with them
    expect(page.get_by_test_id("item-4")).to_be_hidden()
    expect(page.locator('[data-flag="high_suicide_risk"]')).to_have_count(0)
    answer(page, "6", "Yes")
    expect(page.get_by_test_id("item-6a")).to_be_visible()
    answer(page, "6a", "No")
    expect(page.get_by_test_id("score-band")).to_have_text("moderate")
    page.get_by_test_id("save-instrument").click()
    expect(page).to_have_url(re.compile(r"/intake/$"))
    expect(page.get_by_test_id("screening-result-c-ssrs")).to_contain_text("moderate")
    assert not problems, problems


def test_asam_recommendation_updates_live_and_an_override_needs_a_reason(clinic, live_server, journey_page):
    page = journey_page
    problems = watch_for_problems(page, live_server.url)
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/asam/new/")
    expect(page.get_by_test_id("dimension-4")).to_contain_text("Readiness to Change")
    page.get_by_role("radio", name="4th edition (2023)").check()
    expect(page.get_by_test_id("dimension-4")).to_contain_text("Substance Use-Related Risks")
    ratings = ["0 none", "1 mild", "2 moderate", "2 moderate", "2 moderate", "1 mild"]
    for dimension, rating in zip("123456", ratings, strict=True):
        page.get_by_test_id(f"dimension-{dimension}").get_by_label(rating, exact=True).check()
    expect(page.get_by_test_id("asam-recommended-level")).to_have_text("2.1")
    page.get_by_label("Choose another level").check()
    page.get_by_label("Level chosen, 4th edition (2023)").select_option("2.5")
    page.get_by_test_id("save-asam").click()
    expect(page.get_by_test_id("override-reason-error")).to_be_visible()
    page.get_by_label("Reason for choosing another level").fill("Two relapses in IOP this year.")
    page.get_by_test_id("save-asam").click()
    expect(page.get_by_test_id("asam-latest-chosen")).to_have_text("2.5")
    assert not problems, problems
