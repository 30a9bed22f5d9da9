"""Two-factor sign-in in a real browser: an admin enrols after the password (QR code shown
under the strict CSP, no console error), keeps the backup codes, and signs in with a code."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from iop.accounts.tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.two_factor_policy]


def code_from_key(key: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key on the page (`steps_ahead` periods later:
    each code is accepted once, within one period of tolerance)."""
    secret = key.replace(" ", "")
    secret += "=" * (-len(secret) % 8)
    return str(totp(b32decode(secret), drift=steps_ahead)).zfill(6)


def test_an_admin_enrols_then_signs_in_with_a_code(clinic, live_server, journey_page, settings):
    settings.TWO_FACTOR_REQUIRED_FOR = "admins_and_supervisors"
    page = journey_page
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("response", lambda response: response.status >= 400 and problems.append(response.url))

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(clinic.admin.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    qr = page.get_by_test_id("totp-qr")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('[data-testid=totp-qr]').naturalWidth") > 0
    key = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code").fill(code_from_key(key))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_test_id("home-heading")).to_have_text("Admin home")
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Username").fill(clinic.admin.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    # The next period's code as the device counts periods: a first code typed across a period
    # boundary leaves the device's drift at -1 (django-otp's OTP_TOTP_SYNC), and a code one period
    # ahead of the clock alone would then fall outside its window.
    device = TOTPDevice.objects.get(user=clinic.admin, confirmed=True)
    page.get_by_label("Code").fill(code_from_key(key, steps_ahead=device.drift + 1))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("home-heading")).to_have_text("Admin home")
    assert not problems, problems
