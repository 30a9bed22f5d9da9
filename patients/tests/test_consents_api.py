"""The consents API: preview, sign, read, list per patient, revoke; errors are JSON per field."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from iop.accounts.tests.factories import api_token_for
from iop.audit.models import AuditAction, AuditEntry
from patients.models import Consent, ConsentKind, ConsentStatus
from patients.tests.test_consents import make_consent, part2_terms, sign

URL = "/api/v1/consents/"


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


def part2_body(clinic, **overrides) -> dict:
    terms = part2_terms()
    body = {
        "patient": str(clinic.patient.public_id),
        "kind": "part2_disclosure",
        **terms,
        "expires_on": terms["expires_on"].isoformat(),
    }
    body.update(overrides)
    return body


@pytest.mark.django_db
def test_preview_then_sign_records_the_text_the_client_showed(clinic, api):
    as_user(api, clinic.case_manager)
    preview = api.post(f"{URL}preview/", part2_body(clinic), format="json")
    assert preview.status_code == 200, preview.json()
    text, digest = preview.json()["text"], preview.json()["text_digest"]
    assert "Lakeside Family Practice" in text and "42 CFR 2.32" in text
    assert not Consent.objects.exists()  # a preview records nothing
    response = api.post(
        URL,
        {**part2_body(clinic), "signed_by_name": "TESTY mctestface", "agreed": True, "text_digest": digest},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["text_presented"] == text and body["status"] == "active"
    assert body["witnessed_by"] == str(clinic.case_manager.public_id)
    assert body["signed_ip_address"] == "127.0.0.1" and body["revoked_at"] is None
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=body["id"]).exists()


@pytest.mark.django_db
def test_signing_errors_name_each_field(clinic, api):
    as_user(api, clinic.clinician_on_team)
    missing = api.post(URL, {"patient": str(clinic.patient.public_id)}, format="json")
    assert missing.status_code == 400
    assert {"kind", "signed_by_name", "agreed", "text_digest"} <= set(missing.json())
    terms = api.post(
        URL,
        {
            **part2_body(clinic, recipient="", purpose="", expires_on="2001-01-01"),
            "signed_by_name": "x",
            "agreed": True,
            "text_digest": "0" * 64,
        },
        format="json",
    )
    assert terms.status_code == 400
    assert set(terms.json()) >= {"recipient", "purpose", "expires_on"}
    assert "future" in terms.json()["expires_on"][0]


@pytest.mark.django_db
def test_wrong_name_or_no_agreement_or_another_text_is_400(clinic, api):
    as_user(api, clinic.clinician_on_team)
    digest = api.post(
        f"{URL}preview/", {"patient": str(clinic.patient.public_id), "kind": "treatment"}
    ).json()["text_digest"]
    base = {"patient": str(clinic.patient.public_id), "kind": "treatment"}
    wrong = api.post(
        URL, {**base, "signed_by_name": "Someone", "agreed": False, "text_digest": digest}, format="json"
    )
    assert wrong.status_code == 400 and set(wrong.json()) == {"signed_by_name", "agreed"}
    other_text = api.post(
        URL,
        {**base, "signed_by_name": "Testy McTestface", "agreed": True, "text_digest": "f" * 64},
        format="json",
    )
    assert other_text.status_code == 400 and "changed after it was shown" in other_text.json()["detail"]
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_peer_support_gets_403_and_a_patient_outside_reach_404(clinic, api):
    as_user(api, clinic.peer_support)
    body = {"patient": str(clinic.patient.public_id), "kind": "treatment"}
    assert api.post(f"{URL}preview/", body, format="json").status_code == 403
    denied = api.post(URL, {**body, "signed_by_name": "x", "agreed": True, "text_digest": "x"}, format="json")
    assert denied.status_code == 403 and "detail" in denied.json()
    as_user(api, clinic.clinician_elsewhere)
    assert api.post(f"{URL}preview/", body, format="json").status_code == 404


@pytest.mark.django_db
def test_list_is_per_patient_filtered_and_audited(clinic, api):
    active = sign(clinic.patient, clinic.clinician_on_team)
    revoked = sign(clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    revoked.revoked_at, revoked.revoked_by = timezone.now(), clinic.admin
    revoked.save()
    expired = make_consent(
        clinic.patient,
        clinic.medical,
        kind=ConsentKind.PART2_DISCLOSURE,
        **part2_terms(expires_on=timezone.localdate() - datetime.timedelta(days=2)),
    )
    as_user(api, clinic.case_manager)
    assert api.get(URL).status_code == 400 and "patient" in api.get(URL).json()
    assert api.get(URL, {"patient": "nope"}).json() == {"patient": ["Must be a patient id (a UUID)."]}
    before = AuditEntry.objects.filter(action=AuditAction.READ).count()
    listed = api.get(URL, {"patient": str(clinic.patient.public_id)}).json()
    assert listed["count"] == 3
    assert AuditEntry.objects.filter(action=AuditAction.READ).count() == before + 1

    def ids(**query):
        response = api.get(URL, {"patient": str(clinic.patient.public_id), **query})
        return {row["id"] for row in response.json()["results"]}

    assert ids(status="active") == {str(active.public_id)}
    assert ids(status="revoked") == {str(revoked.public_id)}
    assert ids(status="expired") == {str(expired.public_id)}
    assert ids(kind="treatment") == {str(active.public_id)}
    bad = api.get(URL, {"patient": str(clinic.patient.public_id), "status": "maybe", "kind": "x"})
    assert bad.status_code == 400 and set(bad.json()) == {"status", "kind"}


@pytest.mark.django_db
def test_list_query_count_does_not_grow(clinic, api, query_count):
    as_user(api, clinic.clinician_on_team)
    query = {"patient": str(clinic.patient.public_id)}
    make_consent(clinic.patient, clinic.medical)
    api.get(URL, query)  # warm up: the first audit entry after a flush creates the chain head
    few = query_count(lambda: api.get(URL, query))
    for witness in [clinic.case_manager, clinic.admin, clinic.medical] * 10:
        make_consent(clinic.patient, witness, revoked_at=timezone.now(), revoked_by=clinic.admin)
    assert query_count(lambda: api.get(URL, query)) == few
    assert api.get(URL, query).json()["count"] == 31


@pytest.mark.django_db
def test_retrieve_is_a_chart_read_and_outside_reach_is_404(clinic, api):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    as_user(api, clinic.medical)
    response = api.get(f"{URL}{consent.public_id}/")
    assert response.status_code == 200 and response.json()["kind"] == "treatment"
    entry = AuditEntry.objects.filter(action=AuditAction.READ).first()
    assert entry.object_type == "patients.chart.api" and entry.patient_public_id == clinic.patient.public_id
    as_user(api, clinic.admin_other_site)
    assert api.get(f"{URL}{consent.public_id}/").status_code == 404


@pytest.mark.django_db
def test_revoke_through_the_api(clinic, api):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    url = f"{URL}{consent.public_id}/revoke/"
    as_user(api, clinic.peer_support)
    assert api.post(url, {"note": "x"}, format="json").status_code == 403
    as_user(api, clinic.medical)
    assert api.post(url, {}, format="json").json() == {"note": ["This field is required."]}
    response = api.post(url, {"note": "Asked by phone."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == ConsentStatus.REVOKED
    assert response.json()["revoked_by"] == str(clinic.medical.public_id)
    again = api.post(url, {"note": "Again."}, format="json")
    assert again.status_code == 400 and "already revoked" in again.json()["detail"]


@pytest.mark.django_db
def test_a_signed_consent_cannot_be_edited_or_deleted(clinic, api):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    as_user(api, clinic.admin)
    url = f"{URL}{consent.public_id}/"
    assert api.patch(url, {"recipient": "x"}, format="json").status_code == 405
    assert api.put(url, {"recipient": "x"}, format="json").status_code == 405
    assert api.delete(url).status_code == 405
    consent.refresh_from_db()
    assert consent.recipient == "" and consent.revoked_at is None


@pytest.mark.django_db
def test_schema_describes_the_consent_availability_and_medication_endpoints(clinic, api):
    as_user(api, clinic.admin)
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in [
        "/api/v1/consents/",
        "/api/v1/consents/preview/",
        "/api/v1/consents/{public_id}/",
        "/api/v1/consents/{public_id}/revoke/",
        "/api/v1/availability-windows/",
        "/api/v1/availability-windows/{public_id}/",
        "/api/v1/medications/",
        "/api/v1/medications/{public_id}/",
        "/api/v1/medications/{public_id}/stop/",
    ]:
        assert path in schema["paths"], path
    assert "delete" not in schema["paths"]["/api/v1/medications/{public_id}/"]
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/consents/"]["get"]["parameters"]}
    assert parameters["patient"]["required"] and {"kind", "status", "page"} <= set(parameters)
