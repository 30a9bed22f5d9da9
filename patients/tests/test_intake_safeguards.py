"""Intake safeguards. Each test is a hole a review found in an earlier version."""

import datetime
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import require_service
from iop.accounts.tests.factories import api_token_for
from patients.models import AlertSeverity, AsamAssessment, ClinicalAlert, Episode, Referral, ReferralStatus
from patients.services.intake import PossibleDuplicate, record_referral
from patients.services.records import raise_alert
from patients.tests.factories import PatientFactory
from patients.tests.test_intake import REFERRAL, referral_post


def api_as(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


def discharge(episode):
    episode.status, episode.discharged_on, episode.discharge_reason = "discharged", timezone.localdate(), "1"
    episode.save()


@pytest.mark.django_db
def test_a_referral_cannot_be_attached_to_an_unrelated_record_to_open_its_chart(clinic, client):
    discharge(clinic.episode)
    chart = reverse("patients:chart", args=[clinic.patient.public_id])
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(chart).status_code == 404
    response = client.post(
        reverse("patients:referral_create"), referral_post(clinic, attach_to=str(clinic.patient.public_id))
    )
    assert response.status_code == 200 and "No such patient" in response.content.decode()
    assert client.get(chart).status_code == 404
    assert not clinic.patient.referrals.exists()


@pytest.mark.django_db
def test_the_caller_with_the_right_name_and_birth_date_can_be_attached_to_their_record(clinic, client):
    discharge(clinic.episode)
    patient = clinic.patient
    client.force_login(clinic.clinician_elsewhere)
    same_person = referral_post(
        clinic,
        legal_first_name=patient.legal_first_name,
        legal_last_name=patient.legal_last_name,
        date_of_birth=patient.date_of_birth.isoformat(),
    )
    warned = client.post(reverse("patients:referral_create"), same_person)
    body = warned.content.decode()
    assert "held by another care team" in body and patient.mrn not in body  # nothing about the record
    assert str(patient.public_id) not in body  # an opaque reference instead of the id
    reference = re.search(r'value="(ref:[^"]+)"', body).group(1)
    attached = client.post(
        reverse("patients:referral_create"),
        {**same_person, "attach_to": reference, "attach_reason": "Same person, coming back after a move"},
    )
    assert attached.status_code == 302 and patient.referrals.filter(status=ReferralStatus.OPEN).exists()


@pytest.mark.django_db
def test_the_api_tells_only_that_an_unseen_duplicate_exists(clinic):
    patient = clinic.patient  # on a care team the case manager of site B cannot see
    outsider = clinic.clinician_elsewhere
    response = api_as(outsider).post(
        "/api/v1/referrals/",
        {
            "new_patient": {
                "legal_first_name": patient.legal_first_name,
                "legal_last_name": patient.legal_last_name,
                "date_of_birth": patient.date_of_birth.isoformat(),
            },
            "site": str(clinic.site_a.public_id),
            **REFERRAL,
        },
        format="json",
    )
    assert response.status_code == 409
    (match,) = response.json()["matches"]
    assert match["visible"] is False and "mrn" not in match


@pytest.mark.django_db
def test_admission_concerns_cannot_be_skipped_through_the_api(clinic):
    from patients.tests.test_intake import sign_treatment_consent

    referral = record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "C",
            "legal_last_name": "Oncern",
            "date_of_birth": datetime.date(1980, 1, 1),
        },
        **REFERRAL,
    )
    raise_alert(
        actor=clinic.medical,
        patient=referral.patient,
        kind="safety",
        severity=AlertSeverity.HIGH,
        message="C-SSRS high risk: safety precautions now",
    )
    sign_treatment_consent(referral.patient, clinic.clinician_on_team)
    body = {
        "patient": str(referral.patient.public_id),
        "program": str(Episode.objects.first().program.public_id),
        "site": str(clinic.site_a.public_id),
        "admitted_on": timezone.localdate().isoformat(),
        "care_team_assignments": {"primary_clinician": str(clinic.clinician_on_team.public_id)},
    }
    api = api_as(clinic.clinician_on_team)
    refused = api.post("/api/v1/episodes/", {**body, "acknowledge_concerns": True}, format="json")
    assert refused.status_code == 400 and "C-SSRS high risk" in str(refused.json())
    assert not Episode.objects.filter(patient=referral.patient).exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_recording_the_same_referral_at_once_make_one(clinic):
    require_service("PostgreSQL", connection.vendor == "postgresql", "row locks need it; SQLite serialises")
    discharge(clinic.episode)
    errors = []

    def record():
        try:
            record_referral(
                actor=clinic.clinician_on_team, site=clinic.site_a, patient=clinic.patient, **REFERRAL
            )
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Referral.objects.filter(patient=clinic.patient, status=ReferralStatus.OPEN).count() == 1
    assert len(errors) == 1


