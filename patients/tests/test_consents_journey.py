"""Consents in a real browser: a case manager takes a Part 2 consent with the patient present,
the patient signs, and later revokes it (the page asks to confirm); no CSP violation on the way."""

import datetime
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from iop.accounts.tests.factories import TEST_PASSWORD
from patients.models import Consent, ConsentStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("CONSENT_SCREENSHOTS")  # a folder, to look at the pages while working


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()


def watch_for_problems(page, base_url):
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("request", lambda r: not r.url.startswith(base_url) and problems.append(r.url))
    return problems


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_part2_consent_is_signed_by_the_patient_and_later_revoked(clinic, live_server, journey_page):
    page = journey_page
    problems = watch_for_problems(page, live_server.url)
    sign_in(page, live_server.url, clinic.case_manager.username)
    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/intake/")
    expect(page.get_by_test_id("treatment-consent-missing")).to_be_visible()
    shot(page, "1-intake-before")
    page.get_by_role("link", name="Part 2 consent to disclose").click()

    page.get_by_label("Recipient").fill("County Probation Department")
    page.get_by_label("Purpose").fill("Report attendance to my probation officer")
    page.get_by_label("Information to disclose").fill("Attendance and drug-test results")
    expires = timezone.localdate() + datetime.timedelta(days=90)
    page.get_by_label("Expires on").fill(expires.isoformat())
    page.get_by_role("button", name="Show the consent to the patient").click()

    text = page.get_by_test_id("consent-text")
    expect(text).to_contain_text("County Probation Department")
    expect(text).to_contain_text("42 CFR 2.32")
    page.get_by_label("Patient: type your full legal name to sign").fill("Testy Mc")
    page.get_by_label("I have read and agree").check()
    shot(page, "2-sign")
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.get_by_text("must match the patient's legal name")).to_be_visible()
    shot(page, "3-wrong-name")

    page.get_by_label("Patient: type your full legal name to sign").fill("testy mctestface")
    page.get_by_label("I have read and agree").check()
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.get_by_test_id("consent-detail")).to_contain_text("Active")
    shot(page, "4-detail")
    consent = Consent.objects.get()
    assert consent.recipient == "County Probation Department" and consent.witnessed_by == clinic.case_manager

    page.get_by_test_id("revoke-link").click()
    page.get_by_label("How the patient asked").fill("Phoned the front desk.")
    page.once("dialog", lambda dialog: dialog.dismiss())  # first: change of mind, nothing happens
    page.get_by_role("button", name="Revoke the consent").click()
    consent.refresh_from_db()
    assert consent.revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke the consent").click()
    expect(page.get_by_test_id("consent-detail")).to_contain_text("inactive")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED

    page.goto(f"{live_server.url}/patients/{clinic.patient.public_id}/intake/")
    expect(page.get_by_test_id("consent-active")).to_have_count(0)
    expect(page.get_by_test_id("consents-inactive")).to_contain_text("Revoked")
    shot(page, "5-intake-after")
    assert not problems, problems
