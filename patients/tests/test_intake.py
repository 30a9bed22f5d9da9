"""From first call to admitted patient: referral, duplicates, queue, eligibility, admission."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditAction, AuditEntry
from patients.models import (
    Consent,
    ConsentKind,
    EligibilityReview,
    Episode,
    EpisodeStatus,
    Patient,
    ReferralOutcome,
    ReferralStatus,
)
from patients.services.intake import record_referral
from patients.tests.factories import PatientFactory, default_program

REFERRAL = {
    "source": "court",
    "source_detail": "County drug court",
    "reason": "Alcohol use, court-ordered assessment",
    "urgency": "urgent",
}


def referral_post(clinic, **overrides):
    return {
        "legal_first_name": "Rae",
        "legal_last_name": "Referral",
        "date_of_birth": "1988-02-14",
        "phone": "(201) 555-0123",
        "site": str(clinic.site_a.public_id),
        **REFERRAL,
        "intake_clinician": str(clinic.clinician_on_team.public_id),
        **overrides,
    }


def sign_treatment_consent(patient, witness):
    return Consent.objects.create(
        patient=patient,
        kind=ConsentKind.TREATMENT,
        text_presented="I consent to treatment.",
        signed_by_name=f"{patient.legal_first_name} {patient.legal_last_name}",
        signed_at=timezone.now(),
        witnessed_by=witness,
    )


@pytest.fixture
def referral(clinic):
    return record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Rae",
            "legal_last_name": "Referral",
            "date_of_birth": datetime.date(1988, 2, 14),
        },
        intake_clinician=clinic.clinician_on_team,
        **REFERRAL,
    )


def admission_post(clinic, **overrides):
    return {
        "program": str(default_program().public_id),
        "site": str(clinic.site_a.public_id),
        "admitted_on": timezone.localdate().isoformat(),
        "primary_clinician": str(clinic.clinician_on_team.public_id),
        "case_manager": str(clinic.case_manager.public_id),
        "medical": str(clinic.medical.public_id),
        "peer_support": str(clinic.peer_support.public_id),
        **overrides,
    }


@pytest.mark.django_db
def test_a_referral_registers_the_person_and_opens_their_intake(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(reverse("patients:referral_create"), referral_post(clinic))
    patient = Patient.objects.get(legal_last_name="Referral")
    assert response.status_code == 302
    assert response.url == reverse("patients:chart_tab", args=[patient.public_id, "intake"])
    referral = patient.referrals.get()
    assert referral.status == ReferralStatus.OPEN and referral.source == "court"
    assert str(patient.phone) == "+12015550123"
    page = client.get(response.url).content.decode()
    assert (
        'data-testid="intake-checklist"' in page and "County drug court" not in page
    )  # detail stays on edit


@pytest.mark.django_db
def test_referral_form_explains_its_errors_and_keeps_what_was_typed(clinic, client):
    client.force_login(clinic.clinician_on_team)
    future = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("patients:referral_create"),
        referral_post(clinic, reason="", phone="not a phone", referred_at=future, source="carrier pigeon"),
    )
    body = response.content.decode()
    assert response.status_code == 200
    for message in [
        "This field is required",
        "Enter a valid phone number",
        "cannot be in the future",
        "Select a valid choice",
    ]:
        assert message in body, message
    assert 'value="Referral"' in body
    assert not Patient.objects.filter(legal_last_name="Referral").exists()


@pytest.mark.django_db
def test_a_possible_duplicate_is_shown_and_the_referral_can_attach_to_it(clinic, client):
    existing = PatientFactory(
        site=clinic.site_a,
        legal_first_name="Rae",
        legal_last_name="Referral",
        date_of_birth=datetime.date(1988, 2, 14),
    )
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:referral_create")
    first = client.post(url, referral_post(clinic, legal_first_name="rae", legal_last_name="REFERRAL"))
    assert first.status_code == 200
    assert (
        'data-testid="possible-duplicates"' in first.content.decode()
        and existing.mrn in first.content.decode()
    )
    assert AuditEntry.objects.filter(
        object_type="patients.duplicate_check", patient_public_id=existing.public_id
    ).exists()
    attached = client.post(url, referral_post(clinic, attach_to=str(existing.public_id)))
    assert attached.status_code == 302
    assert Patient.objects.filter(legal_last_name__iexact="referral").count() == 1
    assert existing.referrals.count() == 1


@pytest.mark.django_db
def test_a_different_person_with_the_same_name_and_birthday_gets_a_new_record(clinic, client):
    PatientFactory(
        site=clinic.site_a,
        legal_first_name="Rae",
        legal_last_name="Referral",
        date_of_birth=datetime.date(1988, 2, 14),
    )
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        reverse("patients:referral_create"), referral_post(clinic, confirmed_new_person="on")
    )
    assert response.status_code == 302
    assert Patient.objects.filter(legal_last_name="Referral").count() == 2


@pytest.mark.django_db
def test_the_queue_shows_open_referrals_oldest_first_with_time_waiting(clinic, client, referral):
    older = record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Olde",
            "legal_last_name": "Firstcaller",
            "date_of_birth": datetime.date(1970, 1, 1),
        },
        referred_at=timezone.now() - datetime.timedelta(days=3),
        **REFERRAL,
    )
    client.force_login(clinic.case_manager)
    response = client.get(reverse("patients:intake_queue"))
    rows = list(response.context["page"].object_list)
    assert rows == [older, referral]
    assert "3\xa0days" in response.content.decode()


@pytest.mark.django_db
def test_the_queue_query_count_does_not_grow_with_referrals(clinic, client, referral, query_count):
    client.force_login(clinic.case_manager)
    url = reverse("patients:intake_queue")
    few = query_count(lambda: client.get(url))
    for n in range(12):
        record_referral(
            actor=clinic.clinician_on_team,
            site=clinic.site_a,
            new_patient={
                "legal_first_name": f"P{n}",
                "legal_last_name": "Queue",
                "date_of_birth": datetime.date(1990, 1, 1),
            },
            **REFERRAL,
        )
    assert query_count(lambda: client.get(url)) == few


@pytest.mark.django_db
def test_closing_a_referral_elsewhere_needs_where_and_why(clinic, client, referral):
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:referral_close", args=[referral.patient.public_id, referral.public_id])
    missing = client.post(url, {"outcome": "referred_elsewhere", "detail": "", "version": referral.version})
    assert "Say where the person was referred" in missing.content.decode()
    client.post(
        url,
        {
            "outcome": "referred_elsewhere",
            "detail": "Residential (ASAM 3.5): severity",
            "version": referral.version,
        },
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED and referral.outcome == ReferralOutcome.REFERRED_ELSEWHERE


@pytest.mark.django_db
def test_eligibility_checklist_records_each_criterion(clinic, client, referral):
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:referral_eligibility", args=[referral.patient.public_id, referral.public_id])
    client.post(
        url,
        {
            "stable_home_and_support": "on",
            "has_transportation": "on",
            "committed_to_recovery": "on",
            "severity_suits_iop": "on",
            "notes": "No current job",
        },
    )
    review = EligibilityReview.objects.get()
    assert review.criteria_met == 4 and review.unmet_criteria == ["Work, school or family obligations"]


@pytest.mark.django_db
def test_admission_is_refused_without_a_signed_consent_to_treatment(clinic, client, referral):
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:admit", args=[referral.patient.public_id])
    page = client.get(url).content.decode()
    assert "No signed consent to treatment" in page
    response = client.post(
        url, admission_post(clinic, acknowledge_concerns="on", admission_note="Court order")
    )
    assert response.status_code == 200
    assert "No signed consent to treatment" in response.content.decode()
    assert not Episode.objects.filter(patient=referral.patient).exists()


@pytest.mark.django_db
def test_admission_with_concerns_needs_an_acknowledged_reason(clinic, client, referral):
    sign_treatment_consent(referral.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:admit", args=[referral.patient.public_id])
    response = client.post(url, admission_post(clinic))
    body = response.content.decode()
    assert "No ASAM assessment recorded" in body and "Tick this to admit despite the concerns" in body
    assert not Episode.objects.filter(patient=referral.patient).exists()


@pytest.mark.django_db
def test_admission_opens_phase_1_with_the_care_team_and_records_time_to_admission(clinic, client, referral):
    sign_treatment_consent(referral.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:admit", args=[referral.patient.public_id])
    response = client.post(
        url, admission_post(clinic, acknowledge_concerns="on", admission_note="Court deadline")
    )
    assert response.status_code == 302
    episode = Episode.objects.get(patient=referral.patient)
    assert episode.status == EpisodeStatus.ACTIVE and episode.current_phase.order == 1
    assert episode.referral == referral
    assert {m.role for m in episode.care_team.all()} == {
        "primary_clinician",
        "case_manager",
        "medical",
        "peer_support",
    }
    referral.refresh_from_db()
    assert referral.outcome == ReferralOutcome.ADMITTED and referral.time_to_admission is not None
    assert episode.admission_note == "Court deadline"
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="patients.episode")
    assert "admission_note" in entry.changed_fields and entry.reason == ""  # free text stays out of the trail


@pytest.mark.django_db
def test_readmitting_a_discharged_patient_opens_a_new_episode_and_keeps_the_old(clinic, client):
    old = clinic.episode
    old.status, old.discharged_on, old.discharge_reason = "discharged", timezone.localdate(), "2"
    old.save()
    referral = record_referral(
        actor=clinic.clinician_on_team, site=clinic.site_a, patient=clinic.patient, **REFERRAL
    )
    sign_treatment_consent(clinic.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        reverse("patients:admit", args=[clinic.patient.public_id]),
        admission_post(clinic, acknowledge_concerns="on", admission_note="Relapse, back for IOP"),
        follow=True,
    )
    page = client.get(reverse("patients:chart", args=[clinic.patient.public_id])).content.decode()
    # One wording for time to admission, as in the referral history ("admitted after ...").
    assert "Admitted after 0" in response.content.decode() and "hours after the referral" not in page
    episodes = list(clinic.patient.episodes.order_by("id"))
    assert len(episodes) == 2 and episodes[0].status == "discharged" and episodes[1].referral == referral
    page = client.get(reverse("patients:chart", args=[clinic.patient.public_id])).content.decode()
    assert page.count("Adult SUD IOP</strong>") == 2  # both episodes in the history


@pytest.mark.django_db
def test_a_readmission_referral_brings_the_patient_back_into_the_intake_pool(clinic, client):
    old = clinic.episode
    old.status, old.discharged_on, old.discharge_reason = "discharged", timezone.localdate(), "1"
    old.save()
    chart = reverse("patients:chart", args=[clinic.patient.public_id])
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(chart).status_code == 404
    record_referral(actor=clinic.clinician_on_team, site=clinic.site_a, patient=clinic.patient, **REFERRAL)
    assert client.get(chart).status_code == 200


@pytest.mark.django_db
def test_a_patient_in_treatment_cannot_be_referred_again(clinic):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="in treatment now"):
        record_referral(
            actor=clinic.clinician_on_team, site=clinic.site_a, patient=clinic.patient, **REFERRAL
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, queue, admit",
    [
        ("clinician_on_team", 200, 200),
        ("clinician_elsewhere", 200, 200),
        ("case_manager", 200, 404),
        ("medical", 200, 404),
        ("peer_support", 404, 404),
        ("admin", 200, 200),
        ("admin_other_site", 200, 404),
    ],
)
def test_intake_pages_by_persona(clinic, client, referral, persona, queue, admit):
    client.force_login(clinic.persona(persona))
    assert client.get(reverse("patients:intake_queue")).status_code == queue
    assert client.get(reverse("patients:referral_create")).status_code == queue
    assert client.get(reverse("patients:admit", args=[referral.patient.public_id])).status_code == admit
    eligibility = reverse(
        "patients:referral_eligibility", args=[referral.patient.public_id, referral.public_id]
    )
    expected = (
        200
        if persona in {"clinician_on_team", "clinician_elsewhere", "case_manager", "medical", "admin"}
        else 404
    )
    assert client.get(eligibility).status_code == expected


def test_intake_pages_send_anonymous_users_to_sign_in(client):
    response = client.get(reverse("patients:intake_queue"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_intake_clinician_sees_the_referrals_safety_alert_on_their_home_page(clinic, client, referral):
    from patients.services.records import raise_alert

    raise_alert(
        actor=clinic.medical,
        patient=referral.patient,
        kind="safety",
        severity="high",
        message="PHQ-9 item 9 positive: same-day suicide risk assessment (C-SSRS) needed",
    )
    client.force_login(clinic.clinician_on_team)
    assert "PHQ-9 item 9 positive" in client.get(reverse("home")).content.decode()
