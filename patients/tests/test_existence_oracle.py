"""A patient out of reach and an id that does not exist answer alike (issue 6, defect 4)."""

import datetime
import uuid

import pytest
from django.urls import reverse

from patients.tests.factories import PatientFactory, default_program
from patients.tests.test_intake_api import api_as


def discharge(episode):
    episode.status, episode.discharged_on = "discharged", datetime.date.today()
    episode.save(update_fields=["status", "discharged_on"])


@pytest.fixture
def out_of_reach(clinic):
    """Two records clinician_elsewhere may not see: a discharged patient of another team at their
    site, and a patient at another site."""
    discharge(clinic.episode)
    return [clinic.patient, PatientFactory(site=clinic.site_b)]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["referrals", "episodes"])
def test_api_answers_alike_for_out_of_reach_and_unknown_patients(clinic, out_of_reach, endpoint):
    api = api_as(clinic.clinician_elsewhere)

    def body(public_id):
        if endpoint == "referrals":
            return {
                "patient": str(public_id),
                "site": str(clinic.site_a.public_id),
                "source": "self",
                "reason": "Wants to come back",
                "urgency": "routine",
            }
        return {
            "patient": str(public_id),
            "program": str(default_program().public_id),
            "site": str(clinic.site_a.public_id),
            "admitted_on": datetime.date.today().isoformat(),
            "care_team_assignments": {"primary_clinician": str(clinic.clinician_elsewhere.public_id)},
        }

    responses = [api.post(f"/api/v1/{endpoint}/", body(p.public_id), format="json") for p in out_of_reach]
    missing = api.post(f"/api/v1/{endpoint}/", body(uuid.uuid4()), format="json")
    assert missing.status_code == 404 and missing.json() == {"detail": "No such patient."}
    for response in responses:
        assert (response.status_code, response.json()) == (missing.status_code, missing.json())


@pytest.mark.django_db
def test_api_patient_reads_answer_alike(clinic, out_of_reach):
    api = api_as(clinic.clinician_elsewhere)
    missing = api.get(f"/api/v1/patients/{uuid.uuid4()}/")
    for patient in out_of_reach:
        response = api.get(f"/api/v1/patients/{patient.public_id}/")
        assert (response.status_code, response.json()) == (missing.status_code, missing.json())


@pytest.mark.django_db
def test_referral_page_answers_alike(clinic, out_of_reach, client):
    client.force_login(clinic.clinician_elsewhere)

    def post(public_id):
        page = client.post(
            reverse("patients:referral_create"),
            {
                "legal_first_name": "Nomatch",
                "legal_last_name": "Person",
                "date_of_birth": "1990-01-01",
                "site": clinic.site_a.public_id,
                "source": "self",
                "reason": "Wants to come back",
                "urgency": "routine",
                "attach_to": str(public_id),
            },
        )
        assert page.status_code == 200
        return "No such patient." in page.content.decode()

    assert post(uuid.uuid4())
    assert all(post(p.public_id) for p in out_of_reach)
    assert not clinic.patient.referrals.exists()
