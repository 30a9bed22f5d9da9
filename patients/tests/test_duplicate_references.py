"""Duplicate detection tells only that a matching record exists, and where; attaching to a record
out of reach goes through an opaque, single-use, expiring reference with a reason, audited as
widening reach and listed in the access log (issue 6, defects 2 and 3)."""

import datetime
import json

import pytest
import time_machine
from django.urls import reverse

from iop.audit.models import AuditAction, AuditEntry
from patients.models import ReferralStatus
from patients.services.intake import DUPLICATE_REFERENCE_MINUTES
from patients.tests.test_intake_api import api_as

REASON = "Same person, moved here and wants to continue treatment"


def discharge(episode):
    episode.status, episode.discharged_on = "discharged", datetime.date.today()
    episode.save(update_fields=["status", "discharged_on"])


def body(clinic, **overrides):
    patient = clinic.patient
    return {
        "new_patient": {
            "legal_first_name": patient.legal_first_name,
            "legal_last_name": patient.legal_last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
        },
        "site": str(clinic.site_a.public_id),
        "source": "self",
        "reason": "Wants to come back",
        "urgency": "routine",
        **overrides,
    }


def conflict(clinic, user):
    response = api_as(user).post("/api/v1/referrals/", body(clinic), format="json")
    assert response.status_code == 409
    return response


@pytest.mark.django_db
def test_the_409_names_only_the_site_and_gives_an_opaque_reference(clinic):
    discharge(clinic.episode)
    response = conflict(clinic, clinic.clinician_elsewhere)
    text = json.dumps(response.json())
    assert str(clinic.patient.public_id) not in text and clinic.patient.mrn not in text
    [match] = response.json()["matches"]
    assert set(match) == {"site", "visible", "reference"}
    assert match["site"] == "Northside" and match["visible"] is False


@pytest.mark.django_db
def test_attaching_through_the_reference_needs_a_reason_and_is_audited_and_logged(clinic, client):
    discharge(clinic.episode)
    api = api_as(clinic.clinician_elsewhere)
    reference = conflict(clinic, clinic.clinician_elsewhere).json()["matches"][0]["reference"]
    attach = {**body(clinic), "attach_reference": reference}
    no_reason = api.post("/api/v1/referrals/", {**attach, "attach_reason": "because"}, format="json")
    assert no_reason.status_code == 400 and "attach_reason" in no_reason.json()
    created = api.post("/api/v1/referrals/", {**attach, "attach_reason": REASON}, format="json")
    assert created.status_code == 201, created.json()
    assert clinic.patient.referrals.filter(status=ReferralStatus.OPEN).exists()
    entry = AuditEntry.objects.get(object_type="patients.duplicate_attachment")
    assert entry.action == AuditAction.BREAK_GLASS and entry.patient_public_id == clinic.patient.public_id
    assert entry.reason.startswith("widens reach") and REASON in entry.reason
    client.force_login(clinic.admin)
    log = client.get(reverse("patients:break_glass_log")).content.decode()
    assert "duplicate-attachment-log" in log and REASON in log and clinic.patient.mrn in log


@pytest.mark.django_db
def test_a_reference_is_single_use_personal_and_expires(clinic):
    discharge(clinic.episode)
    reference = conflict(clinic, clinic.clinician_elsewhere).json()["matches"][0]["reference"]
    attach = {**body(clinic), "attach_reference": reference, "attach_reason": REASON}
    other = api_as(clinic.supervisor).post("/api/v1/referrals/", attach, format="json")
    # (the supervisor sees the record, so would not get a reference; this one is not theirs)
    assert other.status_code == 400 and "attach_reference" in other.json()
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(
        minutes=DUPLICATE_REFERENCE_MINUTES + 1
    )
    with time_machine.travel(later):
        expired = api_as(clinic.clinician_elsewhere).post("/api/v1/referrals/", attach, format="json")
        assert expired.status_code == 400 and "attach_reference" in expired.json()
    api = api_as(clinic.clinician_elsewhere)
    assert api.post("/api/v1/referrals/", attach, format="json").status_code == 201
    clinic.patient.referrals.update(status=ReferralStatus.CLOSED, outcome="declined")
    again = api.post("/api/v1/referrals/", attach, format="json")
    assert again.status_code == 400 and "attach_reference" in again.json()
    tampered = api.post("/api/v1/referrals/", {**attach, "attach_reference": reference + "x"}, format="json")
    assert tampered.status_code == 400


@pytest.mark.django_db
def test_an_unseen_record_in_treatment_is_not_described_as_such(clinic):
    # The clinic's patient is in treatment on another team.
    reference = conflict(clinic, clinic.clinician_elsewhere).json()["matches"][0]["reference"]
    response = api_as(clinic.clinician_elsewhere).post(
        "/api/v1/referrals/",
        {**body(clinic), "attach_reference": reference, "attach_reason": REASON},
        format="json",
    )
    assert response.status_code == 400
    text = json.dumps(response.json())
    assert "in treatment" not in text and "active" not in text and "Northside" in text


@pytest.mark.django_db
def test_the_page_offers_a_reference_not_the_id_and_asks_for_a_reason(clinic, client):
    discharge(clinic.episode)
    client.force_login(clinic.clinician_elsewhere)
    patient = clinic.patient
    post = {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "site": clinic.site_a.public_id,
        "source": "self",
        "reason": "Wants to come back",
        "urgency": "routine",
    }
    page = client.post(reverse("patients:referral_create"), post).content.decode()
    assert str(patient.public_id) not in page and 'value="ref:' in page and "attach_reason" in page
    reference = page.split('value="ref:', 1)[1].split('"', 1)[0]
    refused = client.post(reverse("patients:referral_create"), {**post, "attach_to": f"ref:{reference}"})
    assert refused.status_code == 200 and "at least 20 characters" in refused.content.decode()
    attached = client.post(
        reverse("patients:referral_create"),
        {**post, "attach_to": f"ref:{reference}", "attach_reason": REASON},
    )
    assert attached.status_code == 302
