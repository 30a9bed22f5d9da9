"""Attendance: all present in one step, exceptions with minutes, versions, retention, hours."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from iop.audit.models import AuditEntry
from iop.core.concurrency import StaleEdit
from patients.models import CareTeamRole, ClinicalAlert
from patients.tests.factories import PatientFactory, admit
from scheduling import selectors
from scheduling.models import Attendance, AttendanceStatus, Enrolment, Occurrence
from scheduling.services import attendance as services

TODAY = timezone.localdate


@pytest.fixture
def group_of_12(clinic, morning):
    """The clinic's patient and 11 others (on another clinician's care team) in the morning group."""
    episodes = [clinic.episode]
    for _ in range(11):
        patient = PatientFactory(site=clinic.site_a)
        episodes.append(
            admit(
                patient,
                team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor},
                admitted_on=TODAY() - timedelta(days=30),
            )
        )
    for episode in episodes:
        Enrolment.objects.create(series=morning, episode=episode, joined_on=TODAY() - timedelta(days=20))
    return episodes


def test_the_facilitator_marks_a_group_of_12_present_in_one_step(
    clinic, group_of_12, today_occurrence, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        marked = services.mark_all_present(actor=clinic.clinician_on_team, occurrence=today_occurrence)
    assert marked == 12
    rows = Attendance.objects.filter(occurrence=today_occurrence)
    assert {(r.status, r.minutes_attended, r.session_minutes) for r in rows} == {("present", 180, 180)}
    audited = AuditEntry.objects.filter(object_type="scheduling.attendance")
    assert {e.patient_public_id for e in audited} == {e.patient.public_id for e in group_of_12}
    # a second click marks nobody twice
    assert services.mark_all_present(actor=clinic.clinician_on_team, occurrence=today_occurrence) == 0


def test_exceptions_are_changed_one_by_one_with_minutes(clinic, group_of_12, today_occurrence):
    services.mark_all_present(actor=clinic.clinician_on_team, occurrence=today_occurrence)
    late_one = group_of_12[3]
    row = Attendance.objects.get(occurrence=today_occurrence, episode=late_one)
    services.record_attendance(
        actor=clinic.clinician_on_team,
        occurrence=today_occurrence,
        episode=late_one,
        status=AttendanceStatus.LATE,
        minutes_attended=150,
        expected_version=row.version,
    )
    row.refresh_from_db()
    assert (row.status, row.minutes_attended, row.version) == ("late", 150, 2)
    with pytest.raises(StaleEdit):  # a second tab still holding version 1
        services.record_attendance(
            actor=clinic.clinician_on_team,
            occurrence=today_occurrence,
            episode=late_one,
            status=AttendanceStatus.PRESENT,
            expected_version=1,
        )


@pytest.mark.parametrize(
    ("status", "minutes", "message"),
    [
        ("present", 181, "lasted 180 minutes"),
        ("present", 0, "at least 1 minute"),
        ("absent", 30, "0 minutes"),
        ("asleep", None, "Choose one of"),
    ],
)
def test_bad_minutes_and_statuses_are_refused(
    clinic, group_of_12, today_occurrence, status, minutes, message
):
    with pytest.raises(ValidationError, match=message):
        services.record_attendance(
            actor=clinic.clinician_on_team,
            occurrence=today_occurrence,
            episode=clinic.episode,
            status=status,
            minutes_attended=minutes,
        )
    assert not Attendance.objects.exists()


def test_minutes_default_to_the_session_length_and_absence_to_zero(clinic, group_of_12, today_occurrence):
    present = services.record_attendance(
        actor=clinic.clinician_on_team,
        occurrence=today_occurrence,
        episode=group_of_12[0],
        status="left_early",
    )
    absent = services.record_attendance(
        actor=clinic.clinician_on_team, occurrence=today_occurrence, episode=group_of_12[1], status="excused"
    )
    assert (present.minutes_attended, absent.minutes_attended) == (180, 0)


def test_future_cancelled_and_unenrolled_are_refused(clinic, group_of_12, morning, today_occurrence):
    tomorrow = Occurrence.objects.get(series=morning, local_date=TODAY() + timedelta(days=1))
    with pytest.raises(ValidationError, match="not happened yet"):
        services.mark_all_present(actor=clinic.clinician_on_team, occurrence=tomorrow)
    stranger = admit(
        PatientFactory(site=clinic.site_a), team={CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team}
    )
    with pytest.raises(ValidationError, match="not enrolled"):
        services.record_attendance(
            actor=clinic.clinician_on_team, occurrence=today_occurrence, episode=stranger, status="present"
        )
    today_occurrence.status = "cancelled"
    today_occurrence.save()
    with pytest.raises(ValidationError, match="cancelled"):
        services.mark_all_present(actor=clinic.clinician_on_team, occurrence=today_occurrence)


def test_the_facilitator_records_patients_outside_their_care_team_but_other_clinicians_do_not(
    clinic, group_of_12, today_occurrence
):
    not_mine = group_of_12[5]
    services.record_attendance(
        actor=clinic.clinician_on_team, occurrence=today_occurrence, episode=not_mine, status="present"
    )
    with pytest.raises(PermissionError):
        services.record_attendance(
            actor=clinic.clinician_elsewhere,
            occurrence=today_occurrence,
            episode=clinic.episode,
            status="present",
        )
    with pytest.raises(PermissionError):
        services.mark_all_present(actor=clinic.clinician_elsewhere, occurrence=today_occurrence)
    for persona in ("peer_support", "case_manager"):
        with pytest.raises(PermissionError):
            services.record_attendance(
                actor=clinic.persona(persona),
                occurrence=today_occurrence,
                episode=clinic.episode,
                status="present",
            )


def test_two_unexcused_absences_in_a_row_raise_one_retention_alert(clinic, group_of_12, morning):
    past = list(Occurrence.objects.filter(series=morning, local_date__lt=TODAY()).order_by("-starts_at")[:3])
    services.record_attendance(
        actor=clinic.clinician_on_team, occurrence=past[2], episode=clinic.episode, status="absent"
    )
    services.record_attendance(
        actor=clinic.clinician_on_team, occurrence=past[1], episode=clinic.episode, status="excused"
    )
    assert not ClinicalAlert.objects.filter(kind="retention").exists()
    services.record_attendance(
        actor=clinic.clinician_on_team, occurrence=past[0], episode=clinic.episode, status="absent"
    )
    alert = ClinicalAlert.objects.get(kind="retention", patient=clinic.patient)
    assert "retention" in alert.message and clinic.patient.legal_last_name not in alert.message


def test_attendance_drives_weekly_hours_and_missed_days(clinic, group_of_12, morning):
    monday = TODAY() - timedelta(days=TODAY().weekday() + 7)  # last week: every session is in the past
    week = list(
        Occurrence.objects.filter(
            series=morning, local_date__range=(monday, monday + timedelta(days=6))
        ).order_by("starts_at")
    )
    assert len(week) == 7
    for occurrence, status in zip(
        week, ["present", "present", "late", "absent", "excused", "present", "present"], strict=True
    ):
        minutes = 120 if status == "late" else None
        services.record_attendance(
            actor=clinic.clinician_on_team,
            occurrence=occurrence,
            episode=clinic.episode,
            status=status,
            minutes_attended=minutes,
        )
    summary = selectors.weekly_hours(clinic.episode, week_of=monday)
    assert summary.scheduled_hours == Decimal("21.0")
    assert summary.attended_hours == Decimal("14.0")
    assert summary.required_hours == Decimal("9.0")
    assert len(summary.billable_days) == 4  # the late day (2 h) is not billable
    assert summary.attendance_rate == Decimal("0.778")  # 840 / 1080 (excused left out)
    missed = selectors.missed_days(clinic.episode, first=monday, last=monday + timedelta(days=6))
    assert missed == {week[3].local_date: "absent", week[4].local_date: "excused"}


def test_the_facilitator_reach_ends_when_they_no_longer_work_at_the_site(
    clinic, group_of_12, today_occurrence
):
    """The facilitator rule (ADR 0010) is bounded to sites the facilitator works at: moved to
    another site, they keep no reach to the old site's roster, by page service or API."""
    from rest_framework.test import APIClient

    not_mine = group_of_12[5]
    row = services.record_attendance(
        actor=clinic.clinician_on_team, occurrence=today_occurrence, episode=not_mine, status="present"
    )
    facilitator = clinic.clinician_on_team
    facilitator.sites.set([clinic.site_b])
    with pytest.raises(PermissionError):
        services.record_attendance(
            actor=facilitator,
            occurrence=today_occurrence,
            episode=not_mine,
            status="late",
            expected_version=row.version,
        )
    api = APIClient()
    api.force_authenticate(facilitator)
    listed = api.get("/api/v1/attendance/")
    assert listed.status_code == 200
    assert str(row.public_id) not in {item["id"] for item in listed.json()["results"]}
    assert api.get(f"/api/v1/attendance/{row.public_id}/").status_code == 404
    changed = api.patch(
        f"/api/v1/attendance/{row.public_id}/", {"status": "late", "version": row.version}, format="json"
    )
    assert changed.status_code == 404
    row.refresh_from_db()
    assert row.status == "present"
