"""Every response that shows identifiable patients leaves an audit entry naming each of them, in
a number of queries that does not grow with the page (issue 6, defect 6)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditAction, AuditEntry
from patients.models import CareTeamRole, Referral
from patients.tests.factories import PatientFactory, admit
from patients.tests.test_intake_api import api_as


def on_team(clinic, count):
    """`count` more admitted patients on clinician_on_team's care team."""
    patients = [PatientFactory(site=clinic.site_a) for _ in range(count)]
    for patient in patients:
        admit(patient, team={CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team})
    return [clinic.patient, *patients]


def referred(clinic, count):
    """`count` people never admitted, each with an open referral at site A."""
    patients = [PatientFactory(site=clinic.site_a) for _ in range(count)]
    for patient in patients:
        Referral.objects.create(
            patient=patient,
            site=clinic.site_a,
            referred_at=timezone.now(),
            created_by=clinic.admin,
            source="self",
            reason="Wants help",
        )
    return patients


def disclosed(object_type):
    return set(
        AuditEntry.objects.filter(action=AuditAction.READ, object_type=object_type).values_list(
            "patient_public_id", flat=True
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "section, url", [("api.patients", "/api/v1/patients/"), ("api.episodes", "/api/v1/episodes/")]
)
def test_api_lists_audit_each_patient_shown(clinic, section, url):
    patients = on_team(clinic, 4)
    response = api_as(clinic.clinician_on_team).get(url)
    assert response.status_code == 200 and response.json()["count"] == 5
    assert disclosed(f"patients.list.{section}") == {p.public_id for p in patients}


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True])
def test_patient_list_page_and_search_audit_each_patient_shown(clinic, client, htmx):
    patients = on_team(clinic, 3)
    client.force_login(clinic.clinician_on_team)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert client.get(reverse("patients:list"), **headers).status_code == 200
    assert disclosed("patients.list.patient_list") == {p.public_id for p in patients}
    found = client.get(reverse("patients:list"), {"q": clinic.patient.legal_last_name}, **headers)
    assert found.status_code == 200 and clinic.patient.mrn in found.content.decode()
    assert clinic.patient.public_id in disclosed("patients.list.search")


@pytest.mark.django_db
def test_intake_queue_audits_each_patient_shown(clinic, client):
    patients = referred(clinic, 3)
    client.force_login(clinic.case_manager)
    assert client.get(reverse("patients:intake_queue")).status_code == 200
    assert disclosed("patients.list.intake_queue") == {p.public_id for p in patients}


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["api.patients", "api.episodes", "patient_list", "search", "intake_queue"])
def test_audited_lists_make_as_many_queries_for_25_patients_as_for_5(clinic, client, query_count, how):
    def fetch():
        if how.startswith("api."):
            response = api_as(clinic.clinician_on_team).get(f"/api/v1/{how[4:]}/")
        elif how == "intake_queue":
            client.force_login(clinic.case_manager)
            response = client.get(reverse("patients:intake_queue"))
        else:
            client.force_login(clinic.clinician_on_team)
            response = client.get(reverse("patients:list"), {"q": ""} if how == "search" else {})
        assert response.status_code == 200

    grow = (lambda n: referred(clinic, n)) if how == "intake_queue" else (lambda n: on_team(clinic, n))
    grow(4)
    fetch()  # warm up (sessions, tokens)
    five = query_count(fetch)
    grow(20)
    twenty_five = query_count(fetch)
    assert twenty_five == five, (five, twenty_five)
    assert AuditEntry.objects.filter(object_type__startswith="patients.list.").count() >= 25
