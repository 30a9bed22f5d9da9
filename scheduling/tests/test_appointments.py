"""Individual and family appointments: booking, clashes, weekly repeats across DST, attendance."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from scheduling import selectors
from scheduling.models import Appointment, Enrolment, SessionType
from scheduling.services import appointments as services

NEW_YORK = ZoneInfo("America/New_York")


def counselling():
    return SessionType.objects.get(name="Individual counselling")


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK)


def test_a_weekly_appointment_keeps_its_local_time_and_counts_in_the_week(clinic, room):
    start = at(timezone.localdate() + timedelta(days=1), 13)
    booked = services.book_appointment(
        actor=clinic.case_manager,
        episode=clinic.episode,
        session_type=counselling(),
        staff=clinic.clinician_on_team,
        starts_at=start,
        room=room,
        repeat_weeks=3,
    )
    assert len(booked) == 4 and len({a.recurrence_key for a in booked}) == 1
    assert {a.starts_at.astimezone(NEW_YORK).time() for a in booked} == {time(13)}
    summary = selectors.weekly_hours(clinic.episode, week_of=booked[1].local_date)
    assert summary.scheduled_minutes == 50


def test_clashes_with_the_staff_the_room_or_the_patients_group_are_refused(clinic, room, morning):
    Enrolment.objects.create(series=morning, episode=clinic.episode, joined_on=timezone.localdate())
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError, match="the patient's group Phase 1 morning"):
        services.book_appointment(
            actor=clinic.case_manager,
            episode=clinic.episode,
            session_type=counselling(),
            staff=clinic.clinician_elsewhere,
            starts_at=at(tomorrow, 10),
        )
    with pytest.raises(ValidationError, match="is busy"):  # the facilitator of the morning group
        services.book_appointment(
            actor=clinic.case_manager,
            episode=clinic.episode,
            session_type=counselling(),
            staff=clinic.clinician_on_team,
            starts_at=at(tomorrow, 10),
        )
    with pytest.raises(ValidationError, match="Room B is in use"):
        services.book_appointment(
            actor=clinic.case_manager,
            episode=clinic.episode,
            session_type=counselling(),
            staff=clinic.clinician_elsewhere,
            starts_at=at(tomorrow, 11),
            room=room,
        )
    assert not Appointment.objects.exists()


def test_a_staff_member_cannot_be_double_booked(clinic):
    day = timezone.localdate() + timedelta(days=2)
    services.book_appointment(
        actor=clinic.case_manager,
        episode=clinic.episode,
        session_type=counselling(),
        staff=clinic.clinician_elsewhere,
        starts_at=at(day, 15),
    )
    from patients.models import CareTeamRole
    from patients.tests.factories import PatientFactory, admit

    other = admit(PatientFactory(site=clinic.site_a), team={CareTeamRole.CASE_MANAGER: clinic.case_manager})
    with pytest.raises(ValidationError) as refused:
        services.book_appointment(
            actor=clinic.case_manager,
            episode=other,
            session_type=counselling(),
            staff=clinic.clinician_elsewhere,
            starts_at=at(day, 15) + timedelta(minutes=30),
        )
    assert "staff" in refused.value.message_dict


def test_family_members_only_in_family_sessions_and_groups_are_not_appointments(clinic):
    day = timezone.localdate() + timedelta(days=2)
    with pytest.raises(ValidationError) as refused:
        services.book_appointment(
            actor=clinic.case_manager,
            episode=clinic.episode,
            session_type=counselling(),
            staff=clinic.clinician_on_team,
            starts_at=at(day, 15),
            family_members="mother",
        )
    assert "family_members" in refused.value.message_dict
    family = SessionType.objects.get(name="Family therapy")
    [booked] = services.book_appointment(
        actor=clinic.case_manager,
        episode=clinic.episode,
        session_type=family,
        staff=clinic.clinician_on_team,
        starts_at=at(day, 15),
        family_members="mother, partner",
    )
    assert booked.family_members == "mother, partner"
    with pytest.raises(ValidationError):
        services.book_appointment(
            actor=clinic.case_manager,
            episode=clinic.episode,
            session_type=SessionType.objects.get(name="Group therapy"),
            staff=clinic.clinician_on_team,
            starts_at=at(day, 17),
        )


def test_the_staff_member_records_attendance_and_cancelling_after_it_is_refused(clinic):
    today = timezone.localdate()
    [booked] = services.book_appointment(
        actor=clinic.case_manager,
        episode=clinic.episode,
        session_type=counselling(),
        staff=clinic.clinician_on_team,
        starts_at=at(today, 6),
    )
    row = services.record_appointment_attendance(
        actor=clinic.clinician_on_team, appointment=booked, status="present"
    )
    assert (row.minutes_attended, row.session_minutes) == (50, 50)
    with pytest.raises(ValidationError, match="took place"):
        services.cancel_appointment(
            actor=clinic.case_manager, appointment=booked, expected_version=booked.version
        )
    with pytest.raises(PermissionError):
        services.record_appointment_attendance(
            actor=clinic.clinician_elsewhere,
            appointment=booked,
            status="absent",
            expected_version=row.version,
        )


@pytest.mark.parametrize("persona", ["peer_support", "clinician_elsewhere", "admin_other_site"])
def test_only_the_care_team_books(clinic, persona):
    with pytest.raises(PermissionError):
        services.book_appointment(
            actor=clinic.persona(persona),
            episode=clinic.episode,
            session_type=counselling(),
            staff=clinic.clinician_on_team,
            starts_at=at(timezone.localdate() + timedelta(days=3), 15),
        )


def test_the_staff_members_reach_ends_when_they_no_longer_work_at_the_site(clinic):
    """An appointment's staff member records its attendance and lists it (care team or not) only
    while they work at the appointment's site: moved elsewhere, no reach by service or API."""
    from rest_framework.test import APIClient

    today = timezone.localdate()
    [booked] = services.book_appointment(
        actor=clinic.case_manager,
        episode=clinic.episode,
        session_type=counselling(),
        staff=clinic.clinician_elsewhere,
        starts_at=at(today, 6),
    )
    row = services.record_appointment_attendance(
        actor=clinic.clinician_elsewhere, appointment=booked, status="present"
    )
    moved = clinic.clinician_elsewhere
    moved.sites.set([clinic.site_b])
    with pytest.raises(PermissionError):
        services.record_appointment_attendance(
            actor=moved, appointment=booked, status="absent", expected_version=row.version
        )
    api = APIClient()
    api.force_authenticate(moved)
    listed = api.get("/api/v1/appointments/")
    assert listed.status_code == 200
    assert str(booked.public_id) not in {item["id"] for item in listed.json()["results"]}
    assert api.get(f"/api/v1/appointments/{booked.public_id}/").status_code == 404
    row.refresh_from_db()
    assert row.status == "present"
