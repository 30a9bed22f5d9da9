"""What each role's home page shows."""

import pytest
from django.urls import reverse

from patients.models import ClinicalAlert
from patients.tests.factories import PatientFactory


@pytest.mark.django_db
def test_clinician_home_lists_caseload_and_alerts(clinic, client):
    ClinicalAlert.objects.create(patient=clinic.patient, kind="safety", message="Same-day risk assessment")
    client.force_login(clinic.clinician_on_team)
    page = client.get(reverse("home")).content.decode()
    assert clinic.patient.mrn in page and "Same-day risk assessment" in page


@pytest.mark.django_db
def test_alerts_of_patients_outside_ones_care_teams_stay_off_the_home_page(clinic, client):
    stranger = PatientFactory(site=clinic.site_a)
    ClinicalAlert.objects.create(patient=stranger, kind="safety", message="Not my patient's alert")
    client.force_login(clinic.clinician_on_team)
    assert "Not my patient" not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_home_page_query_count_does_not_grow_with_the_caseload(clinic, client, query_count):
    from patients.models import CareTeamRole
    from patients.tests.factories import admit

    client.force_login(clinic.clinician_on_team)
    small = query_count(lambda: client.get(reverse("home")))
    for _ in range(20):
        patient = PatientFactory(site=clinic.site_a)
        admit(patient, team={CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team})
        ClinicalAlert.objects.create(patient=patient, kind="safety", message="Check in")
    assert query_count(lambda: client.get(reverse("home"))) == small


@pytest.mark.django_db
def test_admin_home_query_count_does_not_grow_with_sites(clinic, client, query_count):
    from iop.accounts.tests.factories import SiteFactory

    client.force_login(clinic.admin)
    few = query_count(lambda: client.get(reverse("home")))
    for n in range(8):
        clinic.admin.sites.add(SiteFactory(name=f"Extra {n}"))
    assert query_count(lambda: client.get(reverse("home"))) == few
