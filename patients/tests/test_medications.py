"""Prescribed medications: kept by medical staff and clinicians, stopped not deleted, and read by
the drug-test area to mark expected results."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from iop.accounts.tests.factories import api_token_for
from iop.audit.models import AuditAction, AuditEntry
from iop.core.concurrency import StaleEdit
from patients.models import Medication, MedicationClass
from patients.selectors import consents as selectors
from patients.services import medications as services
from patients.tests.factories import PatientFactory

D = datetime.date
URL = "/api/v1/medications/"


def today() -> datetime.date:
    return timezone.localdate()


def add(
    clinic, name="Suboxone", medication_class=MedicationClass.BUPRENORPHINE, actor=None, patient=None, **extra
):
    return services.add_medication(
        actor=actor or clinic.medical,
        patient=patient or clinic.patient,
        name=name,
        medication_class=medication_class,
        **extra,
    )


# --- Services and selectors -------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_medication_is_audited(clinic):
    medication = add(clinic, dose=" 16 mg daily ", prescriber="Dr Roe", started_on=D(2026, 1, 5))
    assert medication.dose == "16 mg daily"
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(medication.public_id))
    assert entry.patient_public_id == clinic.patient.public_id
    assert set(entry.changed_fields) == {"name", "medication_class", "dose", "prescriber", "started_on"}


@pytest.mark.django_db
def test_bad_input_names_each_field(clinic):
    with pytest.raises(ValidationError) as error:
        add(clinic, name=" ", medication_class="candy", started_on=D(2026, 3, 1), stopped_on=D(2026, 2, 1))
    assert set(error.value.message_dict) == {"name", "medication_class", "stopped_on"}


@pytest.mark.django_db
def test_stopping_keeps_the_medication_as_a_past_one(clinic):
    medication = add(clinic, started_on=today() - datetime.timedelta(days=30))
    services.stop_medication(actor=clinic.clinician_on_team, medication=medication)
    medication.refresh_from_db()
    assert medication.stopped_on == today()
    with pytest.raises(ValidationError, match="already stopped"):
        services.stop_medication(actor=clinic.medical, medication=medication)
    assert Medication.objects.filter(pk=medication.pk).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE).first()
    assert entry.changed_fields == ["stopped_on"]


@pytest.mark.django_db
def test_a_medication_cannot_stop_before_it_started(clinic):
    medication = add(clinic, started_on=today())
    with pytest.raises(ValidationError) as error:
        services.stop_medication(
            actor=clinic.medical, medication=medication, stopped_on=today() - datetime.timedelta(days=1)
        )
    assert "stopped_on" in error.value.message_dict


@pytest.mark.django_db
def test_a_stale_correction_is_refused(clinic):
    medication = add(clinic)
    loaded = medication.version
    services.update_medication(
        actor=clinic.medical, medication=medication, expected_version=loaded, changes={"dose": "8 mg"}
    )
    stale = Medication.objects.get(pk=medication.pk)
    with pytest.raises(StaleEdit):
        services.update_medication(
            actor=clinic.clinician_on_team,
            medication=stale,
            expected_version=loaded,
            changes={"dose": "24 mg"},
        )
    assert Medication.objects.get(pk=medication.pk).dose == "8 mg"


@pytest.mark.django_db
def test_an_edit_started_before_a_stop_is_refused_and_the_stop_kept(clinic):
    medication = add(clinic)
    loaded = medication.version
    services.stop_medication(actor=clinic.medical, medication=Medication.objects.get(pk=medication.pk))
    with pytest.raises(StaleEdit):
        services.update_medication(
            actor=clinic.clinician_on_team,
            medication=medication,
            expected_version=loaded,
            changes={"dose": "24 mg", "stopped_on": None},
        )
    assert Medication.objects.get(pk=medication.pk).stopped_on == today()


@pytest.mark.parametrize("persona", ["case_manager", "peer_support", "admin"])
@pytest.mark.django_db
def test_only_medical_staff_and_clinicians_keep_the_list(clinic, persona):
    with pytest.raises(PermissionError):
        add(clinic, actor=clinic.persona(persona))


@pytest.mark.django_db
def test_active_medications_on_a_day_for_expected_test_results(clinic):
    day = D(2026, 6, 15)
    current = add(clinic, "Suboxone", started_on=D(2026, 6, 1))
    undated = add(clinic, "Adderall", MedicationClass.STIMULANT)
    add(clinic, "Future", MedicationClass.OTHER, started_on=D(2026, 6, 16))
    stopped_that_day = add(clinic, "Oxycodone", MedicationClass.OPIOID_ANALGESIC, stopped_on=day)
    stopped_earlier = add(clinic, "Xanax", MedicationClass.BENZODIAZEPINE, stopped_on=D(2026, 6, 12))
    assert set(selectors.active_medications(clinic.patient, on=day)) == {current, undated, stopped_that_day}
    with_detection_window = selectors.active_medications(clinic.patient, on=day, lookback_days=3)
    assert stopped_earlier in set(with_detection_window)
    other = PatientFactory(site=clinic.site_a)
    add(clinic, "Methadone", MedicationClass.METHADONE, patient=other)
    classes = selectors.active_medication_classes([clinic.patient.pk, other.pk], on=day)
    assert classes == {
        clinic.patient.pk: {"buprenorphine", "stimulant", "opioid_analgesic"},
        other.pk: {"methadone"},
    }


@pytest.mark.django_db
def test_current_and_past_medications(clinic):
    current = add(clinic, "Suboxone")
    upcoming = add(
        clinic, "Naltrexone", MedicationClass.NALTREXONE, started_on=today() + datetime.timedelta(days=3)
    )
    past = add(
        clinic, "Xanax", MedicationClass.BENZODIAZEPINE, stopped_on=today() - datetime.timedelta(days=1)
    )
    assert set(selectors.current_medications(clinic.patient)) == {current, upcoming}
    assert list(selectors.past_medications(clinic.patient)) == [past]


# --- Pages ------------------------------------------------------------------------------------


def page(name, clinic, *args):
    return reverse(f"patients:{name}", args=[clinic.patient.public_id, *args])


@pytest.mark.django_db
def test_add_correct_and_stop_through_the_pages(clinic, client):
    client.force_login(clinic.medical)
    assert client.get(page("medication_create", clinic)).status_code == 200
    response = client.post(
        page("medication_create", clinic),
        {
            "name": "Suboxone 8/2 film",
            "medication_class": "buprenorphine",
            "dose": "16 mg",
            "started_on": "2026-01-05",
        },
    )
    assert response.status_code == 302 and response.url == page("medication_list", clinic)
    medication = Medication.objects.get()
    edit_url = page("medication_edit", clinic, medication.public_id)
    version = client.get(edit_url).context["form"]["version"].value()
    data = {
        "name": "Suboxone 8/2 film",
        "medication_class": "buprenorphine",
        "dose": "24 mg",
        "version": version,
    }
    assert client.post(edit_url, {**data, "started_on": "2026-01-05"}).status_code == 302
    medication.refresh_from_db()
    assert medication.dose == "24 mg"
    stale = client.post(edit_url, {**data, "dose": "8 mg"})
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()
    no_version = client.post(edit_url, {**data, "dose": "8 mg", "version": ""})
    assert no_version.status_code == 200 and "version" in no_version.context["form"].errors
    medication.refresh_from_db()
    assert medication.dose == "24 mg"
    stop_url = page("medication_stop", clinic, medication.public_id)
    confirm = client.get(stop_url)
    assert confirm.status_code == 200 and "data-confirm=" in confirm.content.decode()
    early = client.post(stop_url, {"stopped_on": "2025-12-01"})
    assert "cannot stop before it started" in str(early.context["form"].errors["stopped_on"])
    assert client.post(stop_url, {"stopped_on": "2026-02-01"}).status_code == 302
    medication.refresh_from_db()
    assert medication.stopped_on == D(2026, 2, 1)
    assert client.get(stop_url).status_code == 302  # already stopped: back to the list
    listing = client.get(page("medication_list", clinic))
    assert "Past" in listing.content.decode() and listing.context["page"].object_list[0].is_past


@pytest.mark.django_db
def test_the_form_names_each_bad_field(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        page("medication_create", clinic),
        {"name": "", "medication_class": "candy", "started_on": "2026-03-01", "stopped_on": "2026-02-01"},
    )
    assert response.status_code == 200
    assert {"name", "medication_class"} <= set(response.context["form"].errors)
    backwards = client.post(
        page("medication_create", clinic),
        {"name": "X", "medication_class": "other", "started_on": "2026-03-01", "stopped_on": "2026-02-01"},
    )
    assert "stopped_on" in backwards.context["form"].errors
    assert not Medication.objects.exists()


@pytest.mark.django_db
def test_medication_list_lists_current_first_with_constant_queries(clinic, client, query_count):
    client.force_login(clinic.peer_support)
    add(clinic, "Zyban", MedicationClass.OTHER)
    url = page("medication_list", clinic)
    one = query_count(lambda: client.get(url))
    for n in range(30):
        add(
            clinic, f"Old {n:02d}", MedicationClass.OTHER, stopped_on=today() - datetime.timedelta(days=n + 1)
        )
    assert query_count(lambda: client.get(url)) == one
    response = client.get(url)
    names = [m.name for m in response.context["page"].object_list]
    assert names[:3] == ["Zyban", "Old 00", "Old 01"] and response.context["page"].paginator.count == 31
    assert page("medication_create", clinic) not in response.content.decode()  # peer support reads only


@pytest.mark.django_db
def test_the_intake_card_shows_current_and_collapses_past_medications(clinic, client):
    add(clinic, "Suboxone", dose="16 mg")
    add(clinic, "Xanax", MedicationClass.BENZODIAZEPINE, stopped_on=today() - datetime.timedelta(days=3))
    client.force_login(clinic.medical)
    html = client.get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"])
    ).content.decode()
    current, past = html.split('data-testid="medications-past"')
    assert "Suboxone" in current and "Xanax" not in current and "Xanax" in past
    assert page("medication_create", clinic) in html


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


@pytest.mark.django_db
def test_api_add_correct_and_stop_but_never_delete(clinic, api):
    as_user(api, clinic.medical)
    created = api.post(
        URL,
        {"patient": str(clinic.patient.public_id), "name": "Methadone", "medication_class": "methadone"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["stopped_on"] is None and body["dose"] == ""
    url = f"{URL}{body['id']}/"
    no_version = api.patch(url, {"dose": "80 mg"}, format="json")
    assert no_version.status_code == 400 and "version" in no_version.json()
    patched = api.patch(url, {"dose": "80 mg", "version": body["version"]}, format="json")
    assert patched.status_code == 200 and patched.json()["dose"] == "80 mg"
    assert patched.json()["name"] == "Methadone"  # a PATCH changes only what it sends
    stale = api.patch(url, {"dose": "90 mg", "version": body["version"]}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_edit"
    assert api.get(url).json()["dose"] == "80 mg"
    deleted = api.delete(url)
    assert deleted.status_code == 405 and "never deleted" in deleted.json()["detail"]
    stopped = api.post(f"{url}stop/", {}, format="json")
    assert stopped.status_code == 200 and stopped.json()["stopped_on"] == today().isoformat()
    again = api.post(f"{url}stop/", {}, format="json")
    assert again.status_code == 400 and "already stopped" in again.json()["detail"]
    assert Medication.objects.filter(public_id=body["id"]).exists()


@pytest.mark.django_db
def test_api_errors_name_each_field(clinic, api):
    as_user(api, clinic.clinician_on_team)
    bad = api.post(
        URL, {"patient": str(clinic.patient.public_id), "medication_class": "candy"}, format="json"
    )
    assert bad.status_code == 400 and set(bad.json()) == {"name", "medication_class"}
    backwards = api.post(
        URL,
        {
            "patient": str(clinic.patient.public_id),
            "name": "X",
            "medication_class": "other",
            "started_on": "2026-03-01",
            "stopped_on": "2026-02-01",
        },
        format="json",
    )
    assert backwards.status_code == 400 and "stopped_on" in backwards.json()


@pytest.mark.django_db
def test_api_roles_and_reach(clinic, api):
    medication = add(clinic)
    body = {"patient": str(clinic.patient.public_id), "name": "X", "medication_class": "other"}
    as_user(api, clinic.case_manager)
    assert api.get(f"{URL}{medication.public_id}/").status_code == 200
    assert api.post(URL, body, format="json").status_code == 403
    assert api.post(f"{URL}{medication.public_id}/stop/", {}, format="json").status_code == 403
    as_user(api, clinic.admin_other_site)
    assert api.get(f"{URL}{medication.public_id}/").status_code == 404
    as_user(api, clinic.clinician_elsewhere)
    assert api.post(URL, body, format="json").status_code == 404
    assert Medication.objects.count() == 1


@pytest.mark.django_db
def test_api_list_is_per_patient_with_constant_queries(clinic, api, query_count):
    as_user(api, clinic.clinician_on_team)
    add(clinic, "A")
    query = {"patient": str(clinic.patient.public_id)}
    assert api.get(URL).status_code == 400
    one = query_count(lambda: api.get(URL, query))
    for n in range(20):
        add(clinic, f"M{n:02d}")
    assert query_count(lambda: api.get(URL, query)) == one
    assert api.get(URL, query).json()["count"] == 21
