"""Scheduling pages through the test client: roster and attendance, chart tab, home cards."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PERSONAS
from patients.models import CareTeamRole
from patients.tests.factories import PatientFactory, admit
from scheduling.models import Attendance, Enrolment

TODAY = timezone.localdate


@pytest.fixture
def group(clinic, morning):
    episodes = [clinic.episode]
    for _ in range(11):
        patient = PatientFactory(site=clinic.site_a)
        episodes.append(admit(patient, team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor}))
    for episode in episodes:
        Enrolment.objects.create(series=morning, episode=episode, joined_on=TODAY() - timedelta(days=7))
    return episodes


def test_the_facilitator_takes_attendance_for_12_in_two_clicks_plus_exceptions(
    clinic, login, group, today_occurrence
):
    client = login(clinic.clinician_on_team)
    url = reverse("scheduling:roster", args=[today_occurrence.public_id])
    page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="roster-row"') == 12
    response = client.post(reverse("scheduling:mark_all_present", args=[today_occurrence.public_id]))
    assert response.status_code == 302
    assert Attendance.objects.filter(occurrence=today_occurrence, status="present").count() == 12
    # one exception through htmx: the row comes back updated
    late = group[4]
    row = Attendance.objects.get(occurrence=today_occurrence, episode=late)
    response = client.post(
        reverse("scheduling:record_attendance", args=[today_occurrence.public_id, late.public_id]),
        {"status": "late", "minutes_attended": "150", "version": row.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Late, 150 min" in response.content.decode()
    assert 'data-testid="roster-row"' in response.content.decode()


def test_minutes_above_the_session_are_refused_on_the_row(clinic, login, group, today_occurrence):
    client = login(clinic.clinician_on_team)
    response = client.post(
        reverse("scheduling:record_attendance", args=[today_occurrence.public_id, clinic.episode.public_id]),
        {"status": "present", "minutes_attended": "999"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-testid="roster-error"' in response.content.decode()
    assert not Attendance.objects.exists()


def test_the_roster_page_makes_a_constant_number_of_queries(
    clinic, login, morning, today_occurrence, query_count
):
    client = login(clinic.clinician_on_team)
    url = reverse("scheduling:roster", args=[today_occurrence.public_id])

    def enrol(n):
        for _ in range(n):
            episode = admit(
                PatientFactory(site=clinic.site_a), team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor}
            )
            Enrolment.objects.create(series=morning, episode=episode, joined_on=TODAY())

    enrol(2)
    small = query_count(lambda: client.get(url))
    enrol(12)
    assert query_count(lambda: client.get(url)) == small


def test_a_clinician_outside_the_group_sees_only_their_patients_and_no_all_present(
    clinic, login, group, today_occurrence
):
    page = login(clinic.case_manager).get(reverse("scheduling:roster", args=[today_occurrence.public_id]))
    content = page.content.decode()
    assert content.count('data-testid="roster-row"') == 1  # their care-team patient only
    assert 'data-testid="all-present"' not in content
    other_site = login(clinic.admin_other_site).get(
        reverse("scheduling:roster", args=[today_occurrence.public_id])
    )
    assert other_site.status_code == 404


def test_the_chart_schedule_tab_shows_hours_against_the_requirement(clinic, login, group, today_occurrence):
    page = login(clinic.case_manager).get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "schedule"])
    )
    content = page.content.decode()
    assert page.status_code == 200
    assert "Phase 1 morning" in content
    assert 'data-testid="hours-required">9.0 h, 4 sessions' in content
    assert 'data-testid="enrol"' in content


def test_a_case_manager_enrols_a_patient_from_the_chart(clinic, login, morning):
    client = login(clinic.case_manager)
    url = reverse("scheduling:enrol", args=[clinic.patient.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"series": morning.pk, "joined_on": TODAY().isoformat()})
    assert response.status_code == 302
    assert Enrolment.objects.filter(episode=clinic.episode, series=morning).exists()
    again = client.post(url, {"series": morning.pk, "joined_on": TODAY().isoformat()})
    assert again.status_code == 200 and "already enrolled" in again.content.decode()


def test_the_clinician_home_lists_todays_sessions(clinic, login, group, today_occurrence):
    content = login(clinic.clinician_on_team).get(reverse("home")).content.decode()
    assert 'data-testid="todays-session"' in content
    assert reverse("scheduling:roster", args=[today_occurrence.public_id]) in content


def test_the_case_manager_home_shows_scheduled_hours_under_scheduled_first(clinic, login, morning):
    other = admit(PatientFactory(site=clinic.site_a), team={CareTeamRole.CASE_MANAGER: clinic.case_manager})
    Enrolment.objects.create(series=morning, episode=other, joined_on=TODAY() - timedelta(days=30))
    content = login(clinic.case_manager).get(reverse("home")).content.decode()
    rows = content.split('data-testid="scheduling-row"')[1:]
    assert len(rows) == 2
    assert clinic.patient.display_name in rows[0]  # nothing scheduled: first
    assert other.patient.display_name in rows[1]


@pytest.mark.parametrize("persona", PERSONAS)
def test_series_and_rooms_pages_answer_each_persona(clinic, login, morning, today_occurrence, persona):
    client = login(clinic.persona(persona))
    expected_rooms = 200 if persona in {"admin", "admin_other_site"} else 404
    expected_series = 200
    expected_roster = 404 if persona == "admin_other_site" else 200
    if persona == "anonymous":
        expected_rooms = expected_series = expected_roster = 302
    assert client.get(reverse("scheduling:rooms")).status_code == expected_rooms
    assert client.get(reverse("scheduling:series_list")).status_code == expected_series
    assert (
        client.get(reverse("scheduling:roster", args=[today_occurrence.public_id])).status_code
        == expected_roster
    )
    detail = client.get(reverse("scheduling:series_detail", args=[morning.public_id])).status_code
    assert detail == expected_roster


def test_the_care_team_turns_reminders_off_from_the_schedule_tab(clinic, login):
    from scheduling.models import ReminderOptOut

    client = login(clinic.case_manager)
    url = reverse("scheduling:reminder_preference", args=[clinic.patient.public_id])
    assert client.post(url, {"opted_out": "yes"}).status_code == 302
    assert ReminderOptOut.objects.filter(patient=clinic.patient).exists()
    page = client.get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "schedule"])
    ).content.decode()
    assert "the patient opted out" in page
    client.post(url, {"opted_out": "no"})
    assert not ReminderOptOut.objects.exists()
    assert login(clinic.peer_support).post(url, {"opted_out": "yes"}).status_code == 404


def test_a_case_manager_books_a_weekly_appointment_and_the_clinician_records_it(clinic, login):
    from scheduling.models import Appointment, SessionType

    client = login(clinic.case_manager)
    url = reverse("scheduling:book_appointment", args=[clinic.patient.public_id])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "session_type": SessionType.objects.get(name="Individual counselling").pk,
            "staff": clinic.clinician_on_team.pk,
            "day": TODAY().isoformat(),
            "start_time": "06:00",
            "repeat_weeks": "2",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert Appointment.objects.count() == 3
    today = Appointment.objects.get(local_date=TODAY())
    page = login(clinic.clinician_on_team).get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "schedule"])
    )
    assert 'data-testid="appointment-attendance"' in page.content.decode()
    recorded = login(clinic.clinician_on_team).post(
        reverse("scheduling:appointment_attendance", args=[clinic.patient.public_id, today.public_id]),
        {"status": "present"},
    )
    assert recorded.status_code == 302
    assert today.attendance.get().minutes_attended == 50


def test_a_site_supervisors_roster_also_makes_a_constant_number_of_queries(
    clinic, login, morning, today_occurrence, query_count
):
    client = login(clinic.supervisor)
    url = reverse("scheduling:roster", args=[today_occurrence.public_id])

    def enrol(n):
        for _ in range(n):
            episode = admit(
                PatientFactory(site=clinic.site_a), team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor}
            )
            Enrolment.objects.create(series=morning, episode=episode, joined_on=TODAY())

    enrol(2)
    small = query_count(lambda: client.get(url))
    enrol(10)
    assert query_count(lambda: client.get(url)) == small


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-27", "0001-01-01"])
def test_a_date_at_the_end_of_the_calendar_is_refused_not_a_500(clinic, client, day):
    """Week arithmetic on year 9999 or year 1 overflows: such a date is treated like a malformed one."""
    from rest_framework.test import APIClient

    client.force_login(clinic.clinician_on_team)
    patient = clinic.patient.public_id
    for url in (
        f"/schedule/mine/?week={day}",
        f"/schedule/calendar/?week={day}",
        f"/schedule/calendar/?day={day}",
        f"/patients/{patient}/schedule/builder/?starting_on={day}",
    ):
        assert client.get(url).status_code == 200, url
    api = APIClient()
    api.force_authenticate(clinic.clinician_on_team)
    response = api.get(f"/api/v1/weekly-hours/{patient}/?week_of={day}")
    assert response.status_code == 400 and "week_of" in response.json()
