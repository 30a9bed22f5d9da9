"""Writes, persona by persona: who may change what (the matrix in test_access_matrix.py reads).

Each test here stands for a hole a review found in an earlier version: break-the-glass turned
into permanent access, an admin reaching into another site, a name leaking in an error.
"""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from conftest import PERSONAS
from iop.accounts.models import Role
from iop.accounts.tests.factories import UserFactory, api_token_for
from iop.audit.models import AuditAction, AuditEntry
from patients.models import CareTeamRole, ClinicalAlert, Episode
from patients.tests.factories import PatientFactory, admit

MAY_MANAGE_CARE_TEAM = {"clinician_on_team", "case_manager", "supervisor", "admin"}


def api_as(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_care_team_changes_are_for_the_sites_admins_and_the_episodes_lead_staff(clinic, persona):
    newcomer = UserFactory(username="newcm", role=Role.CASE_MANAGER, sites=[clinic.site_a])
    response = api_as(clinic.persona(persona)).patch(
        f"/api/v1/episodes/{clinic.episode.public_id}/",
        {
            "care_team_assignments": {"case_manager": str(newcomer.public_id)},
            "version": clinic.episode.version,
        },
        format="json",
    )
    if persona == "anonymous":
        assert response.status_code == 401
    elif persona in MAY_MANAGE_CARE_TEAM:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code in (403, 404), response.json()
        assert not clinic.episode.care_team.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_break_the_glass_cannot_be_turned_into_a_care_team_place(clinic, client, settings):
    bob = clinic.clinician_elsewhere
    client.force_login(bob)
    client.post(
        reverse("patients:break_glass"),
        {"mrn": clinic.patient.mrn, "category": "imminent_risk", "reason": "Crisis at the front desk now"},
    )
    response = api_as(bob).patch(
        f"/api/v1/episodes/{clinic.episode.public_id}/",
        {"care_team_assignments": {"clinician": str(bob.public_id)}, "version": clinic.episode.version},
        format="json",
    )
    assert response.status_code == 403
    assert not clinic.episode.care_team.filter(user=bob).exists()


@pytest.mark.django_db
def test_admin_of_another_site_cannot_read_or_change_this_sites_episode(clinic):
    # The patient once had an episode at site B, so site B's admin sees the patient's record...
    old = Episode.objects.create(
        patient=clinic.patient,
        program=clinic.episode.program,
        site=clinic.site_b,
        admitted_on=datetime.date(2025, 1, 6),
        discharged_on=datetime.date(2025, 3, 3),
        status="discharged",
        discharge_reason="1",
        current_phase=clinic.episode.current_phase,
    )
    api = api_as(clinic.admin_other_site)
    assert api.get(f"/api/v1/episodes/{old.public_id}/").status_code == 200
    # ...but not the current episode at site A, let alone change it.
    assert api.get(f"/api/v1/episodes/{clinic.episode.public_id}/").status_code == 404
    response = api.patch(
        f"/api/v1/episodes/{clinic.episode.public_id}/",
        {"care_team_assignments": {"case_manager": None}, "version": clinic.episode.version},
        format="json",
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_taking_someone_off_a_site_takes_away_that_sites_patients(clinic, client):
    alice = clinic.clinician_on_team
    alice.sites.set([clinic.site_b])
    client.force_login(alice)
    assert client.get(reverse("patients:chart", args=[clinic.patient.public_id])).status_code == 404


@pytest.mark.django_db
def test_admin_of_one_site_cannot_change_the_role_of_someone_who_also_works_elsewhere(clinic, client):
    shared = UserFactory(username="shared", role=Role.CLINICIAN, sites=[clinic.site_a, clinic.site_b])
    client.force_login(clinic.admin)
    url = reverse("accounts:staff_edit", args=[shared.public_id])
    form = {
        "first_name": "S",
        "last_name": "H",
        "role": Role.ADMIN,
        "sites": [clinic.site_a.pk],
        "is_active": "on",
    }
    response = client.post(url, form)
    assert "also works at sites you do not administer" in response.content.decode()
    shared.refresh_from_db()
    assert shared.role == Role.CLINICIAN
    # Taking them off the admin's own site is allowed; their other site stays.
    response = client.post(url, {**form, "role": Role.CLINICIAN, "sites": []})
    assert response.status_code == 302
    assert list(shared.sites.all()) == [clinic.site_b]


@pytest.mark.django_db
def test_care_team_errors_do_not_name_staff_from_other_sites(clinic):
    faraway = UserFactory(
        username="faraway", first_name="Faraway", last_name="Secretname", sites=[clinic.site_b]
    )
    response = api_as(clinic.clinician_on_team).patch(
        f"/api/v1/episodes/{clinic.episode.public_id}/",
        {"care_team_assignments": {"clinician": str(faraway.public_id)}, "version": clinic.episode.version},
        format="json",
    )
    assert response.status_code == 400
    assert "Secretname" not in response.content.decode()
    assert "No such staff member" in response.content.decode()


@pytest.mark.django_db
def test_resolving_an_alert_never_redirects_off_site(clinic, client):
    alert = ClinicalAlert.objects.create(patient=clinic.patient, kind="safety", message="Check in")
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        reverse("patients:resolve_alert", args=[clinic.patient.public_id, alert.public_id]),
        {"next": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert response.url == reverse("patients:chart", args=[clinic.patient.public_id])


@pytest.mark.django_db
def test_reading_an_episode_or_the_edit_form_is_a_chart_read(clinic, client):
    api_as(clinic.case_manager).get(f"/api/v1/episodes/{clinic.episode.public_id}/")
    client.force_login(clinic.clinician_on_team)
    client.get(reverse("patients:edit", args=[clinic.patient.public_id]))
    sections = set(
        AuditEntry.objects.filter(
            action=AuditAction.READ, patient_public_id=clinic.patient.public_id
        ).values_list("object_type", flat=True)
    )
    assert sections == {"patients.chart.api.episode", "patients.chart.edit"}


@pytest.mark.django_db
def test_signed_in_pages_are_not_cached_and_the_htmx_partial_varies(clinic, client):
    client.force_login(clinic.clinician_on_team)
    chart = client.get(reverse("patients:chart", args=[clinic.patient.public_id]))
    assert chart["Cache-Control"] == "no-store, private"
    assert "HX-Request" in client.get(reverse("patients:list"))["Vary"]


@pytest.mark.django_db
def test_api_not_found_is_json_even_outside_the_router(clinic):
    api = api_as(clinic.clinician_on_team)
    upper = api.get(f"/api/v1/patients/{str(clinic.patient.public_id).upper()}/")
    assert upper.status_code == 200
    missing = api.get("/api/v1/no-such-thing/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_a_patient_name_is_not_kept_in_a_cookie(clinic, client):
    client.force_login(clinic.clinician_on_team)
    client.post(
        reverse("patients:create"),
        {
            "legal_first_name": "Cookie",
            "legal_last_name": "Leak",
            "date_of_birth": "1980-01-01",
            "site": str(clinic.site_a.public_id),
        },
    )
    assert "Leak" not in str(client.cookies.get("messages", ""))


@pytest.mark.django_db
def test_an_edit_without_the_version_it_started_from_is_refused(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        reverse("patients:edit", args=[clinic.patient.public_id]),
        {"legal_first_name": "X", "legal_last_name": "Y", "date_of_birth": "1980-01-01"},
    )
    assert response.status_code == 200 and "out of date" in response.content.decode()


@pytest.mark.django_db
def test_chain_verification_ignores_entries_appended_while_it_runs(clinic, monkeypatch):
    from iop.audit import services as audit_services

    for n in range(3):
        audit_services.record_event(actor=None, action="update", object_type="x", object_id=str(n))
    real_iterator = audit_services.AuditEntry.objects.filter(sequence__lte=3).order_by("sequence").iterator

    original_filter = audit_services.AuditEntry.objects.filter

    def filter_then_append(*args, **kwargs):
        queryset = original_filter(*args, **kwargs)
        audit_services.record_event(actor=None, action="read", object_type="x", object_id="late")
        return queryset

    monkeypatch.setattr(audit_services.AuditEntry.objects, "filter", filter_then_append)
    report = audit_services.verify_chain()
    assert report.ok and report.entries_checked == 3
    assert real_iterator is not None


@pytest.mark.django_db
def test_patients_of_an_old_site_membership_stay_out_of_the_caseload(clinic, client):
    other = PatientFactory(site=clinic.site_b)
    admit(other, site=clinic.site_b, team={CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team})
    client.force_login(clinic.clinician_on_team)
    assert other.mrn not in client.get(reverse("patients:list")).content.decode()
