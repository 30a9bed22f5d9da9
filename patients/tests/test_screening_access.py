"""Who gets each screening page and endpoint: persona x page x endpoint (conftest.py describes the
personas). A patient outside reach is a 404; a page a role may not use is a 404; an API write a
role may not make is a 403 with a JSON body; anonymous users are sent to sign in (API: 401)."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from conftest import PERSONAS, READS_CLINICAL_DETAIL, SEES_PATIENT
from iop.accounts.models import Role
from iop.accounts.tests.factories import UserFactory, api_token_for
from patients.access import can_see_patient
from patients.models import (
    AsamAssessment,
    CareTeamMember,
    CareTeamRole,
    ClinicalAlert,
    Episode,
    InstrumentResponse,
)
from patients.services import screening as services
from patients.services.records import break_the_glass
from patients.tests.test_screening_services import CAGE_NO, PHQ9_ITEM9_POSITIVE
from patients.views import screening as views

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
        ("GET", "instrument history", url("instrument_history", "phq-9"), {}, READS_CLINICAL_DETAIL),
        ("GET", "one response", url("instrument_response", response.public_id), {}, READS_CLINICAL_DETAIL),
        ("GET", "new ASAM", url("new_asam"), {}, ASSESS),
        ("POST", "live ASAM recommendation", url("asam_recommend"), {"edition": "3"}, ASSESS),
        ("GET", "ASAM history", url("asam_history"), {}, READS_CLINICAL_DETAIL),
        (
            "GET",
            "one ASAM assessment",
            url("asam_assessment", assessment.public_id),
            {},
            READS_CLINICAL_DETAIL,
        ),
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
        if allowed is READS_CLINICAL_DETAIL and persona in SEES_PATIENT - READS_CLINICAL_DETAIL:
            expected = 403  # sees the patient, but their role does not read results (ADR 0008)
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
    for persona in sorted(READS_CLINICAL_DETAIL):
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
        (
            "GET",
            "instrument responses",
            "/api/v1/instrument-responses/",
            None,
            EVERYONE - (SEES_PATIENT - READS_CLINICAL_DETAIL),
            200,
        ),
        (
            "GET",
            "one response",
            f"/api/v1/instrument-responses/{response.public_id}/",
            None,
            READS_CLINICAL_DETAIL,
            200,
        ),
        (
            "GET",
            "ASAM assessments",
            "/api/v1/asam-assessments/",
            None,
            EVERYONE - (SEES_PATIENT - READS_CLINICAL_DETAIL),
            200,
        ),
        (
            "GET",
            "one assessment",
            f"/api/v1/asam-assessments/{assessment.public_id}/",
            None,
            READS_CLINICAL_DETAIL,
            200,
        ),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_screening_endpoint_answers_each_persona_as_the_access_rules_say(clinic, results, persona):
    api = APIClient()
    user = clinic.persona(persona)
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    failures = []
    for method, name, url, body, allowed, ok in endpoints(clinic, results):
        response = api.post(url, body, format="json") if method == "POST" else api.get(url)
        expected = 401 if user is None else (ok if persona in allowed else 404)
        if persona in SEES_PATIENT - READS_CLINICAL_DETAIL and name in {
            "instrument responses",
            "ASAM assessments",
        }:
            expected = 403  # the role does not read results (ADR 0008); a detail stays 404
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
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
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


@pytest.mark.parametrize("persona", sorted(EVERYONE - (SEES_PATIENT - READS_CLINICAL_DETAIL)))
def test_lists_show_the_patients_results_only_to_those_who_may_see_them(clinic, results, persona):
    api = APIClient()
    api.force_authenticate(clinic.persona(persona))
    responses = api.get("/api/v1/instrument-responses/").json()["results"]
    assessments = api.get("/api/v1/asam-assessments/").json()["results"]
    patient = str(clinic.patient.public_id)
    assert any(row["patient"] == patient for row in responses) == (persona in SEES_PATIENT)
    assert any(row["patient"] == patient for row in assessments) == (persona in SEES_PATIENT)


# --- writing needs a place at the site holding the record ----------------------------------------
# Seeing a patient is not enough to write their record: someone at another site who sees them
# through an old episode there (its admin, its clinical supervisor, a member of its care team)
# may not add results to the record held here. Break-the-glass at this site may (an emergency
# assessment is legitimate).

OTHER_SITE = ["admin_other_site", "supervisor_other_site", "medical_other_site"]


@pytest.fixture
def old_episode_at_site_b(clinic):
    """The patient was treated at site B before: site B's staff still see the record."""
    return Episode.objects.create(
        patient=clinic.patient,
        program=clinic.episode.program,
        site=clinic.site_b,
        admitted_on=datetime.date(2025, 1, 6),
        discharged_on=datetime.date(2025, 3, 3),
        status="discharged",
        discharge_reason="1",
        current_phase=clinic.episode.current_phase,
    )


