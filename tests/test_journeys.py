"""User journeys in a real browser (Playwright driving Debian's chromium)."""

import re

import pytest
from playwright.sync_api import expect

from iop.accounts.tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOMES = [
    ("clinician_on_team", "Clinician home", ["caseload", "my-alerts", "todays-sessions"]),
    ("case_manager", "Case manager home", ["caseload", "scheduling"]),
    ("medical", "Medical home", ["caseload", "my-alerts", "withdrawal"]),
    ("peer_support", "Peer support home", ["caseload", "check-ins"]),
    ("admin", "Admin home", ["sites", "staff", "audit-status", "reports"]),
]


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("persona, heading, cards", HOMES)
def test_each_role_signs_in_and_sees_its_home_page(
    clinic, live_server, journey_page, persona, heading, cards
):
    page = journey_page
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.on("response", lambda response: response.status >= 400 and console_errors.append(response.url))
    sign_in(page, live_server.url, clinic.persona(persona).username)
    expect(page.get_by_test_id("home-heading")).to_have_text(heading)
    for card in cards:
        expect(page.get_by_test_id(card)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    if persona == "admin":
        expect(nav.get_by_role("link", name="Sites")).to_be_visible()
    else:
        expect(nav.get_by_role("link", name="Sites")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert not console_errors, console_errors  # e.g. a blocked asset or a CSP violation


def test_clinician_finds_a_patient_and_opens_the_chart(clinic, live_server, journey_page):
    page = journey_page
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Search").fill("McTestface")
    row_link = page.get_by_test_id("patient-table").get_by_role("link", name=re.compile("McTestface"))
    expect(row_link).to_be_visible()
    row_link.click()
    header = page.get_by_test_id("chart-header")
    expect(header).to_contain_text(clinic.patient.mrn)
    expect(header).to_contain_text("Phase 1: Intensive")
    page.get_by_test_id("tab-phases").click()
    expect(page.get_by_role("cell", name="2. Aftercare")).to_be_visible()


def test_admin_reads_the_api_docs_served_locally(clinic, live_server, journey_page):
    page = journey_page
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on(
        "request",
        lambda request: not request.url.startswith(live_server.url) and problems.append(request.url),
    )
    sign_in(page, live_server.url, clinic.admin.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API").click()
    expect(page.get_by_text("/api/v1/patients/{public_id}/").first).to_be_visible()
    assert not problems, problems  # no CSP violation, nothing fetched from elsewhere
