"""Consents: the text the patient reads, electronic signature, Part 2 terms, revocation, status,
and the consent pages (sign, detail, revoke, list, the Intake tab's card)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from iop.audit.context import current_ip_address
from iop.audit.models import AuditAction, AuditEntry
from patients.models import Consent, ConsentKind, ConsentStatus
from patients.selectors import consents as selectors
from patients.services import consents as services

TODAY = timezone.localdate  # the clinic's day (TIME_ZONE), not the machine's


def part2_terms(**overrides) -> dict:
    terms = {
        "recipient": "Dr Jane Roe, Lakeside Family Practice",
        "purpose": "Coordination of care",
        "information_description": "Attendance and drug-test results since admission",
        "expires_on": TODAY() + datetime.timedelta(days=180),
        "expiry_event": "",
    }
    terms.update(overrides)
    return terms


def sign(patient, actor, kind=ConsentKind.TREATMENT, **terms) -> Consent:
    """Record a consent through the service, the way the page does it."""
    text = services.consent_text(patient, kind, **terms)
    return services.record_consent(
        actor=actor,
        patient=patient,
        kind=kind,
        signed_by_name=f"{patient.legal_first_name} {patient.legal_last_name}",
        agreed=True,
        text_digest_shown=services.text_digest(text),
        **terms,
    )


def make_consent(patient, witness, **fields) -> Consent:
    """Set-up only: a consent row written directly (e.g. one that expired long ago)."""
    values = {
        "kind": ConsentKind.TREATMENT,
        "text_presented": "text",
        "signed_by_name": "Testy McTestface",
        "signed_at": timezone.now() - datetime.timedelta(days=400),
        "witnessed_by": witness,
    }
    values.update(fields)
    return Consent.objects.create(patient=patient, **values)


# --- The text ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_part2_text_names_every_element_of_42_cfr_2_31_and_the_redisclosure_notice(clinic):
    terms = part2_terms(expires_on=datetime.date(2031, 3, 5), expiry_event="my probation ends")
    text = services.consent_text(clinic.patient, ConsentKind.PART2_DISCLOSURE, **terms)
    assert "Testy McTestface" in text
    assert "IOP Clinic, Northside" in text
    assert "Dr Jane Roe, Lakeside Family Practice" in text
    assert "Coordination of care" in text
    assert "Attendance and drug-test results since admission" in text
    assert "on March 5, 2031 or when my probation ends, whichever comes first" in text
    assert "Right to revoke" in text and "acted in reliance" in text
    assert "42 CFR 2.32" in text and services.REDISCLOSURE_NOTICE in text


@pytest.mark.django_db
def test_treatment_text_is_fixed_and_names_the_patient_and_program(clinic):
    text = services.consent_text(clinic.patient, ConsentKind.TREATMENT)
    assert text.startswith("CONSENT TO TREATMENT")
    assert "Testy McTestface" in text and "IOP Clinic, Northside" in text
    assert "42 CFR Part 2" in text
    assert text == services.treatment_consent_text(clinic.patient)


# --- Signing ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signing_stores_the_text_shown_the_time_the_address_and_the_witness(clinic):
    token = current_ip_address.set("203.0.113.7")
    try:
        consent = sign(clinic.patient, clinic.clinician_on_team)
    finally:
        current_ip_address.reset(token)
    consent.refresh_from_db()
    assert consent.text_presented == services.treatment_consent_text(clinic.patient)
    assert consent.signed_by_name == "Testy McTestface"
    assert consent.signed_ip_address == "203.0.113.7"
    assert consent.witnessed_by == clinic.clinician_on_team
    assert abs(consent.signed_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert consent.status == ConsentStatus.ACTIVE
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(consent.public_id))
    assert entry.patient_public_id == clinic.patient.public_id and entry.actor == clinic.clinician_on_team


@pytest.mark.django_db
def test_the_typed_name_matches_ignoring_case_and_spacing(clinic):
    text = services.treatment_consent_text(clinic.patient)
    consent = services.record_consent(
        actor=clinic.case_manager,
        patient=clinic.patient,
        kind=ConsentKind.TREATMENT,
        signed_by_name="  testy    MCTESTFACE ",
        agreed=True,
        text_digest_shown=services.text_digest(text),
    )
    assert consent.signed_by_name == "testy MCTESTFACE"


@pytest.mark.django_db
def test_a_name_that_is_not_the_legal_name_is_refused_with_a_clear_error(clinic):
    text = services.treatment_consent_text(clinic.patient)
    with pytest.raises(ValidationError) as error:
        services.record_consent(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            kind=ConsentKind.TREATMENT,
            signed_by_name="Testy Mc",
            agreed=False,
            text_digest_shown=services.text_digest(text),
        )
    messages = error.value.message_dict
    assert "must match the patient's legal name (Testy McTestface)" in messages["signed_by_name"][0]
    assert "I have read and agree" in messages["agreed"][0]
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_nothing_is_signed_when_the_text_changed_after_it_was_shown(clinic):
    shown = services.treatment_consent_text(clinic.patient)
    clinic.patient.legal_last_name = "Renamed"
    clinic.patient.save()
    with pytest.raises(ValidationError, match="changed after it was shown"):
        services.record_consent(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            kind=ConsentKind.TREATMENT,
            signed_by_name="Testy Renamed",
            agreed=True,
            text_digest_shown=services.text_digest(shown),
        )
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_part2_consent_requires_recipient_purpose_description_and_an_end(clinic):
    with pytest.raises(ValidationError) as error:
        services.consent_text(clinic.patient, ConsentKind.PART2_DISCLOSURE)
    assert set(error.value.message_dict) == {
        "recipient",
        "purpose",
        "information_description",
        "expires_on",
        "expiry_event",
    }


@pytest.mark.parametrize("days", [0, -1])
@pytest.mark.django_db
def test_part2_expiry_date_must_be_in_the_future(clinic, days):
    with pytest.raises(ValidationError) as error:
        sign(
            clinic.patient,
            clinic.clinician_on_team,
            ConsentKind.PART2_DISCLOSURE,
            **part2_terms(expires_on=TODAY() + datetime.timedelta(days=days)),
        )
    assert error.value.message_dict == {"expires_on": ["The expiry date must be in the future."]}


@pytest.mark.django_db
def test_part2_consent_may_end_with_an_event_instead_of_a_date(clinic):
    consent = sign(
        clinic.patient,
        clinic.medical,
        ConsentKind.PART2_DISCLOSURE,
        **part2_terms(expires_on=None, expiry_event="my probation ends"),
    )
    assert consent.is_active and consent.expires_on is None
    assert "when my probation ends" in consent.text_presented


@pytest.mark.django_db
def test_treatment_consent_has_no_disclosure_terms(clinic):
    with pytest.raises(ValidationError) as error:
        sign(clinic.patient, clinic.clinician_on_team, ConsentKind.TREATMENT, recipient="Someone")
    assert "recipient" in error.value.message_dict


@pytest.mark.django_db
def test_a_second_active_treatment_consent_is_refused_until_the_first_is_revoked(clinic):
    first = sign(clinic.patient, clinic.clinician_on_team)
    with pytest.raises(ValidationError, match="already has an active consent to treatment"):
        sign(clinic.patient, clinic.clinician_on_team)
    services.revoke_consent(actor=clinic.clinician_on_team, consent=first, note="Asked in person.")
    second = sign(clinic.patient, clinic.clinician_on_team)
    assert second.is_active and Consent.objects.count() == 2


@pytest.mark.django_db
def test_several_part2_consents_may_be_active_at_once(clinic):
    sign(clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    sign(
        clinic.patient,
        clinic.clinician_on_team,
        ConsentKind.PART2_DISCLOSURE,
        **part2_terms(recipient="County Probation Department"),
    )
    assert selectors.active_consents(clinic.patient).count() == 2


@pytest.mark.parametrize("persona", ["peer_support"])
@pytest.mark.django_db
def test_peer_support_may_not_record_consents(clinic, persona):
    with pytest.raises(PermissionError):
        sign(clinic.patient, clinic.persona(persona))


@pytest.mark.parametrize("persona", ["clinician_on_team", "case_manager", "medical", "admin", "supervisor"])
@pytest.mark.django_db
def test_clinical_staff_and_admins_may_record_consents(clinic, persona):
    assert sign(clinic.patient, clinic.persona(persona)).witnessed_by == clinic.persona(persona)


# --- Revocation, expiry, status -----------------------------------------------------------------


@pytest.mark.django_db
def test_revoking_records_who_when_and_the_patients_request_and_is_audited(clinic):
    consent = sign(clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    services.revoke_consent(actor=clinic.case_manager, consent=consent, note=" Phoned on Monday. ")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED and not consent.is_active
    assert consent.revoked_by == clinic.case_manager and consent.revocation_note == "Phoned on Monday."
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_id=str(consent.public_id))
    assert entry.changed_fields == ["revocation_note", "revoked_at", "revoked_by"]
    assert Consent.objects.filter(pk=consent.pk).exists()  # kept, never deleted


@pytest.mark.django_db
def test_the_revocation_note_stays_on_the_consent_and_out_of_the_audit_trail(clinic):
    """The note may be clinical: the permanent audit trail gets field names, never the note."""
    note = "Relapsed on heroin, said in group he no longer wants his PO told anything"
    consent = sign(clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    services.revoke_consent(actor=clinic.medical, consent=consent, note=note)
    consent.refresh_from_db()
    assert consent.revocation_note == note
    for entry in AuditEntry.objects.all():
        assert entry.reason == "", entry.object_type
        assert all(name.isidentifier() for name in entry.changed_fields), entry.changed_fields
        assert "heroin" not in f"{entry.reason} {entry.changed_fields}"


@pytest.mark.django_db
def test_a_consent_is_revoked_once_and_needs_a_note(clinic):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    with pytest.raises(ValidationError) as error:
        services.revoke_consent(actor=clinic.clinician_on_team, consent=consent, note="  ")
    assert "note" in error.value.message_dict
    services.revoke_consent(actor=clinic.clinician_on_team, consent=consent, note="In writing.")
    stale_copy = Consent.objects.get(pk=consent.pk)
    stale_copy.revoked_at = None  # as loaded by a second person before the first revoked it
    with pytest.raises(ValidationError, match="already revoked"):
        services.revoke_consent(actor=clinic.medical, consent=stale_copy, note="Again.")


@pytest.mark.django_db
def test_an_expired_consent_cannot_be_revoked(clinic):
    expired = make_consent(
        clinic.patient,
        clinic.clinician_on_team,
        kind=ConsentKind.PART2_DISCLOSURE,
        **part2_terms(expires_on=TODAY() - datetime.timedelta(days=1)),
    )
    with pytest.raises(ValidationError, match="already expired"):
        services.revoke_consent(actor=clinic.clinician_on_team, consent=expired, note="Too late.")


@pytest.mark.django_db
def test_peer_support_may_not_revoke(clinic):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    with pytest.raises(PermissionError):
        services.revoke_consent(actor=clinic.peer_support, consent=consent, note="Asked.")


@pytest.mark.django_db
def test_a_consent_is_active_through_its_expiry_date_and_inactive_after(clinic):
    consent = sign(
        clinic.patient,
        clinic.clinician_on_team,
        ConsentKind.PART2_DISCLOSURE,
        **part2_terms(expires_on=TODAY() + datetime.timedelta(days=3)),
    )
    last_day = TODAY() + datetime.timedelta(days=3)
    assert consent.status_on(last_day) == ConsentStatus.ACTIVE
    assert list(selectors.active_consents(clinic.patient, on=last_day)) == [consent]
    day_after = last_day + datetime.timedelta(days=1)
    assert consent.status_on(day_after) == ConsentStatus.EXPIRED
    assert not selectors.active_consents(clinic.patient, on=day_after).exists()
    assert list(selectors.inactive_consents(clinic.patient, on=day_after)) == [consent]


@pytest.mark.django_db
def test_has_active_treatment_consent_for_admission(clinic):
    assert not selectors.has_active_treatment_consent(clinic.patient)
    sign(clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    assert not selectors.has_active_treatment_consent(clinic.patient)  # a Part 2 consent is not enough
    consent = sign(clinic.patient, clinic.clinician_on_team)
    assert selectors.has_active_treatment_consent(clinic.patient)
    services.revoke_consent(actor=clinic.clinician_on_team, consent=consent, note="Withdrew.")
    assert not selectors.has_active_treatment_consent(clinic.patient)
    make_consent(clinic.patient, clinic.clinician_on_team, expires_on=TODAY() - datetime.timedelta(days=1))
    assert not selectors.has_active_treatment_consent(clinic.patient)


# --- Pages ------------------------------------------------------------------------------------


def consent_url(clinic, kind: str) -> str:
    return reverse("patients:consent_create", args=[clinic.patient.public_id, kind])


@pytest.mark.django_db
def test_treatment_consent_page_shows_the_text_and_signs_it(clinic, client):
    client.force_login(clinic.clinician_on_team)
    url = consent_url(clinic, "treatment")
    page = client.get(url)
    assert page.status_code == 200
    shown = page.context["consent_text"]
    assert "CONSENT TO TREATMENT" in page.content.decode()
    response = client.post(
        url,
        {"signed_by_name": "testy mctestface", "agreed": "on", "text_digest": page.context["text_digest"]},
    )
    consent = Consent.objects.get()
    assert response.status_code == 302
    assert response.url == reverse(
        "patients:consent_detail", args=[clinic.patient.public_id, consent.public_id]
    )
    assert consent.text_presented == shown
    assert consent.signed_ip_address == "127.0.0.1" and consent.witnessed_by == clinic.clinician_on_team


@pytest.mark.django_db
def test_treatment_consent_page_explains_a_wrong_name_and_a_missing_tick(clinic, client):
    client.force_login(clinic.clinician_on_team)
    url = consent_url(clinic, "treatment")
    digest = client.get(url).context["text_digest"]
    response = client.post(url, {"signed_by_name": "Someone Else", "text_digest": digest})
    assert response.status_code == 200
    assert "I have read and agree" in str(response.context["signature_form"].errors["agreed"])
    response = client.post(url, {"signed_by_name": "Someone Else", "agreed": "on", "text_digest": digest})
    assert "must match the patient" in str(response.context["signature_form"].errors["signed_by_name"])
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_treatment_consent_page_says_when_one_is_already_active(clinic, client):
    sign(clinic.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    page = client.get(consent_url(clinic, "treatment"))
    assert page.status_code == 200 and page.context["existing_consent"] is not None
    assert 'data-testid="consent-exists"' in page.content.decode()


@pytest.mark.django_db
def test_part2_consent_in_two_steps_terms_then_the_text_and_signature(clinic, client):
    client.force_login(clinic.case_manager)
    url = consent_url(clinic, "part2_disclosure")
    assert client.get(url).status_code == 200
    expires = (TODAY() + datetime.timedelta(days=90)).isoformat()
    terms = {
        "recipient": "County Probation Department",
        "purpose": "Report attendance to my probation officer",
        "information_description": "Attendance and test results",
        "expires_on": expires,
        "expiry_event": "",
    }
    review = client.post(url, {**terms, "step": "review"})
    assert review.status_code == 200
    text = review.context["consent_text"]
    assert "County Probation Department" in text and services.REDISCLOSURE_NOTICE in text
    html = review.content.decode()
    assert 'type="hidden" name="recipient" value="County Probation Department"' in html
    signed = client.post(
        url,
        {
            **terms,
            "step": "sign",
            "signed_by_name": "Testy McTestface",
            "agreed": "on",
            "text_digest": review.context["text_digest"],
        },
    )
    assert signed.status_code == 302, signed.context and signed.context.get("signature_form").errors
    consent = Consent.objects.get()
    assert consent.kind == ConsentKind.PART2_DISCLOSURE and consent.text_presented == text
    assert consent.recipient == "County Probation Department" and consent.expires_on.isoformat() == expires


@pytest.mark.django_db
def test_part2_terms_step_names_each_missing_field(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        consent_url(clinic, "part2_disclosure"), {"step": "review", "expires_on": "2001-01-01"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"recipient", "purpose", "information_description", "expires_on"} <= set(errors)
    assert "must be in the future" in str(errors["expires_on"])


@pytest.mark.django_db
def test_part2_terms_changed_after_review_are_not_signed(clinic, client):
    client.force_login(clinic.clinician_on_team)
    url = consent_url(clinic, "part2_disclosure")
    terms = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in part2_terms().items()}
    review = client.post(url, {**terms, "step": "review"})
    tampered = {**terms, "recipient": "Someone the patient never saw"}
    response = client.post(
        url,
        {
            **tampered,
            "step": "sign",
            "signed_by_name": "Testy McTestface",
            "agreed": "on",
            "text_digest": review.context["text_digest"],
        },
    )
    assert response.status_code == 200
    assert "changed after it was shown" in str(response.context["signature_form"].non_field_errors())
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_part2_change_the_terms_goes_back_to_step_one_with_the_values(clinic, client):
    client.force_login(clinic.clinician_on_team)
    terms = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in part2_terms().items()}
    response = client.post(consent_url(clinic, "part2_disclosure"), {**terms, "step": "edit"})
    assert response.status_code == 200 and "consent_text" not in response.context
    assert response.context["form"]["recipient"].value() == terms["recipient"]


@pytest.mark.django_db
def test_unknown_consent_kind_is_404(clinic, client):
    client.force_login(clinic.clinician_on_team)
    assert client.get(consent_url(clinic, "marriage")).status_code == 404


@pytest.mark.django_db
def test_detail_page_shows_the_text_as_signed_signer_witness_and_status(clinic, client):
    consent = sign(clinic.patient, clinic.medical, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    client.force_login(clinic.case_manager)  # not the witness
    response = client.get(
        reverse("patients:consent_detail", args=[clinic.patient.public_id, consent.public_id])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dr Jane Roe, Lakeside Family Practice" in html and "Testy McTestface" in html
    assert clinic.medical.get_full_name() in html and ">Active<" in html
    assert AuditEntry.objects.filter(action=AuditAction.READ, object_type="patients.chart.consents").exists()
    # Peer support neither revokes nor reads consent contents (ADR 0008): refused, nothing shown.
    client.force_login(clinic.peer_support)
    refused = client.get(
        reverse("patients:consent_detail", args=[clinic.patient.public_id, consent.public_id])
    )
    assert refused.status_code == 403 and b"Lakeside Family Practice" not in refused.content


@pytest.mark.django_db
def test_revoke_page_confirms_then_revokes_and_the_consent_shows_inactive(clinic, client):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:consent_revoke", args=[clinic.patient.public_id, consent.public_id])
    page = client.get(url)
    assert page.status_code == 200 and "data-confirm=" in page.content.decode()
    missing = client.post(url, {"note": ""})
    assert missing.status_code == 200 and "note" in missing.context["form"].errors
    done = client.post(url, {"note": "Asked at the front desk."})
    assert done.status_code == 302
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED
    detail = client.get(done.url).content.decode()
    assert ">Revoked<" in detail and "inactive" in detail and "Asked at the front desk." in detail
    again = client.get(url)  # a revoked consent has nothing left to revoke
    assert again.status_code == 302 and again.url == done.url


@pytest.mark.django_db
def test_consent_of_another_patient_is_404(clinic, client):
    from patients.tests.factories import PatientFactory

    other = PatientFactory(site=clinic.site_a)  # in the intake pool: the clinician sees them
    consent = sign(other, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:consent_detail", args=[clinic.patient.public_id, consent.public_id])
    assert client.get(url).status_code == 404
    revoke = reverse("patients:consent_revoke", args=[clinic.patient.public_id, consent.public_id])
    assert client.post(revoke, {"note": "x"}).status_code == 404


@pytest.mark.django_db
def test_intake_tab_lists_active_consents_and_collapses_inactive_ones(clinic, client):
    active = sign(clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    revoked = sign(
        clinic.patient,
        clinic.clinician_on_team,
        ConsentKind.PART2_DISCLOSURE,
        **part2_terms(recipient="Former Employer Inc"),
    )
    services.revoke_consent(actor=clinic.clinician_on_team, consent=revoked, note="Changed mind.")
    make_consent(
        clinic.patient,
        clinic.clinician_on_team,
        kind=ConsentKind.PART2_DISCLOSURE,
        **part2_terms(recipient="Old Insurer", expires_on=TODAY() - datetime.timedelta(days=30)),
    )
    client.force_login(clinic.clinician_on_team)
    response = client.get(reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"]))
    html = response.content.decode()
    assert response.context["consents_active"] == [active]
    assert {c.recipient for c in response.context["consents_inactive"]} == {
        "Former Employer Inc",
        "Old Insurer",
    }
    active_part, inactive_part = html.split('data-testid="consents-inactive"')
    assert "Lakeside Family Practice" in active_part and "Former Employer Inc" not in active_part
    assert (
        "Former Employer Inc" in inactive_part
        and ">Revoked<" in inactive_part
        and ">Expired<" in inactive_part
    )
    assert 'data-testid="treatment-consent-missing"' in html


@pytest.mark.django_db
def test_consent_list_page_query_count_does_not_grow(clinic, client, query_count):
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:consent_list", args=[clinic.patient.public_id])
    for _ in range(2):
        make_consent(clinic.patient, clinic.clinician_on_team)
    client.get(url)  # warm up: the first audit entry after a flush creates the chain head
    few = query_count(lambda: client.get(url))
    for witness in [clinic.case_manager, clinic.medical, clinic.admin] * 10:
        make_consent(clinic.patient, witness, revoked_at=timezone.now(), revoked_by=clinic.admin)
    assert query_count(lambda: client.get(url)) == few
    assert client.get(url).context["page"].paginator.count == 32


@pytest.mark.django_db
def test_intake_tab_query_count_does_not_grow_with_consents_windows_and_medications(
    clinic, client, query_count
):
    from patients.models import AvailabilityWindow, Medication

    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"])
    client.get(url)  # warm up: the first audit entry after a flush creates the chain head
    baseline = query_count(lambda: client.get(url))
    for day in range(1, 8):
        AvailabilityWindow.objects.create(
            patient=clinic.patient, kind="work", weekday=day, starts_at="09:00", ends_at="17:00"
        )
    for n in range(15):
        make_consent(clinic.patient, clinic.medical, revoked_at=timezone.now(), revoked_by=clinic.admin)
        Medication.objects.create(patient=clinic.patient, name=f"Med {n}", medication_class="other")
        Medication.objects.create(
            patient=clinic.patient,
            name=f"Old {n}",
            medication_class="other",
            stopped_on=TODAY() - datetime.timedelta(days=n + 1),
        )
    sign(clinic.patient, clinic.clinician_on_team)
    assert query_count(lambda: client.get(url)) == baseline
    response = client.get(url)
    assert len(response.context["consents_inactive"]) == 10 and response.context["consents_inactive_more"]


@pytest.mark.django_db
def test_a_consent_that_expires_while_active_turns_inactive_on_the_chart(clinic, client):
    sign(
        clinic.patient,
        clinic.clinician_on_team,
        ConsentKind.PART2_DISCLOSURE,
        **part2_terms(expires_on=TODAY() + datetime.timedelta(days=2)),
    )
    url = reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=4)):
        client.force_login(clinic.clinician_on_team)
        response = client.get(url)
        assert response.context["consents_active"] == []
        assert [c.status for c in response.context["consents_inactive"]] == [ConsentStatus.EXPIRED]
    assert ">Expired<" in response.content.decode().split('data-testid="consents-inactive"')[1]


@pytest.mark.django_db
def test_a_multi_line_description_signs_whichever_newlines_the_browser_sends(clinic, client):
    client.force_login(clinic.clinician_on_team)
    url = consent_url(clinic, "part2_disclosure")
    terms = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in part2_terms().items()}
    terms["information_description"] = "Attendance\r\nDrug-test results"
    review = client.post(url, {**terms, "step": "review"})
    signed = client.post(
        url,
        {
            **terms,
            "information_description": "Attendance\nDrug-test results",
            "step": "sign",
            "signed_by_name": "Testy McTestface",
            "agreed": "on",
            "text_digest": review.context["text_digest"],
        },
    )
    assert signed.status_code == 302
    assert Consent.objects.get().information_description == "Attendance\nDrug-test results"
