"""Who gets each screening page and endpoint: persona x page x endpoint (conftest.py describes the
personas). A patient outside reach is a 404; a page a role may not use is a 404; an API write a
role may not make is a 403 with a JSON body; anonymous users are sent to sign in (API: 401)."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import PERSONAS, SEES_PATIENT
from patients.models import AsamAssessment, InstrumentResponse
from patients.services import screening as services
from patients.tests.test_screening_services import PHQ9_ITEM9_POSITIVE

pytestmark = pytest.mark.django_db

EVERYONE = set(PERSONAS) - {"anonymous"}
# Clinicians (the supervisor is one) and medical staff administer; clinicians assess.
ADMINISTER = SEES_PATIENT & {"clinician_on_team", "medical", "supervisor"}
ASSESS = SEES_PATIENT & {"clinician_on_team", "supervisor"}
ALL_MODERATE = {str(d): 2 for d in range(1, 7)}


@pytest.fixture
def results(clinic):
    response = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
    )
    assessment = services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ALL_MODERATE
    )
    return response, assessment


def pages(clinic, results):
    response, assessment = results
    patient = clinic.patient.public_id

    def url(name, *args):
        return reverse(f"patients:{name}", args=[patient, *args])

    return [
        ("GET", "administer phq-9", url("administer_instrument", "phq-9"), {}, ADMINISTER),
        ("GET", "administer ciwa-ar", url("administer_instrument", "ciwa-ar"), {}, ADMINISTER),
        ("POST", "live score", url("score_instrument", "phq-9"), {"1": "1"}, ADMINISTER),
        ("GET", "instrument history", url("instrument_history", "phq-9"), {}, SEES_PATIENT),
        ("GET", "one response", url("instrument_response", response.public_id), {}, SEES_PATIENT),
        ("GET", "new ASAM", url("new_asam"), {}, ASSESS),
        ("POST", "live ASAM recommendation", url("asam_recommend"), {"edition": "3"}, ASSESS),
        ("GET", "ASAM history", url("asam_history"), {}, SEES_PATIENT),
        ("GET", "one ASAM assessment", url("asam_assessment", assessment.public_id), {}, SEES_PATIENT),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_screening_page_answers_each_persona_as_the_access_rules_say(clinic, client, results, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    failures = []
    for method, name, url, data, allowed in pages(clinic, results):
        response = client.post(url, data) if method == "POST" else client.get(url)
        expected = 302 if user is None else (200 if persona in allowed else 404)
        if response.status_code != expected:
            failures.append(f"{name} {url}: expected {expected}, got {response.status_code}")
        if user is None and not response.url.startswith(reverse("login")):
            failures.append(f"{name}: anonymous sent to {response.url}, not the login page")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_saving_through_the_pages_follows_the_same_rules(clinic, client, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    patient = clinic.patient.public_id
    answers = {key: str(value) for key, value in PHQ9_ITEM9_POSITIVE.items()}
    saved = client.post(reverse("patients:administer_instrument", args=[patient, "phq-9"]), answers)
    assessed = client.post(
        reverse("patients:new_asam", args=[patient]),
        {"edition": "3", "decision": "accept", **{f"rating_{d}": "2" for d in range(1, 7)}},
    )
    assert saved.status_code == (302 if user is None or persona in ADMINISTER else 404)
    assert assessed.status_code == (302 if user is None or persona in ASSESS else 404)
    assert InstrumentResponse.objects.exists() == (persona in ADMINISTER)
    assert AsamAssessment.objects.exists() == (persona in ASSESS)


def test_the_intake_card_shows_each_role_only_what_it_may_do(clinic, client):
    intake = reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"])
    for persona in sorted(SEES_PATIENT):
        client.force_login(clinic.persona(persona))
        html = client.get(intake).content.decode()
        assert 'data-testid="screening-card"' in html
        assert ('data-testid="administer-menu"' in html) == (persona in ADMINISTER), persona
        assert ('data-testid="new-asam"' in html) == (persona in ASSESS), persona


def endpoints(clinic, results):
    response, assessment = results
    return [
        ("GET", "instrument definitions", "/api/v1/instruments/", None, EVERYONE, 200),
        ("GET", "one definition", "/api/v1/instruments/c-ssrs/", None, EVERYONE, 200),
        (
            "POST",
            "score",
            "/api/v1/instruments/cage/score/",
            {"answers": {str(n): False for n in range(1, 5)}},
            EVERYONE,
            200,
        ),
        ("GET", "ASAM vocabulary", "/api/v1/asam/", None, EVERYONE, 200),
        (
            "POST",
            "ASAM recommend",
            "/api/v1/asam/recommend/",
            {"edition": "4", "ratings": ALL_MODERATE},
            EVERYONE,
            200,
        ),
        ("GET", "instrument responses", "/api/v1/instrument-responses/", None, EVERYONE, 200),
        (
            "GET",
            "one response",
            f"/api/v1/instrument-responses/{response.public_id}/",
            None,
            SEES_PATIENT,
            200,
        ),
        ("GET", "ASAM assessments", "/api/v1/asam-assessments/", None, EVERYONE, 200),
        (
            "GET",
            "one assessment",
            f"/api/v1/asam-assessments/{assessment.public_id}/",
            None,
            SEES_PATIENT,
            200,
        ),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_screening_endpoint_answers_each_persona_as_the_access_rules_say(clinic, results, persona):
    api = APIClient()
    user = clinic.persona(persona)
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    failures = []
    for method, name, url, body, allowed, ok in endpoints(clinic, results):
        response = api.post(url, body, format="json") if method == "POST" else api.get(url)
        expected = 401 if user is None else (ok if persona in allowed else 404)
        if response.status_code != expected:
            failures.append(f"{name} {url}: expected {expected}, got {response.status_code}")
        elif not response.json():
            failures.append(f"{name}: empty body")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_writes_answer_each_persona_as_the_access_rules_say(clinic, persona):
    api = APIClient()
    user = clinic.persona(persona)
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    patient = str(clinic.patient.public_id)
    administered = api.post(
        "/api/v1/instrument-responses/",
        {"patient": patient, "instrument_code": "phq-9", "answers": PHQ9_ITEM9_POSITIVE},
        format="json",
    )
    assessed = api.post(
        "/api/v1/asam-assessments/",
        {"patient": patient, "edition": "3", "ratings": ALL_MODERATE},
        format="json",
    )

    def expected(allowed):
        if user is None:
            return 401
        if persona not in SEES_PATIENT:
            return 404
        return 201 if persona in allowed else 403

    assert administered.status_code == expected(ADMINISTER), administered.json()
    assert assessed.status_code == expected(ASSESS), assessed.json()


@pytest.mark.parametrize("persona", sorted(EVERYONE))
def test_lists_show_the_patients_results_only_to_those_who_may_see_them(clinic, results, persona):
    api = APIClient()
    api.force_authenticate(clinic.persona(persona))
    responses = api.get("/api/v1/instrument-responses/").json()["results"]
    assessments = api.get("/api/v1/asam-assessments/").json()["results"]
    patient = str(clinic.patient.public_id)
    assert any(row["patient"] == patient for row in responses) == (persona in SEES_PATIENT)
    assert any(row["patient"] == patient for row in assessments) == (persona in SEES_PATIENT)
