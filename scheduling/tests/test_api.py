"""The scheduling API: same services, permissions and audit as the pages; JSON errors."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import PERSONAS
from iop.audit.models import AuditEntry
from patients.models import CareTeamRole
from patients.tests.factories import PatientFactory, admit
from scheduling.models import Attendance, Enrolment, GroupSeries

TODAY = timezone.localdate


@pytest.fixture
def api(client):
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


def test_an_admin_creates_a_series_through_the_api(clinic, api, room):
    from scheduling.tests.factories import group_therapy

    body = {
        "name": "Aftercare",
        "session_type": str(group_therapy().public_id),
        "room": str(room.public_id),
        "facilitator": str(clinic.clinician_on_team.public_id),
        "capacity": 12,
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=TU",
        "start_time": "18:00",
        "duration_minutes": 90,
        "starts_on": TODAY().isoformat(),
    }
    response = as_user(api, clinic.admin).post("/api/v1/group-series/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start_time"] == "18:00"
    never = as_user(api, clinic.admin).post(
        "/api/v1/group-series/",
        body | {"name": "Never", "recurrence_rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
        format="json",
    )
    assert never.status_code == 400 and "recurrence_rule" in never.json()
    clash = as_user(api, clinic.admin).post("/api/v1/group-series/", body | {"name": "Clash"}, format="json")
    assert clash.status_code == 400 and "room" in clash.json()
    refused = as_user(api, clinic.case_manager).post(
        "/api/v1/group-series/", body | {"name": "Other"}, format="json"
    )
    assert refused.status_code == 403
    assert GroupSeries.objects.count() == 1


def test_enrolment_attendance_and_weekly_hours_through_the_api(clinic, api, morning, today_occurrence):
    case_manager = as_user(APIClient(), clinic.case_manager)
    response = case_manager.post(
        "/api/v1/enrolments/",
        {
            "series": str(morning.public_id),
            "episode": str(clinic.episode.public_id),
            "joined_on": (TODAY() - timedelta(days=2)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    clinician = as_user(APIClient(), clinic.clinician_on_team)
    over = clinician.post(
        "/api/v1/attendance/",
        {
            "occurrence": str(today_occurrence.public_id),
            "episode": str(clinic.episode.public_id),
            "status": "present",
            "minutes_attended": 500,
        },
        format="json",
    )
    assert over.status_code == 400 and "minutes_attended" in over.json()
    marked = clinician.post(f"/api/v1/occurrences/{today_occurrence.public_id}/all-present/", format="json")
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    row = Attendance.objects.get()
    changed = clinician.patch(
        f"/api/v1/attendance/{row.public_id}/",
        {"status": "late", "minutes_attended": 120, "version": row.version},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["minutes_attended"] == 120
    stale = clinician.patch(
        f"/api/v1/attendance/{row.public_id}/", {"status": "present", "version": row.version}, format="json"
    )
    assert stale.status_code == 409
    hours = case_manager.get(f"/api/v1/weekly-hours/{clinic.patient.public_id}/")
    assert hours.status_code == 200
    assert hours.json()["required_hours"] == "9.0" and hours.json()["attended_hours"] == "2.0"
    assert (
        case_manager.get(f"/api/v1/weekly-hours/{clinic.patient.public_id}/?week_of=nope").status_code == 400
    )
    assert AuditEntry.objects.filter(object_type="patients.chart.api.weekly_hours").exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_answer_each_persona_and_hide_patients_out_of_reach(
    clinic, api, morning, persona, django_assert_max_num_queries
):
    Enrolment.objects.create(series=morning, episode=clinic.episode, joined_on=TODAY())
    user = clinic.persona(persona)
    if user is not None:
        as_user(api, user)
    for url in (
        "/api/v1/rooms/",
        "/api/v1/session-types/",
        "/api/v1/group-series/",
        "/api/v1/occurrences/",
        "/api/v1/enrolments/",
        "/api/v1/attendance/",
    ):
        with django_assert_max_num_queries(25):
            response = api.get(url)
        if user is None:
            assert response.status_code == 401
            continue
        assert response.status_code == 200, url
    if user is None:
        return
    enrolments = api.get("/api/v1/enrolments/").json()["results"]
    sees = persona in {"clinician_on_team", "case_manager", "medical", "peer_support", "supervisor", "admin"}
    assert bool(enrolments) == sees
    series = api.get("/api/v1/group-series/").json()["results"]
    assert bool(series) == (persona != "admin_other_site")
    expected = 200 if sees else 404
    assert api.get(f"/api/v1/weekly-hours/{clinic.patient.public_id}/").status_code == expected


def test_enrolment_list_queries_do_not_grow_with_rows(clinic, api, morning, query_count):
    as_user(api, clinic.admin)
    Enrolment.objects.create(series=morning, episode=clinic.episode, joined_on=TODAY())
    few = query_count(lambda: api.get("/api/v1/enrolments/"))
    for _ in range(8):
        episode = admit(
            PatientFactory(site=clinic.site_a), team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor}
        )
        Enrolment.objects.create(series=morning, episode=episode, joined_on=TODAY())
    assert query_count(lambda: api.get("/api/v1/enrolments/")) == few


def test_appointments_are_booked_attended_and_listed_through_the_api(clinic, api):
    from scheduling.models import SessionType

    counselling = SessionType.objects.get(name="Individual counselling")
    case_manager = as_user(APIClient(), clinic.case_manager)
    from datetime import datetime, time

    start = datetime.combine(timezone.localdate(), time(6), tzinfo=clinic.site_a.timezone)
    response = case_manager.post(
        "/api/v1/appointments/",
        {
            "episode": str(clinic.episode.public_id),
            "session_type": str(counselling.public_id),
            "staff": str(clinic.clinician_on_team.public_id),
            "starts_at": start.isoformat(),
            "repeat_weeks": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    appointment_id = response.json()["id"]
    assert response.json()["minutes"] == 50
    clinician = as_user(APIClient(), clinic.clinician_on_team)
    attended = clinician.post(
        f"/api/v1/appointments/{appointment_id}/attendance/", {"status": "present"}, format="json"
    )
    assert attended.status_code == 200 and attended.json()["minutes_attended"] == 50
    listed = clinician.get("/api/v1/appointments/").json()["results"]
    assert len(listed) == 2
    assert (
        as_user(APIClient(), clinic.clinician_elsewhere).get("/api/v1/appointments/").json()["results"] == []
    )
    refused = as_user(APIClient(), clinic.peer_support).post(
        "/api/v1/appointments/",
        {
            "episode": str(clinic.episode.public_id),
            "session_type": str(counselling.public_id),
            "staff": str(clinic.clinician_on_team.public_id),
            "starts_at": (start + timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert refused.status_code == 403


def test_leaving_a_series_through_the_api(clinic, morning):
    case_manager = as_user(APIClient(), clinic.case_manager)
    joined = case_manager.post(
        "/api/v1/enrolments/",
        {
            "series": str(morning.public_id),
            "episode": str(clinic.episode.public_id),
            "joined_on": TODAY().isoformat(),
        },
        format="json",
    ).json()
    left = case_manager.post(
        f"/api/v1/enrolments/{joined['id']}/leave/", {"left_on": TODAY().isoformat()}, format="json"
    )
    assert left.status_code == 200 and left.json()["left_on"] == TODAY().isoformat()
    early = case_manager.post(
        f"/api/v1/enrolments/{joined['id']}/leave/",
        {"left_on": (TODAY() - timedelta(days=9)).isoformat()},
        format="json",
    )
    assert early.status_code == 400


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:00Z", "0001-01-01T00:00:00Z"])
def test_a_time_at_the_calendars_ends_is_a_400_not_a_500(clinic, api, morning, today_occurrence, moment):
    """Week and clash arithmetic on year 9999 or year 1 overflows: the services refuse such dates."""
    from scheduling.models import SessionType

    client = as_user(api, clinic.clinician_on_team)
    counselling = SessionType.objects.get(name="Individual counselling")
    booked = client.post(
        "/api/v1/appointments/",
        {
            "episode": str(clinic.episode.public_id),
            "session_type": str(counselling.public_id),
            "staff": str(clinic.clinician_on_team.public_id),
            "starts_at": moment,
        },
        format="json",
    )
    assert booked.status_code == 400 and "starts_at" in booked.json()
    moved = client.patch(
        f"/api/v1/occurrences/{today_occurrence.public_id}/",
        {"starts_at": moment, "version": today_occurrence.version},
        format="json",
    )
    assert moved.status_code == 400 and "starts_at" in moved.json()
    enrolled = client.post(
        "/api/v1/enrolments/",
        {
            "series": str(morning.public_id),
            "episode": str(clinic.episode.public_id),
            "joined_on": moment[:10],
        },
        format="json",
    )
    assert enrolled.status_code == 400 and "joined_on" in enrolled.json()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_series_starting_at_the_calendars_ends_is_a_400_not_a_500(clinic, api, room, day):
    from scheduling.tests.factories import group_therapy

    body = {
        "name": "Far away",
        "session_type": str(group_therapy().public_id),
        "room": str(room.public_id),
        "facilitator": str(clinic.clinician_on_team.public_id),
        "capacity": 12,
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=TU",
        "start_time": "18:00",
        "duration_minutes": 90,
        "starts_on": day,
    }
    response = as_user(api, clinic.admin).post("/api/v1/group-series/", body, format="json")
    assert response.status_code == 400 and "starts_on" in response.json()
    assert not GroupSeries.objects.filter(name="Far away").exists()
