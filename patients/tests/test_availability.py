"""Availability windows: weekly times the patient is not available, for the schedule builder."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from iop.accounts.tests.factories import api_token_for
from iop.audit.models import AuditAction, AuditEntry
from iop.core.concurrency import StaleEdit
from patients.models import AvailabilityWindow
from patients.selectors import consents as selectors
from patients.services import schedule_constraints as services
from patients.tests.factories import PatientFactory

T = datetime.time
URL = "/api/v1/availability-windows/"


NINE, FIVE_PM = T(9), T(17)


def add(clinic, weekday=1, start=NINE, end=FIVE_PM, kind="work", actor=None, **extra):
    return services.add_availability_window(
        actor=actor or clinic.case_manager,
        patient=clinic.patient,
        kind=kind,
        weekday=weekday,
        starts_at=start,
        ends_at=end,
        **extra,
    )


# --- Services and selectors -------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_window_is_audited(clinic):
    window = add(clinic, note=" day shift ")
    assert window.note == "day shift"
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(window.public_id))
    assert entry.patient_public_id == clinic.patient.public_id and "weekday" in entry.changed_fields


@pytest.mark.django_db
def test_overlapping_windows_on_the_same_day_are_refused_with_a_clear_message(clinic):
    add(clinic, weekday=2, start=T(9), end=T(13))
    with pytest.raises(ValidationError) as error:
        add(clinic, weekday=2, start=T(12), end=T(15), kind="school")
    assert "overlaps the patient's Work Tue 09:00-13:00 window" in error.value.message_dict["starts_at"][0]
    add(clinic, weekday=2, start=T(13), end=T(15), kind="school")  # touching is fine
    add(clinic, weekday=3, start=T(9), end=T(13))  # another day is fine
    assert AvailabilityWindow.objects.count() == 3


@pytest.mark.django_db
def test_the_end_must_be_after_the_start_and_the_weekday_iso(clinic):
    with pytest.raises(ValidationError) as error:
        add(clinic, weekday=8, start=T(17), end=T(9), kind="hobby")
    assert set(error.value.message_dict) == {"weekday", "ends_at", "kind"}
    assert "after the start" in error.value.message_dict["ends_at"][0]


@pytest.mark.django_db
def test_editing_checks_overlap_against_the_other_windows_only(clinic):
    window = add(clinic, weekday=1, start=T(9), end=T(12))
    add(clinic, weekday=1, start=T(14), end=T(16), kind="family")
    services.update_availability_window(
        actor=clinic.clinician_on_team,
        window=window,
        expected_version=window.version,
        changes={"starts_at": T(8), "ends_at": T(13)},
    )
    window.refresh_from_db()
    assert (window.starts_at, window.ends_at) == (T(8), T(13))
    with pytest.raises(ValidationError, match="overlaps"):
        services.update_availability_window(
            actor=clinic.clinician_on_team,
            window=window,
            expected_version=window.version,
            changes={"ends_at": T(15)},
        )


@pytest.mark.django_db
def test_a_stale_edit_is_refused(clinic):
    window = add(clinic)
    loaded = window.version
    services.update_availability_window(
        actor=clinic.case_manager, window=window, expected_version=loaded, changes={"note": "first"}
    )
    stale = AvailabilityWindow.objects.get(pk=window.pk)
    with pytest.raises(StaleEdit):
        services.update_availability_window(
            actor=clinic.case_manager, window=stale, expected_version=loaded, changes={"note": "second"}
        )
    assert AvailabilityWindow.objects.get(pk=window.pk).note == "first"


@pytest.mark.django_db
def test_removing_a_window_deletes_it_and_the_audit_names_it_without_its_values(clinic):
    window = add(clinic, weekday=5, start=T(15), end=T(18), kind="family", note="Custody visit, see DCFS")
    services.remove_availability_window(actor=clinic.case_manager, window=window)
    assert not AvailabilityWindow.objects.exists()
    entry = AuditEntry.objects.get(action=AuditAction.DELETE)
    assert entry.object_id == str(window.public_id)
    # Free text (the note, a description) stays out of the permanent audit trail: field names only.
    assert entry.reason == ""
    assert entry.changed_fields == sorted(services.WINDOW_FIELDS)
    for entry in AuditEntry.objects.all():
        assert entry.reason == "" and "DCFS" not in str(entry.changed_fields)
    with pytest.raises(ValidationError, match="already removed"):
        services.remove_availability_window(actor=clinic.case_manager, window=window)


@pytest.mark.parametrize("persona", ["medical", "peer_support", "admin"])
@pytest.mark.django_db
def test_only_clinicians_and_case_managers_change_availability(clinic, persona):
    with pytest.raises(PermissionError):
        add(clinic, actor=clinic.persona(persona))


@pytest.mark.django_db
def test_selectors_for_the_schedule_builder(clinic):
    add(clinic, weekday=3, start=T(13), end=T(17))
    add(clinic, weekday=1, start=T(9), end=T(12))
    other = PatientFactory(site=clinic.site_a)
    services.add_availability_window(
        actor=clinic.case_manager, patient=other, kind="school", weekday=2, starts_at=T(8), ends_at=T(15)
    )
    assert [w.weekday for w in selectors.availability_of(clinic.patient)] == [1, 3]
    week = selectors.availability_by_weekday(selectors.availability_of(clinic.patient))
    assert [name for _n, name, _w in week] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert [len(windows) for _n, _name, windows in week] == [1, 0, 1, 0, 0, 0, 0]
    both = selectors.availability_for_patients([clinic.patient.pk, other.pk])
    assert len(both[clinic.patient.pk]) == 2 and both[other.pk][0].kind == "school"


# --- Pages ------------------------------------------------------------------------------------


def page(name, clinic, *args):
    return reverse(f"patients:{name}", args=[clinic.patient.public_id, *args])


@pytest.mark.django_db
def test_add_edit_and_remove_a_window_through_the_pages(clinic, client):
    client.force_login(clinic.case_manager)
    assert client.get(page("availability_create", clinic)).status_code == 200
    response = client.post(
        page("availability_create", clinic),
        {"kind": "work", "weekday": "4", "starts_at": "07:30", "ends_at": "15:30", "note": "warehouse"},
    )
    assert response.status_code == 302 and response.url == page("availability_list", clinic)
    window = AvailabilityWindow.objects.get()
    assert (window.weekday, window.starts_at, window.note) == (4, T(7, 30), "warehouse")
    edit_url = page("availability_edit", clinic, window.public_id)
    form = client.get(edit_url).context["form"]
    version = form["version"].value()
    assert form["starts_at"].value() == T(7, 30)
    response = client.post(
        edit_url,
        {
            "kind": "work",
            "weekday": "4",
            "starts_at": "08:00",
            "ends_at": "16:00",
            "version": version,
        },
    )
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.starts_at == T(8) and window.note == ""
    stale = client.post(
        edit_url,
        {
            "kind": "work",
            "weekday": "4",
            "starts_at": "09:00",
            "ends_at": "16:00",
            "version": version,
        },
    )
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()
    no_version = client.post(
        edit_url, {"kind": "work", "weekday": "4", "starts_at": "09:00", "ends_at": "16:00"}
    )
    assert no_version.status_code == 200 and "version" in no_version.context["form"].errors
    window.refresh_from_db()
    assert window.starts_at == T(8)
    listing = client.get(page("availability_list", clinic)).content.decode()
    assert "Thu" in listing and "08:00" in listing and "data-confirm=" in listing
    assert client.get(page("availability_delete", clinic, window.public_id)).status_code == 405
    response = client.post(page("availability_delete", clinic, window.public_id))
    assert response.status_code == 302 and not AvailabilityWindow.objects.exists()


@pytest.mark.django_db
def test_the_form_explains_overlap_and_end_before_start(clinic, client):
    window = add(clinic, weekday=1, start=T(9), end=T(17))
    client.force_login(clinic.clinician_on_team)
    url = page("availability_create", clinic)
    overlap = client.post(url, {"kind": "family", "weekday": "1", "starts_at": "16:00", "ends_at": "18:00"})
    assert "overlaps" in str(overlap.context["form"].errors["starts_at"])
    backwards = client.post(url, {"kind": "family", "weekday": "2", "starts_at": "18:00", "ends_at": "16:00"})
    assert "after the start" in str(backwards.context["form"].errors["ends_at"])
    garbage = client.post(url, {"kind": "x", "weekday": "9", "starts_at": "soon", "ends_at": ""})
    assert set(garbage.context["form"].errors) == {"kind", "weekday", "starts_at", "ends_at"}
    tampered = client.post(
        page("availability_edit", clinic, window.public_id),
        {
            "kind": "family",
            "weekday": "2",
            "starts_at": "08:00",
            "ends_at": "09:00",
            "version": "yesterday",
        },
    )
    assert tampered.status_code == 200 and "version" in tampered.context["form"].errors
    assert AvailabilityWindow.objects.count() == 1
    window.refresh_from_db()
    assert (window.kind, window.weekday) == ("work", 1)


@pytest.mark.django_db
def test_a_window_of_another_patient_is_404(clinic, client):
    other = PatientFactory(site=clinic.site_a)
    window = services.add_availability_window(
        actor=clinic.case_manager, patient=other, kind="work", weekday=1, starts_at=T(9), ends_at=T(10)
    )
    client.force_login(clinic.case_manager)
    assert client.get(page("availability_edit", clinic, window.public_id)).status_code == 404
    assert client.post(page("availability_delete", clinic, window.public_id)).status_code == 404
    assert AvailabilityWindow.objects.filter(pk=window.pk).exists()


@pytest.mark.django_db
def test_availability_list_query_count_does_not_grow(clinic, client, query_count):
    client.force_login(clinic.peer_support)
    add(clinic, weekday=1)
    url = page("availability_list", clinic)
    one = query_count(lambda: client.get(url))
    for weekday in range(1, 8):
        for hour in (6, 18):
            add(clinic, weekday=weekday, start=T(hour), end=T(hour + 2))
    assert query_count(lambda: client.get(url)) == one
    assert client.get(url).context["page"].paginator.count == 15


@pytest.mark.django_db
def test_the_intake_card_shows_the_week(clinic, client):
    add(clinic, weekday=6, start=T(10), end=T(14), kind="family")
    client.force_login(clinic.peer_support)
    response = client.get(reverse("patients:chart_tab", args=[clinic.patient.public_id, "intake"]))
    html = response.content.decode()
    assert "10:00–14:00" in html and "Family" in html
    assert page("availability_create", clinic) not in html  # peer support does not change them
    client.force_login(clinic.case_manager)
    assert page("availability_create", clinic) in client.get(response.request["PATH_INFO"]).content.decode()


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


@pytest.mark.django_db
def test_api_create_read_update_and_delete(clinic, api):
    as_user(api, clinic.case_manager)
    body = {
        "patient": str(clinic.patient.public_id),
        "kind": "school",
        "weekday": 2,
        "starts_at": "08:00",
        "ends_at": "14:30",
    }
    created = api.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    window = created.json()
    assert window["weekday_name"] == "Tue" and window["note"] == ""
    url = f"{URL}{window['id']}/"
    assert api.get(url).json()["ends_at"] == "14:30:00"
    no_version = api.patch(url, {"note": "college"}, format="json")
    assert no_version.status_code == 400 and "version" in no_version.json()
    patched = api.patch(url, {"note": "college", "version": window["version"]}, format="json")
    assert patched.status_code == 200 and patched.json()["note"] == "college"
    assert patched.json()["version"] == window["version"] + 1
    stale = api.patch(url, {"note": "again", "version": window["version"]}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_edit"
    assert api.get(url).json()["note"] == "college"
    moved = api.patch(
        url,
        {
            "patient": str(PatientFactory(site=clinic.site_a).public_id),
            "version": patched.json()["version"],
        },
        format="json",
    )
    assert moved.status_code == 400 and "patient" in moved.json()
    assert api.delete(url).status_code == 204
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, object_id=window["id"]).exists()


@pytest.mark.django_db
def test_api_errors_name_each_field(clinic, api):
    add(clinic, weekday=1, start=T(9), end=T(17))
    as_user(api, clinic.clinician_on_team)
    bad = api.post(URL, {"patient": "x", "kind": "hobby", "weekday": 0, "starts_at": "25:00"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"patient", "kind", "weekday", "starts_at", "ends_at"}
    body = {"patient": str(clinic.patient.public_id), "kind": "family", "weekday": 1}
    overlap = api.post(URL, {**body, "starts_at": "16:00", "ends_at": "18:00"}, format="json")
    assert overlap.status_code == 400 and "overlaps" in overlap.json()["starts_at"][0]
    backwards = api.post(URL, {**body, "starts_at": "18:00", "ends_at": "17:30"}, format="json")
    assert backwards.status_code == 400 and "ends_at" in backwards.json()


@pytest.mark.django_db
def test_api_roles_and_reach(clinic, api):
    window = add(clinic)
    as_user(api, clinic.medical)
    assert api.get(f"{URL}{window.public_id}/").status_code == 200
    assert api.delete(f"{URL}{window.public_id}/").status_code == 403
    as_user(api, clinic.clinician_elsewhere)
    assert api.get(f"{URL}{window.public_id}/").status_code == 404
    assert api.delete(f"{URL}{window.public_id}/").status_code == 404
    body = {
        "patient": str(clinic.patient.public_id),
        "kind": "work",
        "weekday": 3,
        "starts_at": "09:00",
        "ends_at": "10:00",
    }
    assert api.post(URL, body, format="json").status_code == 404
    assert AvailabilityWindow.objects.count() == 1


@pytest.mark.django_db
def test_api_list_is_per_patient_with_constant_queries(clinic, api, query_count):
    as_user(api, clinic.peer_support)
    add(clinic, weekday=1)
    query = {"patient": str(clinic.patient.public_id)}
    assert api.get(URL).status_code == 400
    one = query_count(lambda: api.get(URL, query))
    for weekday in range(2, 8):
        add(clinic, weekday=weekday)
    assert query_count(lambda: api.get(URL, query)) == one
    assert [w["weekday"] for w in api.get(URL, query).json()["results"]] == list(range(1, 8))
