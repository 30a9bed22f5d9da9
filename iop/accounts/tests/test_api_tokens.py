"""API tokens (issue 6, defect 7): they expire, are hashed, are revoked on a password change, a
deactivation and sign-out-everywhere, can be listed and revoked, and the token endpoint is
throttled like the sign-in page and asks two-factor users for their code."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from iop.accounts import services
from iop.accounts.tests.factories import TEST_PASSWORD
from iop.accounts.tests.two_factor_helpers import BACKUP_CODE, code_for, enrol
from iop.audit.models import AuditEntry

TOKEN_URL = "/api/v1/auth/token/"
PROBE = "/api/v1/sites/"
START = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)


def obtain(username: str, password: str = TEST_PASSWORD, **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")


def token_of(username: str, **extra) -> str:
    response = obtain(username, **extra)
    assert response.status_code == 200, response.json()
    return response.json()["token"]


def call(token: str, url: str = PROBE, method: str = "get"):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return getattr(api, method)(url)


@pytest.mark.django_db
def test_a_token_expires_after_its_time_to_live(clinic, settings):
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    with time_machine.travel(START, tick=False):
        body = obtain("alice").json()
        assert call(body["token"]).status_code == 200
        assert body["expiry"].startswith((START + ttl).strftime("%Y-%m-%dT%H"))
    with time_machine.travel(START + ttl - datetime.timedelta(minutes=1), tick=False):
        assert call(body["token"]).status_code == 200
    with time_machine.travel(START + ttl + datetime.timedelta(minutes=1), tick=False):
        response = call(body["token"])
        assert response.status_code == 401 and "detail" in response.json()


@pytest.mark.django_db
def test_tokens_are_stored_hashed(clinic):
    token = token_of("alice")
    stored = AuthToken.objects.get(user=clinic.clinician_on_team)
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128


@pytest.mark.django_db
def test_a_password_change_revokes_the_tokens(clinic):
    token = token_of("alice")
    services.change_own_password(actor=clinic.clinician_on_team, password="a-brand-new-long-passphrase")
    assert call(token).status_code == 401


@pytest.mark.django_db
def test_a_password_set_anywhere_revokes_the_tokens(clinic):
    """Django's own paths (the admin site, the reset view) call set_password and save."""
    token = token_of("alice")
    user = clinic.clinician_on_team
    user.set_password("another-long-passphrase-1")
    user.save()
    assert call(token).status_code == 401


@pytest.mark.django_db
def test_deactivation_revokes_the_tokens_and_reactivation_does_not_bring_them_back(clinic):
    token = token_of("alice")
    person = clinic.clinician_on_team
    services.update_staff(actor=clinic.admin, user=person, changes={"is_active": False})
    assert call(token).status_code == 401
    services.update_staff(actor=clinic.admin, user=person, changes={"is_active": True})
    assert call(token).status_code == 401
    assert call(token_of("alice")).status_code == 200  # a new one works


@pytest.mark.django_db
def test_deactivation_ends_the_sessions_for_good(clinic):
    browser = Client()
    browser.force_login(clinic.clinician_on_team)
    services.update_staff(actor=clinic.admin, user=clinic.clinician_on_team, changes={"is_active": False})
    services.update_staff(actor=clinic.admin, user=clinic.clinician_on_team, changes={"is_active": True})
    assert browser.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_a_user_lists_and_revokes_their_own_tokens_only(clinic):
    first, second = token_of("alice"), token_of("alice")
    token_of("bob")
    listed = call(first, "/api/v1/auth/tokens/").json()
    assert len(listed) == 2 and sum(item["current"] for item in listed) == 1
    other = next(item["id"] for item in listed if not item["current"])
    assert call(first, f"/api/v1/auth/tokens/{other}/", "delete").status_code == 204
    assert call(second).status_code == 401 and call(first).status_code == 200
    bobs = AuthToken.objects.get(user=clinic.clinician_elsewhere).token_key
    response = call(first, f"/api/v1/auth/tokens/{bobs}/", "delete")
    assert response.status_code == 404 and "detail" in response.json()
    assert AuthToken.objects.filter(user=clinic.clinician_elsewhere).exists()
    assert AuditEntry.objects.filter(object_type="knox.authtoken", action="delete", object_id=other).exists()


