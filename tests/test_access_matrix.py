"""Role x page x endpoint: who gets the page, who gets 404, who is sent to sign in.

Scoping code is the most dangerous code in a clinic app, so every page and endpoint is
checked for every persona (conftest.py describes them).
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PERSONAS, READS_CLINICAL_DETAIL, SEES_PATIENT

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
# Drug testing (ADR 0011): every role but peer support uses the site's collection worklist.
TESTING_STAFF = EVERYONE - {"peer_support"}
ORDERS_TESTS = {"clinician_on_team", "medical", "supervisor"}


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
        # Programs are organisation-wide configuration: every admin edits them (ADR 0013).
        ("programs", reverse("programs:list"), ADMINS),
        ("edit program", reverse("programs:edit", args=[clinic.episode.program.public_id]), ADMINS),
        ("new phase", reverse("programs:phase_create", args=[clinic.episode.program.public_id]), ADMINS),
        ("sites", reverse("accounts:site_list"), ADMINS),
        ("new site", reverse("accounts:site_create"), ADMINS),
        ("edit site A", reverse("accounts:site_edit", args=[site]), {"admin"}),
        ("staff", reverse("accounts:staff_list"), ADMINS),
        ("new staff", reverse("accounts:staff_create"), ADMINS),
        ("edit staff at site A", reverse("accounts:staff_edit", args=[staff]), {"admin"}),
        ("staff sign-in at site A", reverse("accounts:staff_security", args=[staff]), {"admin"}),
        ("testing worklist", reverse("testing:worklist"), TESTING_STAFF),
        ("order a drug test", reverse("testing_chart:order", args=[patient]), ORDERS_TESTS),
        ("random draws", reverse("testing:draw_list"), ADMINS),
        ("run a missed draw", reverse("testing:draw_run"), ADMINS),
        ("testing policies", reverse("testing:policy_list"), ADMINS),
        ("testing report", reverse("testing:site_report"), ADMINS | {"supervisor"}),
        (
            "testing policy preview",
            reverse("testing:policy_edit", args=[clinic.episode.current_phase.public_id]),
            ADMINS,
        ),
        ("profile", reverse("account:profile"), EVERYONE),
        ("change password", reverse("account:password_change"), EVERYONE),
        ("set up two-factor", reverse("account:two_factor_setup"), EVERYONE),
        *scheduling_pages(clinic),
    ]


SERIES_WRITERS = {"clinician_on_team", "clinician_elsewhere", "supervisor", "admin", "admin_other_site"}
ENROLS = {"clinician_on_team", "case_manager", "supervisor", "admin"}  # of those who see the patient


def scheduling_pages(clinic):
    """Scheduling (ADR 0010): every role reads the series at its sites; admins keep rooms."""
    from scheduling.models import Occurrence
    from scheduling.tests.factories import RoomFactory, SeriesFactory

    series = SeriesFactory(
        site=clinic.site_a, room=RoomFactory(site=clinic.site_a), facilitator=clinic.clinician_on_team
    )
    occurrence = Occurrence.objects.create(
        series=series,
        original_start=timezone.now(),
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=3),
        local_date=timezone.localdate(),
        room=series.room,
        facilitator=series.facilitator,
    )
    at_site_a = EVERYONE - {"admin_other_site"}
    return [
        ("group series", reverse("scheduling:series_list"), EVERYONE),
        ("my week", reverse("scheduling:my_calendar"), EVERYONE),
        ("site calendar", reverse("scheduling:calendar"), EVERYONE),
        ("new group series", reverse("scheduling:series_create"), SERIES_WRITERS),
        ("series at site A", reverse("scheduling:series_detail", args=[series.public_id]), at_site_a),
        ("roster at site A", reverse("scheduling:roster", args=[occurrence.public_id]), at_site_a),
        ("rooms", reverse("scheduling:rooms"), ADMINS),
        ("new room", reverse("scheduling:room_create"), ADMINS),
        ("room at site A", reverse("scheduling:room_edit", args=[series.room.public_id]), {"admin"}),
        ("enrol", reverse("scheduling:enrol", args=[clinic.patient.public_id]), ENROLS),
        ("schedule builder", reverse("scheduling:build_week", args=[clinic.patient.public_id]), ENROLS),
        ("book appointment", reverse("scheduling:book_appointment", args=[clinic.patient.public_id]), ENROLS),
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
        ("api rooms", "/api/v1/rooms/", EVERYONE),
        ("api group series", "/api/v1/group-series/", EVERYONE),
        ("api occurrences", "/api/v1/occurrences/", EVERYONE),
        ("api enrolments", "/api/v1/enrolments/", EVERYONE),
        ("api attendance", "/api/v1/attendance/", EVERYONE),
        ("api appointments", "/api/v1/appointments/", EVERYONE),
        ("api weekly hours", f"/api/v1/weekly-hours/{clinic.patient.public_id}/", SEES_PATIENT),
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


# --- Treatment plans (docs/decisions/0013-treatment-plans.md) ----------------------------------
# Everyone who sees the patient reads the plan; clinicians who reach the patient write and sign.
PLAN_WRITERS = {"clinician_on_team", "supervisor"}


def plan_pages(clinic):
    from treatment_plans import services
    from treatment_plans.tests.factories import active_plan

    plan, active = active_plan(clinic)
    draft = services.start_revision(actor=clinic.clinician_on_team, plan=plan, change_summary="Revision")
    patient = clinic.patient.public_id
    problem = draft.problems.first()
    versioned = lambda name, version: reverse(f"treatment_plans:{name}", args=[patient, version.public_id])  # noqa: E731
    item = lambda name: reverse(f"treatment_plans:{name}", args=[patient, "problem", problem.public_id])  # noqa: E731
    return [
        ("plan tab", reverse("treatment_plans:plan", args=[patient]), SEES_PATIENT),
        ("plan version", versioned("version", active), SEES_PATIENT),
        ("plan draft", versioned("version", draft), SEES_PATIENT),
        ("plan compare", reverse("treatment_plans:compare", args=[patient]), SEES_PATIENT),
        ("plan print", versioned("print", active), SEES_PATIENT),
        ("plan review", reverse("treatment_plans:review", args=[patient]), PLAN_WRITERS),
        ("discharge", reverse("treatment_plans:discharge", args=[patient]), PLAN_WRITERS),
        ("plan sign", versioned("sign", active), PLAN_WRITERS),
        ("plan submit", versioned("submit", draft), PLAN_WRITERS),
        ("plan add problem", versioned("problem_add", draft), PLAN_WRITERS),
        ("plan add goal", item("item_add"), PLAN_WRITERS),
        ("plan edit problem", item("item_edit"), PLAN_WRITERS),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_plan_page_answers_each_persona_as_the_access_rules_say(clinic, client, persona):
    user = clinic.persona(persona)
    start = reverse("treatment_plans:start", args=[clinic.patient.public_id])
    if user is not None:
        client.force_login(user)
    failures = []
    expected_start = 302 if user is None else (200 if persona in PLAN_WRITERS else 404)
    if client.get(start).status_code != expected_start:
        failures.append(f"plan start: expected {expected_start}")
    for name, url, allowed in plan_pages(clinic):
        response = client.get(url)
        expected = 302 if user is None else (200 if persona in allowed else 404)
        if response.status_code != expected:
            failures.append(f"{name} {url}: expected {expected}, got {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_plan_endpoint_answers_each_persona_as_the_access_rules_say(clinic, client, persona):
    from treatment_plans.tests.factories import active_plan

    plan, version = active_plan(clinic)
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    patient = clinic.patient.public_id
    endpoints = [
        f"/api/v1/treatment-plans/?patient={patient}",
        f"/api/v1/treatment-plans/{plan.public_id}/",
        f"/api/v1/plan-versions/{version.public_id}/",
        f"/api/v1/plan-problems/{version.problems.get().public_id}/",
        f"/api/v1/plan-reviews/?patient={patient}",
    ]
    failures = []
    for url in endpoints:
        response = client.get(url, HTTP_ACCEPT="application/json")
        expected = 401 if user is None else (200 if persona in SEES_PATIENT else 404)
        if response.status_code != expected:
            failures.append(f"{url}: expected {expected}, got {response.status_code}")
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


# --- Minimum necessary by role (docs/decisions/0008-minimum-necessary.md) ------------------------
# Everyone who sees the patient reads contact details, schedule, attendance and that there is an
# alert; instrument results, ASAM ratings, consent contents and alert details only the roles in
# READS_CLINICAL_DETAIL (peer support does not): their pages 403, API lists 403, API details 404.

RECIPIENT = "Riverside Probation Office"


@pytest.fixture
def clinical_detail(clinic):
    from patients.models import ConsentKind
    from patients.services import screening
    from patients.tests.test_consents import sign
    from patients.tests.test_screening_services import PHQ9_ITEM9_POSITIVE

    response = screening.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
    )
    assessment = screening.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings={str(d): 2 for d in range(1, 7)},
    )
    consent = sign(
        clinic.patient,
        clinic.clinician_on_team,
        kind=ConsentKind.PART2_DISCLOSURE,
        recipient=RECIPIENT,
        purpose="Court-ordered treatment compliance",
        information_description="Attendance and progress in treatment",
        expiry_event="End of probation",
    )
    return response, assessment, consent


def clinical_detail_pages(clinic, clinical_detail):
    response, assessment, consent = clinical_detail
    patient = clinic.patient.public_id
    return [
        reverse("patients:instrument_history", args=[patient, "phq-9"]),
        reverse("patients:instrument_response", args=[patient, response.public_id]),
        reverse("patients:asam_history", args=[patient]),
        reverse("patients:asam_assessment", args=[patient, assessment.public_id]),
        reverse("patients:consent_list", args=[patient]),
        reverse("patients:consent_detail", args=[patient, consent.public_id]),
    ]


@pytest.mark.parametrize("persona", sorted(SEES_PATIENT))
def test_clinical_detail_pages_answer_only_the_roles_that_read_them(clinic, client, clinical_detail, persona):
    client.force_login(clinic.persona(persona))
    expected = 200 if persona in READS_CLINICAL_DETAIL else 403
    failures = []
    for url in clinical_detail_pages(clinic, clinical_detail):
        response = client.get(url)
        if response.status_code != expected:
            failures.append(f"{url}: expected {expected}, got {response.status_code}")
        if expected == 403 and RECIPIENT.encode() in response.content:
            failures.append(f"{url}: the refusal shows the consent's recipient")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", sorted(SEES_PATIENT))
def test_the_chart_shows_clinical_detail_only_to_the_roles_that_read_it(
    clinic, client, clinical_detail, persona
):
    client.force_login(clinic.persona(persona))
    html = client.get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"])
    ).content.decode()
    reads = persona in READS_CLINICAL_DETAIL
    # What everyone on the care team reads: contact details, the availability week, the alert.
    assert clinic.patient.legal_last_name in html
    assert 'data-testid="availability"' in html
    assert 'data-testid="chart-alert"' in html
    # Instrument results and scores, score history, ASAM ratings, consent contents, alert text.
    assert ('data-testid="screening-results"' in html) == reads, persona
    assert ('data-testid="screening-charts"' in html) == reads, persona
    assert ('data-testid="asam-card"' in html) == reads, persona
    assert (RECIPIENT in html) == reads, persona
    assert ("item 9 positive" in html) == reads, persona
    assert ("Safety alert" in html) == (not reads), persona
    assert ('data-testid="screening-withheld"' in html) == (not reads), persona
    assert ('data-testid="consents-withheld"' in html) == (not reads), persona


@pytest.mark.parametrize("persona", ["clinician_on_team", "case_manager", "medical", "peer_support"])
def test_the_home_page_alert_names_the_score_only_to_the_roles_that_read_it(
    clinic, client, clinical_detail, persona
):
    client.force_login(clinic.persona(persona))
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="my-alerts"' in html
    assert clinic.patient.display_name in html  # the care team's alert is listed for everyone on it
    assert ("item 9 positive" in html) == (persona in READS_CLINICAL_DETAIL), persona
    assert ("Safety alert" in html) == (persona not in READS_CLINICAL_DETAIL), persona


@pytest.mark.parametrize("persona", sorted(SEES_PATIENT))
def test_the_api_refuses_clinical_detail_to_the_roles_that_do_not_read_it(
    clinic, client, clinical_detail, persona
):
    response, assessment, consent = clinical_detail
    client.force_login(clinic.persona(persona))
    patient = {"patient": str(clinic.patient.public_id)}
    reads = persona in READS_CLINICAL_DETAIL
    rows = [
        ("/api/v1/instrument-responses/", patient, 200 if reads else 403),
        (f"/api/v1/instrument-responses/{response.public_id}/", {}, 200 if reads else 404),
        ("/api/v1/asam-assessments/", patient, 200 if reads else 403),
        (f"/api/v1/asam-assessments/{assessment.public_id}/", {}, 200 if reads else 404),
        ("/api/v1/consents/", patient, 200 if reads else 403),
        (f"/api/v1/consents/{consent.public_id}/", {}, 200 if reads else 404),
        # What peer support reads stays open to them.
        (f"/api/v1/patients/{clinic.patient.public_id}/", {}, 200),
        ("/api/v1/availability-windows/", patient, 200),
    ]
    failures = []
    for url, params, expected in rows:
        answer = client.get(url, params, HTTP_ACCEPT="application/json")
        if answer.status_code != expected:
            failures.append(f"{url}: expected {expected}, got {answer.status_code}")
        elif expected != 200 and "detail" not in answer.json():
            failures.append(f"{url}: the refusal has no JSON detail")
        elif expected != 200 and RECIPIENT in answer.content.decode():
            failures.append(f"{url}: the refusal shows the consent's recipient")
    assert not failures, "\n".join(failures)
