"""Two-factor sign-in: who must enrol, enrolment with a locally rendered QR code, the code
after the password, backup codes, and an admin's reset of a lost second factor."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from iop.accounts.tests.factories import TEST_PASSWORD
from iop.accounts.tests.two_factor_helpers import BACKUP_CODE, code_for, enrol
from iop.audit.models import AuditEntry

SETUP = reverse("account:two_factor_setup")
VERIFY = reverse("account:two_factor_verify")


def sign_in(username: str) -> tuple[Client, object]:
    browser = Client()
    response = browser.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})
    return browser, response


@pytest.mark.two_factor_policy
def test_the_installation_default_requires_two_factor_for_admins_and_supervisors(settings):
    assert settings.TWO_FACTOR_REQUIRED_FOR == "admins_and_supervisors"


@pytest.mark.django_db
@pytest.mark.two_factor_policy
@pytest.mark.parametrize(
    "persona, must_enrol",
    [("admin", True), ("supervisor", True), ("clinician_on_team", False), ("peer_support", False)],
)
def test_admins_and_supervisors_are_sent_to_enrol_after_the_password(clinic, persona, must_enrol):
    browser, _ = sign_in(clinic.persona(persona).username)
    home = browser.get(reverse("home"))
    if must_enrol:
        assert home.status_code == 302 and home.url.startswith(SETUP)
        api = browser.get("/api/v1/sites/")
        assert api.status_code == 403 and "two-factor" in api.json()["detail"]
        assert browser.get(reverse("patients:list")).url.startswith(SETUP)
    else:
        assert home.status_code == 200


@pytest.mark.django_db
@pytest.mark.two_factor_policy
def test_an_installation_can_require_it_for_everyone(clinic, settings):
    settings.TWO_FACTOR_REQUIRED_FOR = "everyone"
    browser, _ = sign_in("pete")
    assert browser.get(reverse("home")).url.startswith(SETUP)


@pytest.mark.django_db
@pytest.mark.two_factor_policy
def test_demo_accounts_marked_exempt_sign_in_with_the_password_alone(clinic):
    clinic.admin.two_factor_exempt = True
    clinic.admin.save(update_fields=["two_factor_exempt"])
    browser, _ = sign_in("ada")
    assert browser.get(reverse("home")).status_code == 200


@pytest.mark.django_db
@pytest.mark.two_factor_policy
def test_enrolment_shows_a_local_qr_code_and_confirms_with_a_code(clinic):
    browser, _ = sign_in("ada")
    page = browser.get(SETUP)
    body = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<img src="data:image/svg\+xml', body), "QR code rendered here, as a data URI"
    assert " style=" not in body and "<script>" not in body  # the strict CSP holds
    device = TOTPDevice.objects.get(user=clinic.admin, confirmed=False)
    wrong = browser.post(SETUP, {"code": "12"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=5)):
        done = browser.post(SETUP, {"code": code_for(device)})
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", done.content.decode())
    assert done.status_code == 200 and len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert browser.get(reverse("home")).status_code == 200  # this session is verified
    entries = AuditEntry.objects.filter(actor=clinic.admin, object_id=str(clinic.admin.public_id))
    assert any("two_factor" in entry.changed_fields for entry in entries)


@pytest.mark.django_db
def test_anyone_enrolled_is_asked_for_the_code_after_the_password(clinic):
    device = enrol(clinic.clinician_on_team)
    browser, response = sign_in("alice")
    assert response.status_code == 302
    home = browser.get(reverse("patients:list"))
    assert home.url.startswith(VERIFY)
    wrong = browser.post(VERIFY, {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    assert browser.get(reverse("home")).status_code == 302
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=3)):
        ok = browser.post(VERIFY + "?next=/patients/", {"code": code_for(device), "next": "/patients/"})
    assert ok.status_code == 302 and ok.url == "/patients/"
    assert browser.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_a_backup_code_signs_in_once(clinic):
    enrol(clinic.clinician_on_team)
    browser, _ = sign_in("alice")
    assert browser.post(VERIFY, {"code": BACKUP_CODE}).status_code == 302
    assert browser.get(reverse("home")).status_code == 200
    again, _ = sign_in("alice")
    again.post(VERIFY, {"code": BACKUP_CODE})
    assert again.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_the_verify_step_refuses_an_open_redirect(clinic):
    enrol(clinic.clinician_on_team)
    browser, _ = sign_in("alice")
    response = browser.post(VERIFY, {"code": BACKUP_CODE, "next": "https://evil.example/"})
    assert response.url == reverse("home")


@pytest.mark.django_db
def test_regenerating_backup_codes_replaces_the_old_ones(clinic):
    enrol(clinic.clinician_on_team)
    browser, _ = sign_in("alice")
    browser.post(VERIFY, {"code": BACKUP_CODE})
    page = browser.post(reverse("account:backup_codes"))
    assert page.status_code == 200
    assert len(re.findall(r"<li>([a-z0-9]{8})</li>", page.content.decode())) == 10
    assert (
        not StaticDevice.objects.get(user=clinic.clinician_on_team)
        .token_set.filter(token=BACKUP_CODE)
        .exists()
    )


@pytest.mark.django_db
def test_an_admin_resets_a_lost_second_factor_audited(clinic):
    enrol(clinic.clinician_on_team)
    lost_phone, _ = sign_in("alice")
    lost_phone.post(VERIFY, {"code": BACKUP_CODE})
    admin = Client()
    admin.force_login(clinic.admin)
    url = reverse("accounts:staff_security", args=[clinic.clinician_on_team.public_id])
    assert "Reset second factor" in admin.get(url).content.decode()
    admin.post(url, {"action": "reset_two_factor"})
    assert not TOTPDevice.objects.filter(user=clinic.clinician_on_team).exists()
    assert not StaticDevice.objects.filter(user=clinic.clinician_on_team).exists()
    assert lost_phone.get(reverse("home")).status_code == 302  # the old session ended
    entry = AuditEntry.objects.filter(
        actor=clinic.admin, object_id=str(clinic.clinician_on_team.public_id)
    ).last()
    assert "two_factor" in entry.changed_fields


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_other_site", "supervisor", "peer_support"])
def test_only_the_persons_admin_may_reset_it(clinic, persona):
    enrol(clinic.clinician_on_team)
    other = Client()
    other.force_login(clinic.persona(persona))
    url = reverse("accounts:staff_security", args=[clinic.clinician_on_team.public_id])
    assert other.post(url, {"action": "reset_two_factor"}).status_code == 404
    assert TOTPDevice.objects.filter(user=clinic.clinician_on_team).exists()


@pytest.mark.django_db
def test_an_admin_cannot_reset_a_colleague_who_also_works_at_sites_they_do_not_run(clinic):
    person = clinic.clinician_on_team
    person.sites.add(clinic.site_b)
    enrol(person)
    admin = Client()
    admin.force_login(clinic.admin)
    url = reverse("accounts:staff_security", args=[person.public_id])
    response = admin.post(url, {"action": "reset_two_factor"}, follow=True)
    assert "sites you do not administer" in response.content.decode()
    assert TOTPDevice.objects.filter(user=person).exists()


@pytest.mark.django_db
def test_enrolling_ends_the_other_sessions_that_signed_in_without_it(clinic):
    here, elsewhere = sign_in("alice")[0], sign_in("alice")[0]
    here.get(SETUP)
    device = TOTPDevice.objects.get(user=clinic.clinician_on_team, confirmed=False)
    here.post(SETUP, {"code": code_for(device)})
    assert here.get(reverse("home")).status_code == 200
    assert elsewhere.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_the_sign_in_steps_cost_no_query_on_an_ordinary_page(clinic, query_count):
    from django.test import RequestFactory

    from iop.accounts.two_factor import NO_DEVICE_SESSION_KEY, pending_step

    browser, _ = sign_in("alice")
    request = RequestFactory().get("/")
    request.session = browser.session
    assert request.session.get(NO_DEVICE_SESSION_KEY) is True  # loaded, as the middleware finds it
    request.user = clinic.clinician_on_team
    request.user.is_verified = lambda: False
    assert query_count(lambda: pending_step(request)) == 0