@pytest.mark.django_db
def test_sign_out_everywhere_revokes_every_token_and_ends_the_sessions(clinic):
    first, second = token_of("alice"), token_of("alice")
    browser = Client()
    browser.force_login(clinic.clinician_on_team)
    assert call(first, "/api/v1/auth/sign-out-everywhere/", "post").status_code == 204
    assert call(first).status_code == 401 and call(second).status_code == 401
    assert browser.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_the_token_endpoint_is_throttled_and_answers_429_in_json(clinic, settings):
    assert obtain("alice", "wrong-guess").status_code == 400
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        obtain("alice", "wrong-guess")
    locked = obtain("alice")  # even the right password
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json") and "detail" in locked.json()
    assert not AuthToken.objects.filter(user=clinic.clinician_on_team).exists()
    assert obtain("bob").status_code == 200  # another account is not locked out
    # The sign-in page is locked for the same account too: one throttle.
    page = Client().post(reverse("login"), {"username": "alice", "password": TEST_PASSWORD})
    assert page.status_code == 429


@pytest.mark.django_db
def test_wrong_credentials_get_a_400_with_a_json_body(clinic):
    response = obtain("alice", "wrong")
    assert response.status_code == 400 and "non_field_errors" in response.json()
    assert APIClient().post(TOKEN_URL, {}, format="json").status_code == 400


@pytest.mark.django_db
def test_a_two_factor_user_must_send_a_valid_code(clinic, settings):
    device = enrol(clinic.clinician_on_team)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own throttle is tested below
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    missing = obtain("alice")
    assert missing.status_code == 400 and "otp" in missing.json()
    wrong = obtain("alice", otp="000000" if code_for(device) != "000000" else "111111")
    assert wrong.status_code == 400 and "otp" in wrong.json()
    assert call(token_of("alice", otp=code_for(device))).status_code == 200
    assert obtain("alice", otp=BACKUP_CODE).status_code == 200
    assert obtain("alice", otp=BACKUP_CODE).status_code == 400  # a backup code works once


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout(clinic, settings):
    enrol(clinic.clinician_on_team)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only axes throttles here
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    for _ in range(settings.AXES_FAILURE_LIMIT):
        obtain("alice", otp="12345678")
    assert obtain("alice", otp=BACKUP_CODE).status_code == 429


@pytest.mark.django_db
@pytest.mark.two_factor_policy
def test_a_role_that_must_use_two_factor_gets_no_token_before_enrolling(clinic, settings):
    settings.TWO_FACTOR_REQUIRED_FOR = "admins_and_supervisors"
    response = obtain("ada")
    assert response.status_code == 403 and "two-factor" in response.json()["detail"]
    assert obtain("alice").status_code == 200


@pytest.mark.django_db
def test_an_admin_lists_and_revokes_a_colleagues_tokens(clinic):
    token = token_of("alice")
    key = AuthToken.objects.get(user=clinic.clinician_on_team).token_key
    admin = Client()
    admin.force_login(clinic.admin)
    url = reverse("accounts:staff_security", args=[clinic.clinician_on_team.public_id])
    page = admin.get(url)
    assert page.status_code == 200 and key in page.content.decode()
    admin.post(url, {"action": "revoke_token", "token_id": key})
    assert call(token).status_code == 401
    assert AuditEntry.objects.filter(actor=clinic.admin, object_type="knox.authtoken", object_id=key).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_other_site", "clinician_elsewhere", "supervisor"])
def test_only_the_persons_admins_see_their_tokens(clinic, persona):
    token_of("alice")
    other = Client()
    other.force_login(clinic.persona(persona))
    url = reverse("accounts:staff_security", args=[clinic.clinician_on_team.public_id])
    assert other.get(url).status_code == 404
    assert other.post(url, {"action": "sign_out_everywhere"}).status_code == 404
    assert AuthToken.objects.filter(user=clinic.clinician_on_team).exists()


@pytest.mark.django_db
def test_a_token_is_refused_past_the_per_user_limit(clinic, settings):
    from knox.settings import knox_settings

    limit = knox_settings.TOKEN_LIMIT_PER_USER
    for _ in range(limit):
        AuthToken.objects.create(user=clinic.clinician_on_team)
    response = obtain("alice")
    assert response.status_code == 403 and "revoke" in response.json()["detail"]


@pytest.mark.django_db
def test_after_a_wrong_code_the_device_itself_slows_guessing(clinic):
    device = enrol(clinic.clinician_on_team)
    # The clock stands still: on a loaded machine the first request may outlast the 1 s delay.
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC), tick=False):
        assert obtain("alice", otp="12345678").status_code == 400
        assert obtain("alice", otp=code_for(device)).status_code == 400  # too soon after a failure
