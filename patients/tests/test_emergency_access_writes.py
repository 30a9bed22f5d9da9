"""Emergency access gives reading for its time and nothing that lasts (issue 6, defect 1).

The attack: a clinician with a break-the-glass grant on a discharged patient outside their team
records a referral (which puts the patient in every intake role's pool) and then admits the
patient with themselves as primary clinician. Both are refused, in the API and the pages; when
the grant expires the chart is gone again.
"""

import datetime

import pytest
import time_machine
from django.urls import reverse

from patients.models import Episode, EpisodeStatus, Referral
from patients.services.records import break_the_glass
from patients.tests.factories import default_program
from patients.tests.test_intake_api import api_as

REASON = "Patient in crisis at the front desk, primary clinician away"


@pytest.fixture
def discharged(clinic):
    """The clinic's patient, discharged; clinician_elsewhere holds a grant on them."""
    episode = clinic.episode
    episode.status = EpisodeStatus.DISCHARGED
    episode.discharged_on = datetime.date.today()
    episode.save(update_fields=["status", "discharged_on"])
    break_the_glass(
        actor=clinic.clinician_elsewhere, mrn=clinic.patient.mrn, category="imminent_risk", reason=REASON
    )
    return clinic.patient


def referral_body(clinic, patient):
    return {
        "patient": str(patient.public_id),
        "site": str(clinic.site_a.public_id),
        "source": "self",
        "reason": "Wants to come back to the program",
        "urgency": "routine",
    }


def admission_body(clinic, patient):
    return {
        "patient": str(patient.public_id),
        "program": str(default_program().public_id),
        "site": str(clinic.site_a.public_id),
        "admitted_on": datetime.date.today().isoformat(),
        "care_team_assignments": {"primary_clinician": str(clinic.clinician_elsewhere.public_id)},
    }


@pytest.mark.django_db
def test_the_grant_lets_one_read_the_chart(clinic, discharged, client):
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(reverse("patients:chart", args=[discharged.public_id])).status_code == 200


@pytest.mark.django_db
def test_api_refuses_a_referral_through_emergency_access(clinic, discharged):
    response = api_as(clinic.clinician_elsewhere).post(
        "/api/v1/referrals/", referral_body(clinic, discharged), format="json"
    )
    assert response.status_code == 403
    assert "emergency access" in response.json()["detail"]
    assert not Referral.objects.filter(patient=discharged).exists()


@pytest.mark.django_db
def test_api_refuses_an_admission_through_emergency_access(clinic, discharged):
    response = api_as(clinic.clinician_elsewhere).post(
        "/api/v1/episodes/", admission_body(clinic, discharged), format="json"
    )
    assert response.status_code == 403
    assert "emergency access" in response.json()["detail"]
    assert not Episode.objects.filter(patient=discharged, status=EpisodeStatus.ACTIVE).exists()


@pytest.mark.django_db
def test_api_refuses_a_care_team_change_through_emergency_access(clinic):
    break_the_glass(
        actor=clinic.clinician_elsewhere, mrn=clinic.patient.mrn, category="imminent_risk", reason=REASON
    )
    response = api_as(clinic.clinician_elsewhere).patch(
        f"/api/v1/episodes/{clinic.episode.public_id}/",
        {
            "version": clinic.episode.version,
            "care_team_assignments": {"clinician": str(clinic.clinician_elsewhere.public_id)},
        },
        format="json",
    )
    assert response.status_code == 403
    assert not clinic.episode.care_team.filter(user=clinic.clinician_elsewhere).exists()


@pytest.mark.django_db
def test_referral_page_shows_the_refusal(clinic, discharged, client):
    client.force_login(clinic.clinician_elsewhere)
    response = client.post(
        reverse("patients:referral_create"),
        {
            "legal_first_name": discharged.legal_first_name,
            "legal_last_name": discharged.legal_last_name,
            "date_of_birth": discharged.date_of_birth.isoformat(),
            "site": clinic.site_a.public_id,
            "source": "self",
            "reason": "Wants to come back to the program",
            "urgency": "routine",
            "attach_to": discharged.public_id,
        },
    )
    assert response.status_code == 200
    assert "may not record a referral for this patient through emergency access" in response.content.decode()
    assert not Referral.objects.filter(patient=discharged).exists()


@pytest.mark.django_db
def test_admission_page_shows_the_refusal(clinic, discharged, client):
    client.force_login(clinic.clinician_elsewhere)
    response = client.post(
        reverse("patients:admit", args=[discharged.public_id]),
        {
            "program": default_program().public_id,
            "site": clinic.site_a.public_id,
            "admitted_on": datetime.date.today().isoformat(),
            "primary_clinician": clinic.clinician_elsewhere.public_id,
            "acknowledge_concerns": "on",
            "admission_note": "Returning after a relapse, admitting to keep continuity",
        },
    )
    assert response.status_code == 200
    assert "may not admit this patient through emergency access" in response.content.decode()
    assert not discharged.episodes.filter(status=EpisodeStatus.ACTIVE).exists()


@pytest.mark.django_db
def test_after_the_grant_expires_the_chart_is_gone(clinic, discharged, client, settings):
    api_as(clinic.clinician_elsewhere).post(
        "/api/v1/referrals/", referral_body(clinic, discharged), format="json"
    )
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(
        minutes=settings.BREAK_GLASS_MINUTES + 1
    )
    with time_machine.travel(later):
        client.force_login(clinic.clinician_elsewhere)
        assert client.get(reverse("patients:chart", args=[discharged.public_id])).status_code == 404
        assert not discharged.referrals.exists()


@pytest.mark.django_db
def test_the_care_team_still_may_refer_and_the_intake_pool_is_standing_reach(clinic, discharged):
    response = api_as(clinic.clinician_on_team).post(
        "/api/v1/referrals/", referral_body(clinic, discharged), format="json"
    )
    assert response.status_code == 201, response.json()
    # Now the patient is in the intake pool: the grant holder reaches them without the grant too.
    from patients.access import has_standing_reach

    assert has_standing_reach(clinic.clinician_elsewhere, discharged)
