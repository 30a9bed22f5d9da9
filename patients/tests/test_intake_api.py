"""The referrals API: same rules, services and audit as the intake pages."""

import pytest
from rest_framework.test import APIClient

from iop.accounts.tests.factories import api_token_for
from iop.audit.models import AuditAction, AuditEntry
from patients.models import Episode, Patient, ReferralOutcome, ReferralStatus
from patients.tests.factories import PatientFactory, default_program
from patients.tests.test_intake import sign_treatment_consent

PERSON = {"legal_first_name": "Ada", "legal_last_name": "Apiperson", "date_of_birth": "1979-09-09"}


def api_as(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


def referral_body(clinic, **overrides):
    return {
        "new_patient": PERSON,
        "site": str(clinic.site_a.public_id),
        "source": "hospital",
        "reason": "Discharged from detox, needs IOP",
        "urgency": "urgent",
        "intake_clinician": str(clinic.clinician_on_team.public_id),
        **overrides,
    }


@pytest.mark.django_db
def test_referral_to_admission_through_the_api(clinic):
    api = api_as(clinic.clinician_on_team)
    created = api.post("/api/v1/referrals/", referral_body(clinic), format="json")
    assert created.status_code == 201, created.json()
    referral = created.json()
    assert referral["status"] == "open" and referral["patient"]
    queue = api.get("/api/v1/referrals/?status=open").json()
    assert [row["id"] for row in queue["results"]] == [referral["id"]]
    review = api.post(
        f"/api/v1/referrals/{referral['id']}/eligibility/",
        {
            "stable_home_and_support": True,
            "has_transportation": True,
            "committed_to_recovery": True,
            "severity_suits_iop": True,
            "has_obligations_to_keep": False,
        },
        format="json",
    )
    assert review.status_code == 201 and review.json()["criteria_met"] == 4
    patient = Patient.objects.get(public_id=referral["patient"])
    sign_treatment_consent(patient, clinic.clinician_on_team)
    admitted = api.post(
        "/api/v1/episodes/",
        {
            "patient": referral["patient"],
            "program": str(default_program().public_id),
            "site": str(clinic.site_a.public_id),
            "admitted_on": referral["referred_at"][:10],
            "care_team_assignments": {"primary_clinician": str(clinic.clinician_on_team.public_id)},
            "acknowledge_concerns": True,
            "admission_note": "ASAM done on paper at the hospital",
        },
        format="json",
    )
    assert admitted.status_code == 201, admitted.json()
    after = api.get(f"/api/v1/referrals/{referral['id']}/").json()
    assert after["outcome"] == ReferralOutcome.ADMITTED and after["time_to_admission_hours"] is not None
    assert Episode.objects.get(public_id=admitted.json()["id"]).referral.public_id.hex == referral[
        "id"
    ].replace("-", "")


@pytest.mark.django_db
def test_a_possible_duplicate_is_a_409_listing_the_matches(clinic):
    existing = PatientFactory(
        site=clinic.site_a, legal_first_name="Ada", legal_last_name="Apiperson", date_of_birth="1979-09-09"
    )
    api = api_as(clinic.case_manager)
    response = api.post("/api/v1/referrals/", referral_body(clinic), format="json")
    assert response.status_code == 409
    assert response.json()["matches"][0]["mrn"] == existing.mrn
    confirmed = api.post(
        "/api/v1/referrals/", referral_body(clinic, confirmed_new_person=True), format="json"
    )
    assert confirmed.status_code == 201
    attached = api.post(
        "/api/v1/referrals/",
        {**referral_body(clinic), "new_patient": None, "patient": str(existing.public_id)},
        format="json",
    )
    assert attached.status_code in (201, 400)


@pytest.mark.django_db
def test_bad_referrals_get_400_naming_each_field(clinic):
    api = api_as(clinic.clinician_on_team)
    response = api.post(
        "/api/v1/referrals/",
        {"site": "nope", "source": "pigeon", "reason": "", "new_patient": {"legal_first_name": ""}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert {"site", "source", "reason", "new_patient"} <= set(body)
    both = api.post(
        "/api/v1/referrals/", referral_body(clinic, patient=str(clinic.patient.public_id)), format="json"
    )
    assert both.status_code == 400 and "patient" in both.json()


@pytest.mark.django_db
def test_closing_through_the_api_needs_the_version_and_where(clinic):
    api = api_as(clinic.clinician_on_team)
    referral = api.post("/api/v1/referrals/", referral_body(clinic), format="json").json()
    url = f"/api/v1/referrals/{referral['id']}/close/"
    assert api.post(url, {"outcome": "declined"}, format="json").status_code == 400
    missing_where = api.post(
        url, {"outcome": "referred_elsewhere", "version": referral["version"]}, format="json"
    )
    assert missing_where.status_code == 400 and "detail" in missing_where.json()
    closed = api.post(url, {"outcome": "no_show", "version": referral["version"]}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == ReferralStatus.CLOSED
    again = api.post(url, {"outcome": "no_show", "version": closed.json()["version"]}, format="json")
    assert again.status_code == 409  # a closed referral is a state conflict, not bad input


@pytest.mark.django_db
def test_reading_a_referral_is_audited_and_others_get_404(clinic):
    referral = (
        api_as(clinic.clinician_on_team)
        .post("/api/v1/referrals/", referral_body(clinic), format="json")
        .json()
    )
    api_as(clinic.case_manager).get(f"/api/v1/referrals/{referral['id']}/")
    assert AuditEntry.objects.filter(
        action=AuditAction.READ, object_type="patients.chart.api.referral"
    ).exists()
    assert api_as(clinic.peer_support).get(f"/api/v1/referrals/{referral['id']}/").status_code == 404
    assert api_as(clinic.admin_other_site).get(f"/api/v1/referrals/{referral['id']}/").status_code == 404
    assert (
        api_as(clinic.peer_support)
        .post("/api/v1/referrals/", referral_body(clinic), format="json")
        .status_code
        == 403
    )


@pytest.mark.django_db
def test_referral_list_query_count_does_not_grow(clinic, query_count):
    api = api_as(clinic.clinician_on_team)
    api.post("/api/v1/referrals/", referral_body(clinic), format="json")
    few = query_count(lambda: api.get("/api/v1/referrals/"))
    for n in range(10):
        api.post(
            "/api/v1/referrals/",
            referral_body(clinic, new_patient={**PERSON, "legal_first_name": f"N{n}"}),
            format="json",
        )
    assert query_count(lambda: api.get("/api/v1/referrals/")) == few
