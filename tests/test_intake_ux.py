"""What a clinician meets on the intake path (issue 7, item 5)."""

from django.urls import reverse


def test_a_suicide_risk_alert_links_to_the_c_ssrs_for_that_patient(clinic, client):
    from patients.services.records import raise_alert

    raise_alert(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind="suicide_risk",
        message="PHQ-9 item 9 positive: same-day suicide risk assessment (C-SSRS) needed",
        severity="high",
    )
    cssrs = reverse("patients:administer_instrument", args=[clinic.patient.public_id, "c-ssrs"])
    client.force_login(clinic.clinician_on_team)
    page = client.get(reverse("patients:chart", args=[clinic.patient.public_id])).content.decode()
    assert f'href="{cssrs}"' in page and 'data-testid="alert-give-cssrs"' in page
    assert client.get(cssrs).status_code == 200
    client.force_login(clinic.peer_support)  # who may not give it is not offered it
    page = client.get(reverse("patients:chart", args=[clinic.patient.public_id])).content.decode()
    assert 'data-testid="alert-give-cssrs"' not in page