@pytest.fixture
def other_site(clinic, old_episode_at_site_b) -> dict:
    supervisor = UserFactory(
        username="vera", role=Role.CLINICIAN, sites=[clinic.site_b], is_clinical_supervisor=True
    )
    medical = UserFactory(username="milo", role=Role.MEDICAL, sites=[clinic.site_b])
    CareTeamMember.objects.create(
        episode=old_episode_at_site_b,
        user=medical,
        role=CareTeamRole.MEDICAL,
        assigned_on=old_episode_at_site_b.admitted_on,
    )
    people = {
        "admin_other_site": clinic.admin_other_site,
        "supervisor_other_site": supervisor,
        "medical_other_site": medical,
    }
    for name, user in people.items():
        assert can_see_patient(user, clinic.patient), f"{name} should see the patient (set-up)"
    return people


def api_as(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


@pytest.mark.parametrize("persona", OTHER_SITE)
def test_staff_of_another_site_get_403_from_the_api_and_nothing_is_saved(clinic, other_site, persona):
    api = api_as(other_site[persona])
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
    assert administered.status_code == 403, administered.json()
    assert assessed.status_code == 403, assessed.json()
    assert administered.json()["detail"] and assessed.json()["detail"]
    assert not InstrumentResponse.objects.exists() and not AsamAssessment.objects.exists()
    assert not ClinicalAlert.objects.exists()


@pytest.mark.parametrize("persona", OTHER_SITE)
def test_staff_of_another_site_cannot_save_through_the_pages(clinic, other_site, client, persona):
    client.force_login(other_site[persona])
    patient = clinic.patient.public_id
    answers = {key: str(value) for key, value in PHQ9_ITEM9_POSITIVE.items()}
    asam = {"edition": "3", "decision": "accept", **{f"rating_{d}": "2" for d in range(1, 7)}}
    for name, data in [("administer_instrument", answers), ("score_instrument", answers)]:
        url = reverse(f"patients:{name}", args=[patient, "phq-9"])
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, data).status_code == 404
    for name in ["new_asam", "asam_recommend"]:
        url = reverse(f"patients:{name}", args=[patient])
        assert client.post(url, asam).status_code == 404
    assert not InstrumentResponse.objects.exists() and not AsamAssessment.objects.exists()
    # They still read the record they see, without the buttons that write it.
    html = client.get(reverse("patients:chart_tab", args=[patient, "intake"])).content.decode()
    assert 'data-testid="screening-card"' in html
    assert 'data-testid="administer-menu"' not in html and 'data-testid="new-asam"' not in html


def test_the_services_refuse_a_clinician_of_another_site_whatever_the_caller(clinic, other_site):
    supervisor = other_site["supervisor_other_site"]  # a clinician: the role alone would let them
    with pytest.raises(PermissionError, match="administer instruments"):
        services.administer_instrument(
            actor=supervisor, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
        )
    with pytest.raises(PermissionError, match="assess ASAM dimensions"):
        services.assess_asam(actor=supervisor, patient=clinic.patient, edition="3", ratings=ALL_MODERATE)
    with pytest.raises(PermissionError, match="administer instruments"):
        services.administer_instrument(
            actor=other_site["medical_other_site"], patient=clinic.patient, code="cage", answers=CAGE_NO
        )
    assert not InstrumentResponse.objects.exists() and not AsamAssessment.objects.exists()


def test_a_page_form_error_is_shown_if_the_service_refuses(clinic, client, monkeypatch):
    """Should the page's own check ever let someone through, the service's refusal is a message
    on the form, not a 500, and nothing is saved."""
    monkeypatch.setattr(views, "may_write_clinical", lambda *args, **kwargs: True)
    monkeypatch.setattr(
        "patients.services.screening.require_clinical_write",
        lambda *args, what, **kwargs: (_ for _ in ()).throw(PermissionError(f"You may not {what}.")),
    )
    client.force_login(clinic.clinician_on_team)
    answers = {key: str(value) for key, value in PHQ9_ITEM9_POSITIVE.items()}
    response = client.post(
        reverse("patients:administer_instrument", args=[clinic.patient.public_id, "phq-9"]), answers
    )
    assert response.status_code == 200 and "You may not administer instruments." in response.content.decode()
    asam = {"edition": "3", "decision": "accept", **{f"rating_{d}": "2" for d in range(1, 7)}}
    response = client.post(reverse("patients:new_asam", args=[clinic.patient.public_id]), asam)
    assert response.status_code == 200 and "You may not assess ASAM dimensions." in response.content.decode()
    assert not InstrumentResponse.objects.exists() and not AsamAssessment.objects.exists()


def test_break_the_glass_may_screen_in_an_emergency(clinic, client):
    bob = clinic.clinician_elsewhere  # a clinician at the site, not on the care team
    break_the_glass(
        actor=bob, mrn=clinic.patient.mrn, category="imminent_risk", reason="Crisis at the front desk now"
    )
    client.force_login(bob)
    patient = clinic.patient.public_id
    answers = {key: str(value) for key, value in PHQ9_ITEM9_POSITIVE.items()}
    saved = client.post(reverse("patients:administer_instrument", args=[patient, "phq-9"]), answers)
    asam = {"edition": "3", "decision": "accept", **{f"rating_{d}": "2" for d in range(1, 7)}}
    assessed = client.post(reverse("patients:new_asam", args=[patient]), asam)
    assert saved.status_code == 302 and assessed.status_code == 302
    assert InstrumentResponse.objects.get().administered_by == bob
    assert AsamAssessment.objects.get().assessed_by == bob
