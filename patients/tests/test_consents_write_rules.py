"""Who may write consents, availability windows and medications beyond their role, and where a
write goes next.

- Seeing a patient is not enough to change their record: an admin or supervisor of another site
  who sees the patient only through an old episode there, and a clinician who sees them only
  through break-the-glass, are refused (403 in the API, a message on the page), nothing saved.
- After a successful write during an open intake the page goes back to the intake checklist;
  without one, to the list (or the consent) as before.
- An API list is one audited chart read (through `record_chart_view`) whatever the rows.
"""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from iop.accounts.models import Role
from iop.accounts.tests.factories import UserFactory, api_token_for
from iop.audit.models import AuditAction, AuditEntry
from patients.access import can_see_patient
from patients.models import (
    AvailabilityWindow,
    BreakGlassGrant,
    Consent,
    ConsentKind,
    Episode,
    EpisodeStatus,
    Medication,
)
from patients.services import consents as consent_services
from patients.services import medications as medication_services
from patients.services import schedule_constraints as availability_services
from patients.services.intake import record_referral
from patients.tests.factories import PatientFactory, default_program
from patients.tests.test_consents import part2_terms, sign

REFUSED_PERSONAS = ["admin_old_episode", "supervisor_old_episode", "clinician_break_glass"]


def old_episode_at_site_b(clinic) -> Episode:
    """A discharged episode at site B: site B's admins and supervisors see the patient through it."""
    program = default_program()
    return Episode.objects.create(
        patient=clinic.patient,
        program=program,
        site=clinic.site_b,
        status=EpisodeStatus.DISCHARGED,
        admitted_on=datetime.date(2023, 1, 9),
        discharged_on=datetime.date(2023, 3, 1),
        discharge_reason="1",
        current_phase=program.phases.order_by("order").first(),
        phase_started_on=datetime.date(2023, 1, 9),
    )


def break_glass_grant(clinic, user) -> BreakGlassGrant:
    return BreakGlassGrant.objects.create(
        user=user,
        patient=clinic.patient,
        site=clinic.patient.site,
        reason="Patient in crisis at the front desk, primary clinician away",
        expires_at=timezone.now() + datetime.timedelta(minutes=30),
    )


def persona(clinic, name: str):
    """The refused personas; each sees the patient (their chart opens) but may not change it."""
    if name == "admin_old_episode":
        old_episode_at_site_b(clinic)
        user = clinic.admin_other_site
    elif name == "supervisor_old_episode":
        old_episode_at_site_b(clinic)
        user = UserFactory(
            username="sven", role=Role.CLINICIAN, sites=[clinic.site_b], is_clinical_supervisor=True
        )
    else:
        user = clinic.clinician_elsewhere
        break_glass_grant(clinic, user)
    assert can_see_patient(user, clinic.patient)
    return user


@pytest.fixture
def records(clinic):
    consent = sign(clinic.patient, clinic.clinician_on_team)
    window = availability_services.add_availability_window(
        actor=clinic.case_manager,
        patient=clinic.patient,
        kind="work",
        weekday=1,
        starts_at=datetime.time(9),
        ends_at=datetime.time(17),
    )
    medication = medication_services.add_medication(
        actor=clinic.medical, patient=clinic.patient, name="Suboxone", medication_class="buprenorphine"
    )
    return consent, window, medication


def nothing_changed(clinic, records, user) -> None:
    consent, window, medication = records
    consent.refresh_from_db()
    window.refresh_from_db()
    medication.refresh_from_db()
    assert consent.revoked_at is None and consent.revocation_note == ""
    assert Consent.objects.filter(patient=clinic.patient).count() == 1
    assert AvailabilityWindow.objects.filter(patient=clinic.patient).count() == 1 and window.note == ""
    assert Medication.objects.filter(patient=clinic.patient).count() == 1
    assert medication.stopped_on is None and medication.dose == ""
    assert not AuditEntry.objects.exclude(action=AuditAction.READ).filter(actor=user).exists()


