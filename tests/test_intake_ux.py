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


# --- The intake checklist's "Patient record" step is done only when the record is complete ----


def _new_referral(clinic, intake_clinician=None):
    from patients.services.intake import record_referral

    return record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Rae",
            "legal_last_name": "Referral",
            "date_of_birth": datetime.date(1988, 2, 14),
            "phone": "+12015550123",
        },
        source="self",
        urgency="routine",
        reason="Drinking more since losing work.",
        intake_clinician=intake_clinician or clinic.clinician_on_team,
    )


def test_a_phone_number_alone_does_not_complete_the_patient_record_step(clinic, client):
    referral = _new_referral(clinic)
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:chart_tab", args=[referral.patient.public_id, "intake"])
    page = client.get(url).content.decode()
    step = page[page.index('data-testid="step-record"') : page.index('data-testid="step-screening"')]
    assert "bi-check2-circle" not in step and "Complete the record" in step
    assert "Missing: address, city, state, postal code, emergency contact" in step
    assert "a phone number or email" not in step  # the phone is there


def test_the_patient_record_step_is_done_when_contact_emergency_contact_and_payer_are_there(clinic, client):
    from patients.selectors.intake import missing_from_intake_record

    referral = _new_referral(clinic)
    patient = referral.patient
    for name, value in {
        "address_line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "emergency_contact_name": "Sam Referral",
        "emergency_contact_phone": "+12015550199",
    }.items():
        setattr(patient, name, value)
    patient.save()
    assert missing_from_intake_record(patient) == ["payer (or “Self-pay”)"]
    patient.payer = "Self-pay"
    patient.save()
    assert missing_from_intake_record(patient) == []
    client.force_login(clinic.clinician_on_team)
    page = client.get(reverse("patients:chart_tab", args=[patient.public_id, "intake"])).content.decode()
    step = page[page.index('data-testid="step-record"') : page.index('data-testid="step-screening"')]
    assert "bi-check2-circle" in step and "Missing" not in step and "Edit the record" in step


# --- The admit form proposes a care team (and the clinician may change it) ---------------------


def test_the_care_team_proposal_is_the_intake_clinician_and_the_least_loaded_staff(clinic):
    from iop.accounts.models import Role
    from iop.accounts.tests.factories import UserFactory
    from patients.selectors.intake import proposed_care_team

    # carol has one current patient (the clinic's); dan has none; erin works at the other site.
    dan = UserFactory(username="dan", role=Role.CASE_MANAGER, sites=[clinic.site_a])
    UserFactory(username="erin", role=Role.CASE_MANAGER, sites=[clinic.site_b])
    UserFactory(username="gone", role=Role.CASE_MANAGER, sites=[clinic.site_a], is_active=False)
    referral = _new_referral(clinic, intake_clinician=clinic.clinician_elsewhere)
    proposals = proposed_care_team(site=clinic.site_a, referral=referral, actor=clinic.admin)
    assert proposals["primary_clinician"].user == clinic.clinician_elsewhere
    assert "intake clinician" in proposals["primary_clinician"].why
    assert proposals["case_manager"].user == dan and proposals["case_manager"].caseload == 0
    assert proposals["medical"].user == clinic.medical and proposals["medical"].caseload == 1
    assert proposals["peer_support"].user == clinic.peer_support
    # A referral whose intake clinician is medical staff: the admitting clinician, then the least loaded.
    referral.intake_clinician = clinic.medical
    assert (
        proposed_care_team(site=clinic.site_a, referral=referral, actor=clinic.clinician_on_team)[
            "primary_clinician"
        ].user
        == clinic.clinician_on_team
    )
    least = proposed_care_team(site=clinic.site_a, referral=referral, actor=clinic.admin)["primary_clinician"]
    assert least.user != clinic.clinician_on_team and least.caseload == 0  # alice has a patient


