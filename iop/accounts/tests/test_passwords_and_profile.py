"""Passwords (change, reset by e-mail, an admin's forced reset, 12 characters at least) and the
profile page (own details, password, second factor, tokens, sign out everywhere)."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from iop.accounts import services
from iop.accounts.models import Role
from iop.accounts.tests.factories import TEST_PASSWORD, api_token_for
from iop.audit.models import AuditEntry

NEW_PASSWORD = "a-long-and-fresh-passphrase"
PROFILE = reverse("account:profile")
CHANGE = reverse("account:password_change")


def sign_in(username: str, password: str = TEST_PASSWORD) -> Client:
    browser = Client()
    response = browser.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, "sign-in failed"
    return browser


@pytest.mark.django_db
def test_passwords_need_at_least_12_characters():
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("Quiet-Tree7")  # 11 characters
    validate_password("Quiet-Trees7")


@pytest.mark.django_db
def test_changing_ones_password_keeps_this_session_and_ends_the_others(clinic):
    here, elsewhere = sign_in("alice"), sign_in("alice")
    token = api_token_for(clinic.clinician_on_team)
    response = here.post(
        CHANGE, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert here.get(reverse("home")).status_code == 200
    assert elsewhere.get(reverse("home")).status_code == 302
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    sign_in("alice", NEW_PASSWORD)


@pytest.mark.django_db
def test_a_wrong_old_password_or_a_short_new_one_is_shown_on_the_form(clinic):
    browser = sign_in("alice")
    wrong = browser.post(
        CHANGE, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert wrong.status_code == 200 and "incorrect" in wrong.content.decode()
    short = browser.post(
        CHANGE, {"old_password": TEST_PASSWORD, "new_password1": "short1", "new_password2": "short1"}
    )
    assert short.status_code == 200 and "at least 12" in short.content.decode()


@pytest.mark.django_db
def test_a_password_is_reset_by_email(clinic):
    token = api_token_for(clinic.clinician_on_team)
    sent = Client().post(reverse("password_reset"), {"email": clinic.clinician_on_team.email})
    assert sent.status_code == 302 and len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body).group(1)
    browser = Client()
    form = browser.get(link, follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    done = browser.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    sign_in("alice", NEW_PASSWORD)
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    used = Client().get(link, follow=True)
    assert "expired or was already used" in used.content.decode()


@pytest.mark.django_db
def test_a_reset_for_an_unknown_address_says_the_same(clinic):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response.status_code == 302 and not mail.outbox


@pytest.mark.django_db
def test_an_admin_forces_a_new_password_at_next_sign_in(clinic):
    person = clinic.clinician_on_team
    signed_in = sign_in("alice")
    token = api_token_for(person)
    admin = Client()
    admin.force_login(clinic.admin)
    admin.post(
        reverse("accounts:staff_security", args=[person.public_id]), {"action": "require_password_reset"}
    )
    assert signed_in.get(reverse("home")).status_code == 302  # their session ended now
    assert not AuthToken.objects.filter(token_key=token[:15]).exists()
    browser = sign_in("alice")
    assert browser.get(reverse("patients:list")).url.startswith(CHANGE)
    assert browser.get("/api/v1/sites/").status_code == 403
    browser.post(
        CHANGE, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert browser.get(reverse("home")).status_code == 200
    entry = AuditEntry.objects.filter(actor=clinic.admin, object_id=str(person.public_id)).last()
    assert "must_change_password" in entry.changed_fields


@pytest.mark.django_db
def test_a_new_account_chooses_its_own_password_at_first_sign_in(clinic):
    user = services.create_staff(
        actor=clinic.admin,
        username="newbie",
        password="temporary-passphrase-1",
        sites=[clinic.site_a],
        role=Role.CLINICIAN,
        first_name="New",
        last_name="Person",
    )
    assert user.must_change_password
    browser = sign_in("newbie", "temporary-passphrase-1")
    assert browser.get(reverse("home")).url.startswith(CHANGE)


@pytest.mark.django_db
def test_the_user_menu_links_to_the_profile_page(clinic):
    browser = sign_in("alice")
    assert f'href="{PROFILE}"' in browser.get(reverse("home")).content.decode()
    page = browser.get(PROFILE)
    body = page.content.decode()
    assert page.status_code == 200
    for part in (
        "Your details",
        "Change your password",
        "Two-factor sign-in",
        "API tokens",
        "Sign out everywhere",
    ):
        assert part in body
    assert " style=" not in body


@pytest.mark.django_db
def test_one_changes_ones_own_details_audited(clinic):
    browser = sign_in("alice")
    response = browser.post(
        PROFILE, {"first_name": "Alicia", "last_name": "Smith", "email": "alicia@example.test"}
    )
    assert response.status_code == 302
    clinic.clinician_on_team.refresh_from_db()
    assert clinic.clinician_on_team.first_name == "Alicia"
    bad = browser.post(PROFILE, {"first_name": "", "last_name": "Smith", "email": "not-an-email"})
    assert bad.status_code == 200 and "Enter a valid email address" in bad.content.decode()
    assert AuditEntry.objects.filter(actor=clinic.clinician_on_team, object_type="accounts.user").exists()


@pytest.mark.django_db
def test_the_profile_lists_and_revokes_ones_tokens(clinic):
    token = api_token_for(clinic.clinician_on_team)
    api_token_for(clinic.clinician_elsewhere)
    browser = sign_in("alice")
    body = browser.get(PROFILE).content.decode()
    assert token[:15] in body and body.count(">Revoke<") == 1
    bobs = AuthToken.objects.get(user=clinic.clinician_elsewhere).token_key
    browser.post(reverse("account:token_revoke", args=[bobs]))
    assert AuthToken.objects.filter(token_key=bobs).exists()  # not one's own: nothing happens
    browser.post(reverse("account:token_revoke", args=[token[:15]]))
    assert not AuthToken.objects.filter(user=clinic.clinician_on_team).exists()


@pytest.mark.django_db
def test_sign_out_everywhere_from_the_profile(clinic):
    api_token_for(clinic.clinician_on_team)
    here, elsewhere = sign_in("alice"), sign_in("alice")
    response = here.post(reverse("account:sign_out_everywhere"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert here.get(reverse("home")).status_code == 302
    assert elsewhere.get(reverse("home")).status_code == 302
    assert not AuthToken.objects.filter(user=clinic.clinician_on_team).exists()
