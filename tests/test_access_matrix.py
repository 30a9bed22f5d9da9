"""Role x page x endpoint: who gets the page, who gets 404, who is sent to sign in.

Scoping code is the most dangerous code in a clinic app, so every page and endpoint is
checked for every persona (conftest.py describes them).
"""

import pytest
from django.urls import reverse

from conftest import PERSONAS, SEES_PATIENT

ADMINS = {"admin", "admin_other_site"}
BREAK_GLASS = {"clinician_on_team", "clinician_elsewhere", "medical", "supervisor"}
REGISTER = {
    "clinician_on_team",
    "clinician_elsewhere",
    "case_manager",
    "medical",
    "supervisor",
    "admin",
    "admin_other_site",
}
EVERYONE = set(PERSONAS) - {"anonymous"}


def pages(clinic):
    patient = clinic.patient.public_id
    site = clinic.site_a.public_id
    staff = clinic.case_manager.public_id
    chart_tabs = [
        (f"chart tab {tab}", reverse("patients:chart_tab", args=[patient, tab]), SEES_PATIENT)
        for tab in ["intake", "plan", "schedule", "tests", "phases"]
    ]
    return [
        ("home", reverse("home"), EVERYONE),
        ("patient list", reverse("patients:list"), EVERYONE),
        ("register patient", reverse("patients:create"), REGISTER),
        ("chart", reverse("patients:chart", args=[patient]), SEES_PATIENT),
        *chart_tabs,
        ("chart audit tab", reverse("patients:chart_tab", args=[patient, "audit"]), {"admin"}),
        ("edit patient", reverse("patients:edit", args=[patient]), SEES_PATIENT & REGISTER),
        ("emergency access", reverse("patients:break_glass"), BREAK_GLASS),
        ("access log", reverse("patients:break_glass_log"), ADMINS),
        ("sites", reverse("accounts:site_list"), ADMINS),
        ("new site", reverse("accounts:site_create"), ADMINS),
        ("edit site A", reverse("accounts:site_edit", args=[site]), {"admin"}),
        ("staff", reverse("accounts:staff_list"), ADMINS),
        ("new staff", reverse("accounts:staff_create"), ADMINS),
        ("edit staff at site A", reverse("accounts:staff_edit", args=[staff]), {"admin"}),
        ("staff sign-in at site A", reverse("accounts:staff_security", args=[staff]), {"admin"}),
        ("profile", reverse("account:profile"), EVERYONE),
        ("change password", reverse("account:password_change"), EVERYONE),
        ("set up two-factor", reverse("account:two_factor_setup"), EVERYONE),
    ]


def endpoints(clinic):
    return [
        ("api patients", "/api/v1/patients/", EVERYONE),
        ("api patient", f"/api/v1/patients/{clinic.patient.public_id}/", SEES_PATIENT),
        ("api episodes", "/api/v1/episodes/", EVERYONE),
        ("api episode", f"/api/v1/episodes/{clinic.episode.public_id}/", SEES_PATIENT),
        ("api programs", "/api/v1/programs/", EVERYONE),
        ("api sites", "/api/v1/sites/", EVERYONE),
        ("api staff", "/api/v1/staff/", EVERYONE),
        ("api own tokens", "/api/v1/auth/tokens/", EVERYONE),
        ("api schema", "/api/schema/", EVERYONE),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_answers_each_persona_as_the_access_rules_say(clinic, client, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    failures = []
    for name, url, allowed in pages(clinic):
        response = client.get(url)
        if user is None:
            expected = 302
        else:
            expected = 200 if persona in allowed else 404
        if response.status_code != expected:
            failures.append(f"{name} {url}: expected {expected}, got {response.status_code}")
        if user is None and response.status_code == 302 and not response.url.startswith(reverse("login")):
            failures.append(f"{name}: anonymous redirected to {response.url}, not the login page")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_endpoint_answers_each_persona_as_the_access_rules_say(clinic, client, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    failures = []
    for name, url, allowed in endpoints(clinic):
        response = client.get(url, HTTP_ACCEPT="application/json")
        expected = 401 if user is None else (200 if persona in allowed else 404)
        if response.status_code != expected:
            failures.append(f"{name} {url}: expected {expected}, got {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", sorted(EVERYONE))
def test_patient_list_shows_the_care_team_patient_only_to_those_who_may_see_them(clinic, client, persona):
    client.force_login(clinic.persona(persona))
    page = client.get(reverse("patients:list")).content.decode()
    api = client.get("/api/v1/patients/").json()
    listed_in_api = any(row["id"] == str(clinic.patient.public_id) for row in api["results"])
    assert (clinic.patient.mrn in page) == (persona in SEES_PATIENT)
    assert listed_in_api == (persona in SEES_PATIENT)


def test_navigation_shows_only_what_the_role_may_use(clinic, client):
    client.force_login(clinic.peer_support)
    page = client.get(reverse("home")).content.decode()
    assert reverse("patients:list") in page
    assert reverse("accounts:site_list") not in page
    assert reverse("patients:break_glass") not in page
    client.force_login(clinic.admin)
    page = client.get(reverse("home")).content.decode()
    assert reverse("accounts:site_list") in page
    assert reverse("accounts:staff_list") in page