def test_the_admit_form_shows_the_proposals_and_admits_with_the_team_the_clinician_chose(clinic, client):
    from iop.accounts.models import Role
    from iop.accounts.tests.factories import UserFactory
    from patients.models import Episode
    from patients.tests.test_intake import admission_post, sign_treatment_consent

    dan = UserFactory(username="dan", role=Role.CASE_MANAGER, sites=[clinic.site_a])
    referral = _new_referral(clinic, intake_clinician=clinic.clinician_elsewhere)
    sign_treatment_consent(referral.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:admit", args=[referral.patient.public_id])
    page = client.get(url).content.decode()
    for field, user in [
        ("primary_clinician", clinic.clinician_elsewhere),
        ("case_manager", dan),
        ("medical", clinic.medical),
        ("peer_support", clinic.peer_support),
    ]:
        select = page[page.index(f'name="{field}"') :]
        select = select[: select.index("</select>")]
        assert f'value="{user.public_id}" selected' in select, field
    assert "Proposed: the intake clinician who screened them" in page
    assert "fewest current patients (0 current patients)" in page
    # The clinician changes the case manager to carol: the team is what they chose.
    response = client.post(
        url,
        admission_post(
            clinic,
            primary_clinician=str(clinic.clinician_elsewhere.public_id),
            acknowledge_concerns="on",
            admission_note="Court deadline",
        ),
    )
    assert response.status_code == 302
    team = {m.role: m.user for m in Episode.objects.get(patient=referral.patient).care_team.all()}
    assert (
        team["case_manager"] == clinic.case_manager
        and team["primary_clinician"] == clinic.clinician_elsewhere
    )


def test_the_care_team_proposal_is_one_query(clinic, django_assert_num_queries):
    from patients.selectors.intake import proposed_care_team

    referral = _new_referral(clinic)
    with django_assert_num_queries(1):
        proposed_care_team(site=clinic.site_a, referral=referral, actor=clinic.admin)


# --- The medical home lists the withdrawal assessments due -------------------------------------


def _give(clinic, patient, code, level, when=None):
    """A CIWA-Ar or COWS with every item at `level` (0: none), optionally dated `when`."""
    from patients.instruments import get_definition
    from patients.services.screening import administer_instrument

    instrument = get_definition(code)
    answers = {item.key: sorted(option.value for option in item.options)[level] for item in instrument.items}
    response = administer_instrument(actor=clinic.medical, patient=patient, code=code, answers=answers)
    if when is not None:
        response.administered_at = when
        response.save(update_fields=["administered_at"])
    return response


def test_the_medical_home_lists_who_needs_a_withdrawal_assessment(clinic, client):
    from patients.tests.factories import PatientFactory, admit

    now = timezone.now()
    clinic.episode.current_phase = clinic.episode.program.phases.get(order=1)
    clinic.episode.save(update_fields=["current_phase"])
    in_intake = _new_referral(clinic).patient  # never assessed
    checked = PatientFactory(site=clinic.site_a, legal_last_name="Checked")  # assessed yesterday: mild
    admit(checked, team={"primary_clinician": clinic.clinician_on_team, "medical": clinic.medical})
    _give(clinic, checked, "cows", 0, now - datetime.timedelta(days=1))
    stale = PatientFactory(site=clinic.site_a, legal_last_name="Stale")  # last COWS 9 days ago
    admit(stale, team={"primary_clinician": clinic.clinician_on_team, "medical": clinic.medical})
    _give(clinic, stale, "cows", 0, now - datetime.timedelta(days=9))
    _give(clinic, clinic.patient, "ciwa-ar", 2)  # today, but moderate or worse
    not_mine = PatientFactory(site=clinic.site_a, legal_last_name="Elsewhere")  # another medical's patient
    admit(not_mine, team={"primary_clinician": clinic.clinician_on_team})
    client.force_login(clinic.medical)
    page = client.get("/").content.decode()
    card = page[page.index('data-testid="withdrawal"') :]
    card = card[: card.index("</ul>")]
    names = [p.display_name for p in (clinic.patient, in_intake, stale)]
    positions = [card.index(name) for name in names]
    assert positions == sorted(positions)  # moderate or worse first, then never assessed, then oldest
    assert "Checked" not in card and "Elsewhere" not in card
    assert "Never assessed" in card and "Intake" in card
    give = reverse("patients:administer_instrument", args=[in_intake.public_id, "ciwa-ar"])
    assert f'href="{give}"' in card and client.get(give).status_code == 200
    assert "once intake screening is set up" not in page


def test_the_withdrawal_list_costs_the_same_however_many_are_due(
    clinic, client, django_assert_max_num_queries
):
    from patients.tests.factories import PatientFactory, admit

    client.force_login(clinic.medical)
    for n in range(6):
        patient = PatientFactory(site=clinic.site_a, legal_last_name=f"Due{n}")
        admit(patient, team={"primary_clinician": clinic.clinician_on_team, "medical": clinic.medical})
    with django_assert_max_num_queries(16) as captured:
        client.get("/")
    few = len(captured.captured_queries)
    for n in range(6, 20):
        patient = PatientFactory(site=clinic.site_a, legal_last_name=f"Due{n}")
        admit(patient, team={"primary_clinician": clinic.clinician_on_team, "medical": clinic.medical})
    with django_assert_max_num_queries(few):
        client.get("/")


def test_the_score_series_carries_the_bands_for_the_chart_ticks(clinic, settings):
    from patients.selectors.screening import score_series
    from patients.services.screening import administer_instrument

    administer_instrument(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        code="phq-9",
        answers={str(n): 1 for n in range(1, 10)},
    )
    (phq9,) = score_series(clinic.patient, code="phq-9")
    assert [band["low"] for band in phq9["bands"]] == [0, 5, 10, 15, 20] and phq9["max"] == 27
    settings.CIWA_AR_BANDS = "mild:0-7,moderate:8-15,severe:16-67"  # an installation's own protocol
    administer_instrument(
        actor=clinic.medical,
        patient=clinic.patient,
        code="ciwa-ar",
        answers={str(n): 0 for n in range(1, 11)},
    )
    (ciwa,) = score_series(clinic.patient, code="ciwa-ar")
    assert [(band["name"], band["low"]) for band in ciwa["bands"]] == [
        ("mild", 0),
        ("moderate", 8),
        ("severe", 16),
    ]
