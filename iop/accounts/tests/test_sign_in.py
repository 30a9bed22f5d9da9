"""Signing in and out, each role's home page, throttling and idle expiry."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from iop.accounts.tests.factories import TEST_PASSWORD

HOME_HEADINGS = {
    "clinician_on_team": "Clinician home",
    "case_manager": "Case manager home",
    "medical": "Medical home",
    "peer_support": "Peer support home",
    "admin": "Admin home",
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona, heading", HOME_HEADINGS.items())
def test_each_role_lands_on_its_own_home_page(clinic, client, persona, heading):
    user = clinic.persona(persona)
    response = client.post(
        reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert heading in response.content.decode()


@pytest.mark.django_db
def test_sign_out_ends_the_session(clinic, client):
    client.force_login(clinic.clinician_on_team)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_gives_a_clear_message(clinic, client):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_repeated_failed_logins_are_throttled_even_with_the_right_password(clinic, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong-guess"})
    response = client.post(reverse("login"), {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Another account from the same address is not locked out.
    other = client.post(reverse("login"), {"username": "bob", "password": TEST_PASSWORD})
    assert other.status_code == 302


@pytest.mark.django_db
def test_an_idle_session_expires(clinic, client, settings):
    start = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        client.post(reverse("login"), {"username": "alice", "password": TEST_PASSWORD})
        assert client.get(reverse("home")).status_code == 200
    idle = settings.SESSION_IDLE_TIMEOUT_MINUTES
    with time_machine.travel(start + datetime.timedelta(minutes=idle - 1), tick=False):
        assert client.get(reverse("home")).status_code == 200  # activity renews the session
    with time_machine.travel(start + datetime.timedelta(minutes=2 * idle - 2), tick=False):
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=3 * idle), tick=False):
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(clinic, client):
    import re

    client.force_login(clinic.clinician_on_team)
    for url in [
        reverse("home"),
        reverse("patients:list"),
        reverse("patients:chart", args=[clinic.patient.public_id]),
    ]:
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        body = response.content.decode()
        # Every <script> loads a file or is a JSON data island: nothing inline executes.
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert " style=" not in body, "inline style attributes are blocked by the policy"
        assert re.search(r"\son[a-z]+=", body) is None, "inline event handlers are blocked by the policy"


def test_health_check_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"
