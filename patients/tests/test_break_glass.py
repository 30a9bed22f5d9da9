"""Break-the-glass: time-limited, reasoned, audited access to a chart outside the care team."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from iop.audit.models import AuditAction, AuditEntry
from patients.models import BreakGlassGrant


@pytest.fixture
def chart_url(clinic):
    return reverse("patients:chart", args=[clinic.patient.public_id])


@pytest.mark.django_db
def test_clinician_outside_the_team_opens_a_chart_after_giving_a_reason(clinic, client, chart_url):
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(chart_url).status_code == 404
    response = client.post(
        reverse("patients:break_glass"),
        {
            "mrn": clinic.patient.mrn,
            "category": "imminent_risk",
            "reason": "Patient in crisis at front desk, primary clinician away",
        },
    )
    assert response.status_code == 302 and response.url == chart_url
    page = client.get(chart_url).content.decode()
    assert "emergency access" in page
    entries = AuditEntry.objects.filter(patient_public_id=clinic.patient.public_id)
    grant_entry = entries.get(action=AuditAction.BREAK_GLASS)
    assert "crisis" in grant_entry.reason
    read = entries.filter(action=AuditAction.READ).first()
    grant = BreakGlassGrant.objects.get()
    assert read.reason == f"break-the-glass grant {grant.public_id}"


@pytest.mark.django_db
def test_emergency_access_expires(clinic, client, chart_url, settings):
    client.force_login(clinic.clinician_elsewhere)
    client.post(
        reverse("patients:break_glass"),
        {
            "mrn": clinic.patient.mrn,
            "category": "imminent_risk",
            "reason": "Patient in crisis at front desk, primary clinician away",
        },
    )
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(
        minutes=settings.BREAK_GLASS_MINUTES + 1
    )
    with time_machine.travel(later):
        client.force_login(clinic.clinician_elsewhere)
        assert client.get(chart_url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form, message",
    [
        (
            {
                "mrn": "M00000000",
                "category": "imminent_risk",
                "reason": "Patient in crisis at the front desk",
            },
            "No patient with that MRN",
        ),
        ({"mrn": "from-fixture", "category": "other", "reason": "because"}, "at least 20 characters"),
        ({"mrn": "from-fixture", "category": "other", "reason": "Crisis at front desk"[:19]}, "at least 20"),
        ({"mrn": "from-fixture", "reason": "Patient in crisis at the front desk"}, "This field is required"),
        (
            {"mrn": "from-fixture", "category": "curiosity", "reason": "Patient in crisis at the desk"},
            "valid choice",
        ),
        ({"mrn": "", "reason": ""}, "This field is required"),
    ],
)
def test_emergency_access_explains_what_is_wrong(clinic, client, form, message):
    if form["mrn"] == "from-fixture":
        form = {**form, "mrn": clinic.patient.mrn}
    client.force_login(clinic.clinician_elsewhere)
    response = client.post(reverse("patients:break_glass"), form)
    assert response.status_code == 200 and message in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.BREAK_GLASS).exists()


@pytest.mark.django_db
def test_emergency_access_is_limited_to_patients_at_ones_own_sites(clinic, client):
    from patients.tests.factories import PatientFactory

    far_away = PatientFactory(site=clinic.site_b)
    client.force_login(clinic.clinician_elsewhere)
    response = client.post(
        reverse("patients:break_glass"),
        {
            "mrn": far_away.mrn,
            "category": "imminent_risk",
            "reason": "Patient in crisis at front desk, primary clinician away",
        },
    )
    assert "No patient with that MRN at your sites" in response.content.decode()


@pytest.mark.django_db
def test_admins_see_emergency_access_in_the_access_log(clinic, client):
    client.force_login(clinic.clinician_elsewhere)
    client.post(
        reverse("patients:break_glass"),
        {
            "mrn": clinic.patient.mrn,
            "category": "imminent_risk",
            "reason": "Patient in crisis at front desk, primary clinician away",
        },
    )
    client.force_login(clinic.admin)
    page = client.get(reverse("patients:break_glass_log")).content.decode()
    assert clinic.patient.mrn in page and "crisis at front desk" in page
    client.force_login(clinic.admin_other_site)
    assert clinic.patient.mrn not in client.get(reverse("patients:break_glass_log")).content.decode()


@pytest.mark.django_db
def test_the_grant_keeps_its_category_and_the_access_log_shows_it(clinic, client):
    client.force_login(clinic.clinician_elsewhere)
    client.post(
        reverse("patients:break_glass"),
        {
            "mrn": clinic.patient.mrn,
            "category": "continuity_of_care",
            "reason": "Covering for the primary today",
        },
    )
    grant = BreakGlassGrant.objects.get()
    assert grant.category == "continuity_of_care"
    entry = AuditEntry.objects.get(action=AuditAction.BREAK_GLASS)
    assert entry.reason == "Continuity of care: Covering for the primary today"
    client.force_login(clinic.admin)
    log = client.get(reverse("patients:break_glass_log")).content.decode()
    assert "Continuity of care" in log and "Covering for the primary today" in log
