"""The global patient search in the navigation goes to the patient list's own search."""

from django.urls import reverse


def test_navigation_offers_a_patient_search_that_uses_the_list(clinic, client):
    client.force_login(clinic.clinician_on_team)
    page = client.get("/").content.decode()
    assert 'data-testid="global-search"' in page
    assert f'action="{reverse("patients:list")}"' in page
    found = client.get(reverse("patients:list"), {"q": "McTestface"}).content.decode()
    assert clinic.patient.mrn in found


def test_global_search_finds_nobody_outside_the_users_reach(clinic, client):
    client.force_login(clinic.clinician_elsewhere)
    found = client.get(reverse("patients:list"), {"q": "McTestface"}).content.decode()
    assert clinic.patient.mrn not in found