@pytest.mark.django_db
def test_a_second_open_referral_is_refused(clinic):
    discharge(clinic.episode)
    record_referral(actor=clinic.clinician_on_team, site=clinic.site_a, patient=clinic.patient, **REFERRAL)
    with pytest.raises(ValidationError, match="already has an open referral"):
        record_referral(actor=clinic.case_manager, site=clinic.site_a, patient=clinic.patient, **REFERRAL)


@pytest.mark.django_db
def test_home_alerts_follow_site_membership(clinic, client):
    ClinicalAlert.objects.create(patient=clinic.patient, kind="safety", message="PHQ-9 item 9 positive")
    alice = clinic.clinician_on_team
    client.force_login(alice)
    assert "PHQ-9 item 9 positive" in client.get(reverse("home")).content.decode()
    alice.sites.set([clinic.site_b])
    page = client.get(reverse("home")).content.decode()
    assert "PHQ-9 item 9 positive" not in page and clinic.patient.legal_last_name not in page


@pytest.mark.django_db
def test_a_safety_alert_without_a_care_team_still_reaches_someone(clinic, client):
    newcomer = PatientFactory(site=clinic.site_a)  # registered, no referral, no care team
    raise_alert(
        actor=clinic.medical,
        patient=newcomer,
        kind="safety",
        severity=AlertSeverity.HIGH,
        message="C-SSRS high risk: do not leave alone",
    )
    for who in (clinic.medical, clinic.supervisor):  # who raised it, and the site's supervisor
        client.force_login(who)
        assert "C-SSRS high risk" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_the_referrer_becomes_the_intake_clinician_when_none_is_chosen(clinic):
    referral = record_referral(
        actor=clinic.medical,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "N",
            "legal_last_name": "Oclin",
            "date_of_birth": datetime.date(1980, 1, 1),
        },
        **REFERRAL,
    )
    assert referral.intake_clinician == clinic.medical


@pytest.mark.django_db
def test_a_referral_at_another_site_cannot_be_closed_by_its_old_care_team(clinic):
    discharge(clinic.episode)
    clinic.case_manager.sites.add(clinic.site_b)
    referral = record_referral(
        actor=clinic.case_manager, site=clinic.site_b, patient=clinic.patient, **REFERRAL
    )
    response = api_as(clinic.clinician_on_team).post(
        f"/api/v1/referrals/{referral.public_id}/close/",
        {"outcome": "declined", "version": referral.version},
        format="json",
    )
    assert response.status_code in (403, 404)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.OPEN


@pytest.mark.django_db
def test_a_readmission_is_judged_on_its_own_intake(clinic, client):
    old_referral = Referral.objects.create(
        patient=clinic.patient,
        site=clinic.site_a,
        source="self",
        reason="First time",
        status="closed",
        outcome="admitted",
        created_by=clinic.clinician_on_team,
        admitted_at=timezone.now(),
    )
    AsamAssessment.objects.create(
        patient=clinic.patient,
        referral=old_referral,
        edition="3",
        ratings={str(d): 1 for d in range(1, 7)},
        recommended_level="2.1",
        chosen_level="2.1",
        assessed_at=timezone.now(),
        assessed_by=clinic.clinician_on_team,
    )
    discharge(clinic.episode)
    record_referral(actor=clinic.clinician_on_team, site=clinic.site_a, patient=clinic.patient, **REFERRAL)
    client.force_login(clinic.clinician_on_team)
    queue = client.get(reverse("patients:intake_queue")).context["page"].object_list
    assert [row.has_asam for row in queue] == [False]
    admit_page = client.get(reverse("patients:admit", args=[clinic.patient.public_id])).content.decode()
    assert "No ASAM assessment recorded for this intake" in admit_page


