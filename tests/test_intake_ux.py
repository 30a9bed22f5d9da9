"""What a clinician meets on the intake path (issue 7, item 5)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.core.text_limits import NOTE_MAX, REASON_MAX
from patients.models import Patient, Referral
from patients.tests.test_intake import referral_post


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


# --- All the referral form's errors at once; every free text has a limit ----------------------


def test_the_referral_form_shows_a_future_birth_date_together_with_the_other_errors(clinic, client):
    client.force_login(clinic.clinician_on_team)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        reverse("patients:referral_create"),
        referral_post(clinic, email="not-an-email", date_of_birth=tomorrow),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address" in body
    assert "Date of birth cannot be in the future" in body  # in the same round, not after the email
    assert not Patient.objects.filter(legal_last_name="Referral").exists()


def test_the_patient_record_form_checks_the_birth_date_with_its_other_fields(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        reverse("patients:edit", args=[clinic.patient.public_id]),
        {
            "legal_first_name": "Testy",
            "legal_last_name": "McTestface",
            "date_of_birth": "1800-01-01",
            "email": "nope",
            "version": clinic.patient.version,
        },
    )
    body = response.content.decode()
    assert "more than 120 years ago" in body and "Enter a valid email address" in body


def test_a_20000_character_referral_reason_is_refused_with_a_clear_message(clinic, client):
    client.force_login(clinic.clinician_on_team)
    page = client.get(reverse("patients:referral_create")).content.decode()
    assert f'maxlength="{REASON_MAX}"' in page  # the browser stops typing at the limit too
    response = client.post(reverse("patients:referral_create"), referral_post(clinic, reason="x" * 20_000))
    assert response.status_code == 200
    assert (
        f"Ensure this value has at most {REASON_MAX} characters (it has 20000)" in response.content.decode()
    )
    assert not Referral.objects.exists()
    response = client.post(
        reverse("patients:referral_create"), referral_post(clinic, reason="x" * REASON_MAX)
    )
    assert response.status_code == 302


@pytest.fixture
def api(clinic):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(clinic.clinician_on_team)
    return api


def test_the_api_refuses_a_referral_reason_over_the_limit_with_a_400(clinic, api):
    body = {
        "new_patient": {
            "legal_first_name": "Long",
            "legal_last_name": "Reason",
            "date_of_birth": "1990-01-01",
        },
        "site": str(clinic.site_a.public_id),
        "source": "self",
        "urgency": "routine",
        "reason": "x" * (REASON_MAX + 1),
    }
    response = api.post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 400
    assert "no more than 2000 characters" in str(response.json()["reason"])
    assert not Referral.objects.exists()


def test_notes_and_reasons_on_other_forms_have_limits(clinic, client):
    """Admission note, closing detail, eligibility notes, break-the-glass reason, consent revocation."""
    from patients.forms.consents import Part2TermsForm, RevokeConsentForm
    from patients.forms.intake import CloseReferralForm, EligibilityForm
    from patients.forms.records import BreakGlassForm

    too_long = "y" * (NOTE_MAX + 1)
    assert "detail" in CloseReferralForm({"outcome": "declined", "detail": too_long, "version": 1}).errors
    assert "notes" in EligibilityForm({"notes": too_long}).errors
    assert "reason" in BreakGlassForm({"mrn": "X", "category": "other", "reason": too_long}).errors
    assert "note" in RevokeConsentForm({"note": too_long}).errors
    assert "information_description" in Part2TermsForm({"information_description": too_long}).errors
