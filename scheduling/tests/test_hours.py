"""Hours per week, attendance rate, billable days and retention (pure rules)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling import hours
from scheduling.hours import Requirement, SessionRecord

MONDAY = date(2026, 3, 2)
PHASE_1 = Requirement(sessions_per_week=4, min_hours_per_week=Decimal("9.0"))


def group(day_offset, status=None, minutes=None, *, length=180, clinical=True):
    if minutes is None:
        minutes = length if status in hours.ATTENDED else 0
    return SessionRecord(
        day=MONDAY + timedelta(days=day_offset),
        scheduled_minutes=length,
        status=status,
        attended_minutes=minutes,
        clinical=clinical,
    )


def test_a_full_phase_1_week_meets_the_requirement_and_bills_four_days():
    week = [group(d, "present") for d in range(4)]
    summary = hours.summarize_week(week, week_of=MONDAY + timedelta(days=3), requirement=PHASE_1)
    assert summary.week_start == MONDAY
    assert summary.scheduled_hours == Decimal("12.0")
    assert summary.attended_hours == Decimal("12.0")
    assert summary.required_hours == Decimal("9.0")
    assert summary.scheduled_meets_requirement and summary.attended_meets_requirement
    assert summary.attendance_rate == Decimal("1.000")
    assert summary.billable_days == tuple(MONDAY + timedelta(days=d) for d in range(4))


def test_a_late_arrival_below_three_hours_is_not_a_billable_day():
    week = [group(0, "late", 170), group(1, "present"), group(2, "absent"), group(3, "excused")]
    summary = hours.summarize_week(week, week_of=MONDAY, requirement=PHASE_1)
    assert summary.billable_days == (MONDAY + timedelta(days=1),)
    assert summary.attended_minutes == 350
    assert not summary.attended_meets_requirement
    # excused left out of the rate: (170 + 180) / (180 * 3)
    assert summary.attendance_rate == Decimal("0.648")


def test_two_sessions_on_one_day_add_up_to_a_billable_day():
    week = [group(0, "present", length=90), group(0, "present", length=90), group(1, "present", length=120)]
    assert hours.billable_days(week) == [MONDAY]


def test_sessions_that_do_not_count_toward_clinical_hours_are_left_out_of_hours_and_billing():
    week = [group(0, "present", length=120), group(0, "present", length=60, clinical=False)]
    summary = hours.summarize_week(week, week_of=MONDAY, requirement=PHASE_1)
    assert summary.attended_minutes == 120 and summary.scheduled_minutes == 120
    assert summary.sessions_attended == 2
    assert summary.billable_days == ()


def test_the_billable_day_rule_is_configurable():
    week = [group(0, "present", length=120)]
    assert hours.billable_days(week, min_minutes=120) == [MONDAY]
    assert hours.billable_days(week) == []


def test_an_under_scheduled_week_reports_its_shortfall():
    week = [group(0), group(1)]  # 6 hours scheduled, nothing recorded yet
    summary = hours.summarize_week(week, week_of=MONDAY, requirement=PHASE_1)
    assert summary.scheduled_shortfall_minutes == 180
    assert not summary.scheduled_meets_requirement
    assert summary.attendance_rate is None


def test_records_outside_the_week_are_ignored():
    week = [group(-1, "present"), group(7, "present"), group(2, "present")]
    summary = hours.summarize_week(week, week_of=MONDAY, requirement=None)
    assert summary.sessions_scheduled == 1 and summary.required_minutes == 0


@pytest.mark.parametrize(
    ("statuses", "run", "alert"),
    [
        (["present", "absent", "absent"], 2, True),
        (["absent", "present", "absent"], 1, False),
        (["absent", "excused", "absent"], 2, True),  # excused neither counts nor breaks the run
        (["absent", None, "absent"], 2, True),  # unrecorded sessions are skipped
        (["absent", "absent", "late"], 0, False),
        ([], 0, False),
    ],
)
def test_missed_sessions_in_a_row(statuses, run, alert):
    assert hours.missed_in_a_row(statuses) == run
    assert hours.needs_retention_alert(statuses) is alert


def test_the_retention_threshold_is_configurable():
    assert not hours.needs_retention_alert(["absent", "absent"], n=3)
    assert hours.needs_retention_alert(["absent", "absent", "absent"], n=3)


def test_remaining_absences_and_notice():
    assert hours.remaining_absences(4, allowed=6) == 2
    assert hours.remaining_absences(9, allowed=6) == 0
    start = datetime(2026, 3, 5, 14, tzinfo=UTC)
    assert hours.excused_in_time(
        notified_at=start - timedelta(hours=48), session_starts_at=start, notice_hours=48
    )
    assert not hours.excused_in_time(
        notified_at=start - timedelta(hours=47), session_starts_at=start, notice_hours=48
    )


statuses = st.sampled_from([None, "present", "late", "left_early", "absent", "excused"])


@st.composite
def records(draw):
    length = draw(st.sampled_from([30, 50, 60, 90, 120, 180]))
    status = draw(statuses)
    minutes = draw(st.integers(min_value=1, max_value=length)) if status in hours.ATTENDED else 0
    return SessionRecord(
        day=MONDAY + timedelta(days=draw(st.integers(min_value=0, max_value=6))),
        scheduled_minutes=length,
        status=status,
        attended_minutes=minutes,
        clinical=draw(st.booleans()),
    )


@given(st.lists(records(), max_size=30))
def test_weekly_figures_are_consistent(week):
    summary = hours.summarize_week(week, week_of=MONDAY, requirement=PHASE_1)
    assert 0 <= summary.attended_minutes <= summary.scheduled_minutes
    assert summary.sessions_attended <= summary.sessions_scheduled == len(week)
    assert summary.attendance_rate is None or Decimal(0) <= summary.attendance_rate <= Decimal(1)
    assert len(summary.billable_days) <= len({r.day for r in week})
    by_day = hours.clinical_minutes_by_day(week)
    assert all(by_day[day] >= hours.DEFAULT_BILLABLE_DAY_MINUTES for day in summary.billable_days)
    assert sum(by_day.values()) == summary.attended_minutes


@given(st.lists(records(), max_size=20), st.sampled_from([30, 60, 180]))
def test_attending_one_more_session_never_lowers_hours_or_billable_days(week, length):
    extra = SessionRecord(day=MONDAY, scheduled_minutes=length, status="present", attended_minutes=length)
    before = hours.summarize_week(week, week_of=MONDAY, requirement=PHASE_1)
    after = hours.summarize_week([*week, extra], week_of=MONDAY, requirement=PHASE_1)
    assert after.attended_minutes >= before.attended_minutes
    assert set(before.billable_days) <= set(after.billable_days)


@given(st.lists(statuses, max_size=12), st.integers(min_value=1, max_value=4))
def test_an_attended_session_ends_any_run_of_absences(history, n):
    assert not hours.needs_retention_alert([*history, "present"], n=n)
    assert hours.needs_retention_alert([*history, *["absent"] * n], n=n)