@pytest.mark.django_db
def test_a_back_dated_admission_counts_time_to_admission_to_that_day(clinic):
    from patients.services.records import _admission_moment

    referred = timezone.now() - datetime.timedelta(days=5)
    moment = _admission_moment(timezone.localdate() - datetime.timedelta(days=3), referred)
    assert datetime.timedelta(days=1) < moment - referred < datetime.timedelta(days=3)


@pytest.mark.django_db
def test_the_referral_time_cannot_move_after_its_first_screening(clinic):
    from patients.services.intake import update_referral

    referral = record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "T",
            "legal_last_name": "Ime",
            "date_of_birth": datetime.date(1980, 1, 1),
        },
        referred_at=timezone.now() - datetime.timedelta(hours=5),
        **REFERRAL,
    )
    Referral.objects.filter(pk=referral.pk).update(screened_at=timezone.now() - datetime.timedelta(hours=4))
    referral.refresh_from_db()
    with pytest.raises(ValidationError, match="after its first screening"):
        update_referral(
            actor=clinic.clinician_on_team,
            referral=referral,
            expected_version=referral.version,
            changes={"referred_at": timezone.now() - datetime.timedelta(hours=1)},
        )


@pytest.mark.django_db
def test_listing_referrals_is_a_chart_read_of_each_patient(clinic):
    from iop.audit.models import AuditEntry

    for name in ("One", "Two"):
        record_referral(
            actor=clinic.clinician_on_team,
            site=clinic.site_a,
            new_patient={
                "legal_first_name": name,
                "legal_last_name": "Listed",
                "date_of_birth": datetime.date(1980, 1, 1),
            },
            **REFERRAL,
        )
    api_as(clinic.case_manager).get("/api/v1/referrals/")
    assert AuditEntry.objects.filter(object_type="patients.chart.api.referrals").count() == 2


@pytest.mark.django_db
def test_absurdly_nested_json_is_a_400_not_a_500(clinic):
    body = "[" * 50000 + "]" * 50000
    response = api_as(clinic.clinician_on_team).generic(
        "POST", "/api/v1/referrals/", body, content_type="application/json"
    )
    assert response.status_code == 400 and "nested" in response.json()["detail"]


@pytest.mark.django_db
def test_an_oversized_api_body_is_a_json_400(clinic, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_as(clinic.clinician_on_team).generic(
        "POST", "/api/v1/referrals/", '{"reason": "' + "x" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 400 and "detail" in response.json()


@pytest.mark.django_db
def test_intake_staff_at_the_referrals_site_may_consent_a_patient_held_at_another(clinic):
    from iop.accounts.models import Role
    from iop.accounts.tests.factories import UserFactory
    from patients.access import may_write_clinical

    discharge(clinic.episode)  # record held at site A
    b_clinician = UserFactory(username="bclin", role=Role.CLINICIAN, sites=[clinic.site_b])
    assert not may_write_clinical(b_clinician, clinic.patient, allow_break_glass=False)
    patient = clinic.patient
    identity = {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth,
    }
    with pytest.raises(PossibleDuplicate) as duplicate:
        record_referral(actor=b_clinician, site=clinic.site_b, new_patient=identity, **REFERRAL)
    record_referral(
        actor=b_clinician,
        site=clinic.site_b,
        attach_reference=duplicate.value.references[patient.pk],
        attach_reason="Moved to Riverside, continuing treatment here",
        **REFERRAL,
    )
    assert may_write_clinical(b_clinician, patient, allow_break_glass=False)
