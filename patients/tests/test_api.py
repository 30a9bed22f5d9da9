"""The REST API: same access, services and audit as the pages; errors are JSON per field."""

import pytest
from rest_framework.test import APIClient

from iop.accounts.tests.factories import api_token_for
from iop.audit.models import AuditAction, AuditEntry
from patients.models import Episode, EpisodeStatus, Patient
from patients.tests.factories import PatientFactory, default_program
from patients.tests.test_intake import sign_treatment_consent


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


@pytest.mark.django_db
def test_token_is_issued_for_a_username_and_password(clinic, api):
    from iop.accounts.tests.factories import TEST_PASSWORD

    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 200 and response.json()["token"]
    bad = api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 400 and "non_field_errors" in bad.json()


@pytest.mark.django_db
def test_unauthenticated_requests_get_401_json(api):
    response = api.get("/api/v1/patients/")
    assert response.status_code == 401 and "detail" in response.json()


@pytest.mark.django_db
def test_create_patient_and_read_it_back(clinic, api):
    as_user(api, clinic.clinician_on_team)
    response = api.post(
        "/api/v1/patients/",
        {
            "legal_first_name": "Api",
            "legal_last_name": "Person",
            "date_of_birth": "1985-06-01",
            "site": str(clinic.site_a.public_id),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["mrn"] and body["version"] == 1 and body["current_episode"] is None
    assert api.get(f"/api/v1/patients/{body['id']}/").status_code == 200  # intake pool at the site
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=body["id"]).exists()


@pytest.mark.django_db
def test_bad_patient_input_gets_400_naming_each_field(clinic, api):
    as_user(api, clinic.clinician_on_team)
    response = api.post(
        "/api/v1/patients/",
        {
            "legal_first_name": "",
            "date_of_birth": "not-a-date",
            "site": "00000000-0000-0000-0000-000000000000",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"legal_first_name", "legal_last_name", "date_of_birth", "site"}


@pytest.mark.django_db
def test_future_date_of_birth_is_a_400_not_a_500(clinic, api):
    as_user(api, clinic.clinician_on_team)
    response = api.post(
        "/api/v1/patients/",
        {
            "legal_first_name": "A",
            "legal_last_name": "B",
            "date_of_birth": "2999-01-01",
            "site": str(clinic.site_a.public_id),
        },
        format="json",
    )
    assert response.status_code == 400 and "date_of_birth" in response.json()


@pytest.mark.django_db
def test_patch_requires_the_version_and_refuses_a_stale_one_with_409(clinic, api):
    as_user(api, clinic.clinician_on_team)
    url = f"/api/v1/patients/{clinic.patient.public_id}/"
    missing = api.patch(url, {"preferred_name": "X"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()
    ok = api.patch(url, {"preferred_name": "X", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api.patch(url, {"preferred_name": "Y", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_edit"
    assert Patient.objects.get(pk=clinic.patient.pk).preferred_name == "X"


@pytest.mark.django_db
def test_peer_support_may_read_but_not_edit_patients(clinic, api):
    as_user(api, clinic.peer_support)
    url = f"/api/v1/patients/{clinic.patient.public_id}/"
    assert api.get(url).status_code == 200
    response = api.patch(url, {"preferred_name": "X", "version": 1}, format="json")
    assert response.status_code == 403 and "detail" in response.json()


@pytest.mark.django_db
def test_patch_of_a_patient_outside_reach_is_404(clinic, api):
    as_user(api, clinic.clinician_elsewhere)
    response = api.patch(
        f"/api/v1/patients/{clinic.patient.public_id}/", {"preferred_name": "X", "version": 1}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_admit_through_the_api_opens_phase_1_with_the_care_team(clinic, api):
    referral = PatientFactory(site=clinic.site_a)
    as_user(api, clinic.clinician_on_team)
    body = {
        "patient": str(referral.public_id),
        "program": str(default_program().public_id),
        "site": str(clinic.site_a.public_id),
        "admitted_on": "2026-11-02",
        "care_team_assignments": {"primary_clinician": str(clinic.clinician_on_team.public_id)},
    }
    refused = api.post("/api/v1/episodes/", body, format="json")
    assert refused.status_code == 400 and "consent to treatment" in str(refused.json())
    sign_treatment_consent(referral, clinic.clinician_on_team)
    concerns = api.post("/api/v1/episodes/", body, format="json")
    assert concerns.status_code == 400 and "No ASAM assessment" in str(
        concerns.json()["acknowledge_concerns"]
    )
    response = api.post(
        "/api/v1/episodes/",
        {
            "patient": str(referral.public_id),
            "program": str(default_program().public_id),
            "site": str(clinic.site_a.public_id),
            "admitted_on": "2026-11-02",
            "care_team_assignments": {
                "primary_clinician": str(clinic.clinician_on_team.public_id),
                "case_manager": str(clinic.case_manager.public_id),
            },
            "acknowledge_concerns": True,
            "admission_note": "Assessed by the referring hospital; ASAM to follow this week",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["admission_note"].startswith("Assessed by the referring hospital")
    assert body["current_phase"]["order"] == 1 and body["status"] == EpisodeStatus.ACTIVE
    assert {m["role"] for m in body["care_team"]} == {"primary_clinician", "case_manager"}
    referral.refresh_from_db()
    assert str(referral.current_episode.public_id) == body["id"]


@pytest.mark.django_db
def test_admission_errors_are_explained(clinic, api):
    as_user(api, clinic.clinician_on_team)
    # The clinic's patient already has an active episode; the case manager cannot be primary clinician.
    response = api.post(
        "/api/v1/episodes/",
        {
            "patient": str(clinic.patient.public_id),
            "program": str(default_program().public_id),
            "site": str(clinic.site_a.public_id),
            "admitted_on": "2026-11-02",
            "care_team_assignments": {"primary_clinician": str(clinic.case_manager.public_id)},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "active episode" in str(response.json())
    referral = PatientFactory(site=clinic.site_a)
    response = api.post(
        "/api/v1/episodes/",
        {
            "patient": str(referral.public_id),
            "program": str(default_program().public_id),
            "site": str(clinic.site_a.public_id),
            "admitted_on": "2026-11-02",
            "care_team_assignments": {"primary_clinician": str(clinic.case_manager.public_id), "nurse": None},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "nurse" in str(response.json())
    assert not Episode.objects.filter(patient=referral).exists()


@pytest.mark.django_db
def test_care_team_change_through_the_api_needs_the_version(clinic, api):
    from iop.accounts.models import Role
    from iop.accounts.tests.factories import UserFactory

    new_manager = UserFactory(username="cm2", role=Role.CASE_MANAGER, sites=[clinic.site_a])
    as_user(api, clinic.clinician_on_team)
    url = f"/api/v1/episodes/{clinic.episode.public_id}/"
    response = api.patch(
        url,
        {
            "care_team_assignments": {"case_manager": str(new_manager.public_id)},
            "version": clinic.episode.version,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    managers = [m["user"] for m in response.json()["care_team"] if m["role"] == "case_manager"]
    assert managers == [str(new_manager.public_id)]
    stale = api.patch(
        url,
        {
            "care_team_assignments": {"case_manager": str(clinic.case_manager.public_id)},
            "version": clinic.episode.version,
        },
        format="json",
    )
    assert stale.status_code == 409


@pytest.mark.django_db
def test_openapi_schema_describes_the_endpoints(clinic, api):
    as_user(api, clinic.admin)
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/patients/",
        "/api/v1/patients/{public_id}/",
        "/api/v1/episodes/",
        "/api/v1/programs/",
    ]:
        assert path in schema["paths"], path


@pytest.mark.django_db
def test_api_docs_are_served_without_a_cdn(clinic, client):
    client.force_login(clinic.admin)
    page = client.get("/api/docs/").content.decode()
    assert "swagger" in page.lower()
    assert "cdn" not in page.lower() and "https://" not in page


@pytest.mark.django_db
def test_episode_list_writes_each_care_team_member_as_its_serializer_would(clinic, api):
    """The list writes current members directly (ADR 0009); the schema's serializer is the
    reference, field for field."""
    from patients.api.records import CareTeamMemberSerializer
    from patients.models import CareTeamMember

    as_user(api, clinic.clinician_on_team)
    body = api.get("/api/v1/episodes/").json()
    listed = {(m["user"], m["role"]): m for episode in body["results"] for m in episode["care_team"]}
    assert listed
    members = CareTeamMember.objects.filter(
        episode__public_id__in=[episode["id"] for episode in body["results"]], ended_on__isnull=True
    ).select_related("user")
    expected = {(str(m.user.public_id), m.role): dict(CareTeamMemberSerializer(m).data) for m in members}
    assert listed == expected