# --- Services ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFUSED_PERSONAS)
@pytest.mark.django_db
def test_every_write_service_refuses_another_site_and_break_the_glass(clinic, records, name):
    consent, window, medication = records
    user = persona(clinic, name)
    text = consent_services.consent_text(clinic.patient, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    writes = {
        "record consent": lambda: consent_services.record_consent(
            actor=user,
            patient=clinic.patient,
            kind=ConsentKind.PART2_DISCLOSURE,
            signed_by_name="Testy McTestface",
            agreed=True,
            text_digest_shown=consent_services.text_digest(text),
            **part2_terms(),
        ),
        "revoke consent": lambda: consent_services.revoke_consent(actor=user, consent=consent, note="Asked."),
        "add window": lambda: availability_services.add_availability_window(
            actor=user,
            patient=clinic.patient,
            kind="school",
            weekday=2,
            starts_at=datetime.time(9),
            ends_at=datetime.time(10),
        ),
        "change window": lambda: availability_services.update_availability_window(
            actor=user, window=window, expected_version=window.version, changes={"note": "x"}
        ),
        "remove window": lambda: availability_services.remove_availability_window(actor=user, window=window),
        "add medication": lambda: medication_services.add_medication(
            actor=user, patient=clinic.patient, name="X", medication_class="other"
        ),
        "correct medication": lambda: medication_services.update_medication(
            actor=user, medication=medication, expected_version=medication.version, changes={"dose": "8 mg"}
        ),
        "stop medication": lambda: medication_services.stop_medication(actor=user, medication=medication),
    }
    failures = []
    for what, write in writes.items():
        try:
            write()
        except PermissionError:
            continue
        failures.append(what)
    assert not failures, failures
    nothing_changed(clinic, records, user)


@pytest.mark.django_db
def test_the_refusal_says_why(clinic, records):
    consent, _window, _medication = records
    user = persona(clinic, "admin_old_episode")
    with pytest.raises(PermissionError, match="site that holds their record, not emergency access"):
        consent_services.revoke_consent(actor=user, consent=consent, note="Asked.")


# --- API --------------------------------------------------------------------------------------


def api_as(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


@pytest.mark.parametrize("name", REFUSED_PERSONAS)
@pytest.mark.django_db
def test_api_writes_are_403_and_save_nothing(clinic, records, name):
    consent, window, medication = records
    user = persona(clinic, name)
    api = api_as(user)
    patient = str(clinic.patient.public_id)
    terms = part2_terms()
    part2 = {
        "patient": patient,
        "kind": ConsentKind.PART2_DISCLOSURE,
        **terms,
        "expires_on": terms["expires_on"].isoformat(),
    }
    digest = consent_services.text_digest(
        consent_services.consent_text(clinic.patient, ConsentKind.PART2_DISCLOSURE, **terms)
    )
    # The chart opens for them: the refusal is about writing, not reach.
    assert api.get("/api/v1/consents/", {"patient": patient}).status_code == 200
    responses = {
        "consent preview": api.post("/api/v1/consents/preview/", part2, format="json"),
        "consent sign": api.post(
            "/api/v1/consents/",
            {**part2, "signed_by_name": "Testy McTestface", "agreed": True, "text_digest": digest},
            format="json",
        ),
        "consent revoke": api.post(
            f"/api/v1/consents/{consent.public_id}/revoke/", {"note": "Asked."}, format="json"
        ),
        "window create": api.post(
            "/api/v1/availability-windows/",
            {"patient": patient, "kind": "school", "weekday": 2, "starts_at": "09:00", "ends_at": "10:00"},
            format="json",
        ),
        "window update": api.patch(
            f"/api/v1/availability-windows/{window.public_id}/",
            {"note": "x", "version": window.version},
            format="json",
        ),
        "window delete": api.delete(f"/api/v1/availability-windows/{window.public_id}/"),
        "medication create": api.post(
            "/api/v1/medications/",
            {"patient": patient, "name": "X", "medication_class": "other"},
            format="json",
        ),
        "medication update": api.patch(
            f"/api/v1/medications/{medication.public_id}/",
            {"dose": "8 mg", "version": medication.version},
            format="json",
        ),
        "medication stop": api.post(f"/api/v1/medications/{medication.public_id}/stop/", {}, format="json"),
    }
    failures = [
        f"{what}: {response.status_code} {response.content[:120]!r}"
        for what, response in responses.items()
        if response.status_code != 403 or "detail" not in response.json()
    ]
    assert not failures, failures
    nothing_changed(clinic, records, user)


@pytest.mark.django_db
def test_api_revoke_by_the_site_b_admin_was_the_reported_hole(clinic, records):
    """The review's case: 200 before the fix."""
    consent, _window, _medication = records
    response = api_as(persona(clinic, "admin_old_episode")).post(
        f"/api/v1/consents/{consent.public_id}/revoke/", {"note": "Asked."}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    consent.refresh_from_db()
    assert consent.is_active


# --- Pages ------------------------------------------------------------------------------------


def url(clinic, name, *args):
    return reverse(f"patients:{name}", args=[clinic.patient.public_id, *args])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def write_pages(clinic, records):
    """(what, url, POST body, where a refusal sends them)."""
    consent, window, medication = records
    consents, windows, medications = (
        url(clinic, "consent_list"),
        url(clinic, "availability_list"),
        url(clinic, "medication_list"),
    )
    digest = consent_services.text_digest(consent_services.treatment_consent_text(clinic.patient))
    return [
        (
            "sign treatment consent",
            url(clinic, "consent_create", "treatment"),
            {"signed_by_name": "Testy McTestface", "agreed": "on", "text_digest": digest},
            consents,
        ),
        (
            "sign part 2 consent",
            url(clinic, "consent_create", "part2_disclosure"),
            {"step": "review", **part2_terms(expires_on=part2_terms()["expires_on"].isoformat())},
            consents,
        ),
        (
            "revoke consent",
            url(clinic, "consent_revoke", consent.public_id),
            {"note": "Asked."},
            url(clinic, "consent_detail", consent.public_id),
        ),
        (
            "add window",
            url(clinic, "availability_create"),
            {"kind": "school", "weekday": "2", "starts_at": "09:00", "ends_at": "10:00"},
            windows,
        ),
        (
            "change window",
            url(clinic, "availability_edit", window.public_id),
            {
                "kind": "work",
                "weekday": "1",
                "starts_at": "09:00",
                "ends_at": "17:00",
                "note": "x",
                "version": window.version,
            },
            windows,
        ),
        ("remove window", url(clinic, "availability_delete", window.public_id), {}, windows),
        (
            "add medication",
            url(clinic, "medication_create"),
            {"name": "X", "medication_class": "other"},
            medications,
        ),
        (
            "correct medication",
            url(clinic, "medication_edit", medication.public_id),
            {
                "name": "Suboxone",
                "medication_class": "buprenorphine",
                "dose": "8 mg",
                "version": medication.version,
            },
            medications,
        ),
        (
            "stop medication",
            url(clinic, "medication_stop", medication.public_id),
            {"stopped_on": timezone.localdate().isoformat()},
            medications,
        ),
    ]


# Which write pages each refused persona's role reaches at all (others are a 404, as before).
ROLE_PAGES = {
    "admin_old_episode": {"sign treatment consent", "sign part 2 consent", "revoke consent"},
    "supervisor_old_episode": None,  # a clinician: every write page
    "clinician_break_glass": None,
}


@pytest.mark.parametrize("name", REFUSED_PERSONAS)
@pytest.mark.django_db
def test_page_writes_are_refused_with_a_message_and_save_nothing(clinic, records, client, name):
    user = persona(clinic, name)
    client.force_login(user)
    assert client.get(url(clinic, "consent_list")).status_code == 200  # they see the chart
    failures = []
    for what, page, body, back in write_pages(clinic, records):
        for method in ("get", "post") if what != "remove window" else ("post",):
            response = getattr(client, method)(page, body if method == "post" else None)
            role_reaches = ROLE_PAGES[name] is None or what in ROLE_PAGES[name]
            if not role_reaches:
                if response.status_code != 404:
                    failures.append(f"{what} {method}: {response.status_code}, expected 404 (role)")
                continue
            if response.status_code != 302 or response.url != back:
                failures.append(f"{what} {method}: {response.status_code} to {getattr(response, 'url', '')}")
            elif not any("You may not" in message for message in messages_of(response)):
                failures.append(f"{what} {method}: no message says why")
    assert not failures, failures
    nothing_changed(clinic, records, user)


@pytest.mark.parametrize("name", REFUSED_PERSONAS)
@pytest.mark.django_db
def test_pages_offer_no_write_buttons_to_refused_personas(clinic, records, client, name):
    consent, _window, _medication = records
    client.force_login(persona(clinic, name))
    consent_list = client.get(url(clinic, "consent_list"))
    assert consent_list.status_code == 200 and not consent_list.context["may_record"]
    assert not client.get(url(clinic, "consent_detail", consent.public_id)).context["may_record"]
    assert not client.get(url(clinic, "availability_list")).context["may_edit"]
    assert not client.get(url(clinic, "medication_list")).context["may_edit"]


@pytest.mark.django_db
def test_the_care_team_still_sees_the_write_buttons(clinic, records, client):
    client.force_login(clinic.clinician_on_team)
    assert client.get(url(clinic, "consent_list")).context["may_record"]
    assert client.get(url(clinic, "availability_list")).context["may_edit"]
    assert client.get(url(clinic, "medication_list")).context["may_edit"]


# --- One-sitting intake: back to the checklist --------------------------------------------------


@pytest.fixture
def intake_patient(clinic):
    """A new person with an open referral at site A (in the intake pool of its clinicians)."""
    referral = record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Rae",
            "legal_last_name": "Referral",
            "date_of_birth": datetime.date(1988, 2, 14),
        },
        intake_clinician=clinic.clinician_on_team,
        source="court",
        source_detail="County drug court",
        reason="Alcohol use, court-ordered assessment",
        urgency="urgent",
    )
    return referral.patient


def successful_writes(patient, actor):
    """(what, url, POST body, where it goes without an open intake) for each write page."""
    consent = sign(patient, actor, ConsentKind.PART2_DISCLOSURE, **part2_terms())
    window = availability_services.add_availability_window(
        actor=actor,
        patient=patient,
        kind="work",
        weekday=1,
        starts_at=datetime.time(9),
        ends_at=datetime.time(12),
    )
    medication = medication_services.add_medication(
        actor=actor, patient=patient, name="Suboxone", medication_class="buprenorphine"
    )

    def page(name, *args):
        return reverse(f"patients:{name}", args=[patient.public_id, *args])

    windows, medications = page("availability_list"), page("medication_list")
    return [
        (
            "revoke consent",
            page("consent_revoke", consent.public_id),
            {"note": "By phone."},
            page("consent_detail", consent.public_id),
        ),
        (
            "add window",
            page("availability_create"),
            {"kind": "school", "weekday": "2", "starts_at": "09:00", "ends_at": "10:00"},
            windows,
        ),
        (
            "change window",
            page("availability_edit", window.public_id),
            {
                "kind": "work",
                "weekday": "1",
                "starts_at": "08:00",
                "ends_at": "12:00",
                "version": window.version,
            },
            windows,
        ),
        ("remove window", page("availability_delete", window.public_id), {}, windows),
        (
            "add medication",
            page("medication_create"),
            {"name": "Naltrexone", "medication_class": "other"},
            medications,
        ),
        (
            "correct medication",
            page("medication_edit", medication.public_id),
            {
                "name": "Suboxone",
                "medication_class": "buprenorphine",
                "dose": "16 mg",
                "version": medication.version,
            },
            medications,
        ),
        (
            "stop medication",
            page("medication_stop", medication.public_id),
            {"stopped_on": timezone.localdate().isoformat()},
            medications,
        ),
    ]


def check_redirects(client, writes, expected) -> list[str]:
    failures = []
    for what, page, body, default in writes:
        response = client.post(page, body)
        target = expected or default
        if response.status_code != 302 or response.url != target:
            failures.append(
                f"{what}: {response.status_code} to {getattr(response, 'url', '')}, expected {target}"
            )
    return failures


@pytest.mark.django_db
def test_during_an_open_intake_every_write_returns_to_the_intake_checklist(clinic, client, intake_patient):
    writes = successful_writes(intake_patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    intake_tab = reverse("patients:chart_tab", args=[intake_patient.public_id, "intake"])
    assert not check_redirects(client, writes, intake_tab)
    # Each write happened.
    assert not Consent.objects.get(patient=intake_patient).is_active
    assert not AvailabilityWindow.objects.filter(patient=intake_patient, weekday=1).exists()
    assert Medication.objects.get(patient=intake_patient, name="Suboxone").stopped_on is not None
    assert Medication.objects.filter(patient=intake_patient, name="Naltrexone").exists()


@pytest.mark.django_db
def test_without_an_open_intake_every_write_returns_to_its_own_page(clinic, client):
    writes = successful_writes(clinic.patient, clinic.clinician_on_team)
    client.force_login(clinic.clinician_on_team)
    assert not check_redirects(client, writes, None)


# --- API lists: one audited chart read, constant queries ----------------------------------------

LISTS = ["/api/v1/consents/", "/api/v1/availability-windows/", "/api/v1/medications/"]


def add_rows(clinic, n: int) -> None:
    for _ in range(n):
        consent = sign(
            clinic.patient, clinic.clinician_on_team, ConsentKind.PART2_DISCLOSURE, **part2_terms()
        )
        consent_services.revoke_consent(actor=clinic.case_manager, consent=consent, note="Asked.")
        medication_services.add_medication(
            actor=clinic.medical, patient=clinic.patient, name=f"M{consent.pk}", medication_class="other"
        )
        held = AvailabilityWindow.objects.filter(patient=clinic.patient).count()
        hour = 6 + held // 7  # a free hour on the next weekday in turn: windows never overlap
        availability_services.add_availability_window(
            actor=clinic.case_manager,
            patient=clinic.patient,
            kind="work",
            weekday=held % 7 + 1,
            starts_at=datetime.time(hour),
            ends_at=datetime.time(hour, 30),
        )


@pytest.mark.parametrize("list_url", LISTS)
@pytest.mark.parametrize("reader", ["case_manager", "clinician_break_glass"])
@pytest.mark.django_db
def test_api_list_is_one_chart_read_through_record_chart_view_with_constant_queries(
    clinic, list_url, reader, query_count
):
    if reader == "clinician_break_glass":
        user = clinic.clinician_elsewhere
        grant = break_glass_grant(clinic, user)
        reason = f"break-the-glass grant {grant.public_id}"
    else:
        user, reason = clinic.case_manager, ""
    api = api_as(user)
    query = {"patient": str(clinic.patient.public_id)}
    add_rows(clinic, 1)
    reads = AuditEntry.objects.filter(action=AuditAction.READ)
    before = reads.count()
    response = api.get(list_url, query)
    assert response.status_code == 200 and response.json()["count"] >= 1
    entry = reads.order_by("-sequence").first()
    assert reads.count() == before + 1
    assert entry.object_type == "patients.chart.api" and entry.patient_public_id == clinic.patient.public_id
    assert entry.actor == user and entry.reason == reason  # as `record_chart_view` writes it
    few = query_count(lambda: api.get(list_url, query))
    add_rows(clinic, 7)
    assert api.get(list_url, query).json()["count"] > 1
    assert query_count(lambda: api.get(list_url, query)) == few


@pytest.mark.django_db
def test_a_patient_outside_reach_is_404_and_not_audited(clinic):
    other = PatientFactory(site=clinic.site_b)
    api = api_as(clinic.case_manager)
    before = AuditEntry.objects.count()
    for list_url in LISTS:
        assert api.get(list_url, {"patient": str(other.public_id)}).status_code == 404
    assert AuditEntry.objects.count() == before
