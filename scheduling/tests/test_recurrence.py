"""Recurrence expansion: local wall-clock times across daylight-saving changes, validation."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.recurrence import RecurrenceError, describe, expand, validate, weekdays_of

NEW_YORK = ZoneInfo("America/New_York")
MON_THU = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH"


def slots(
    rule=MON_THU,
    *,
    start=time(9),
    minutes=180,
    starts_on=date(2026, 1, 5),
    ends_on=None,
    tz="America/New_York",
    window=(date(2026, 3, 1), date(2026, 3, 14)),
):
    return list(
        expand(
            rule,
            start_time=start,
            duration_minutes=minutes,
            starts_on=starts_on,
            ends_on=ends_on,
            tz=tz,
            window_start=window[0],
            window_end=window[1],
        )
    )


def test_a_nine_oclock_group_stays_at_nine_local_across_the_march_change():
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    found = slots(window=(date(2026, 3, 5), date(2026, 3, 10)))
    assert [s.local_date for s in found] == [date(2026, 3, 5), date(2026, 3, 9), date(2026, 3, 10)]
    assert [s.starts_at.astimezone(NEW_YORK).time() for s in found] == [time(9)] * 3
    assert [s.starts_at.astimezone(UTC).hour for s in found] == [14, 13, 13]  # the UTC instant moves
    assert all(s.ends_at - s.starts_at == timedelta(hours=3) for s in found)


def test_a_nine_oclock_group_stays_at_nine_local_across_the_november_change():
    # 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST.
    found = slots(window=(date(2026, 10, 29), date(2026, 11, 3)))
    assert [s.local_date for s in found] == [date(2026, 10, 29), date(2026, 11, 2), date(2026, 11, 3)]
    assert [s.starts_at.astimezone(NEW_YORK).time() for s in found] == [time(9)] * 3
    assert [s.starts_at.hour for s in found] == [13, 14, 14]


def test_an_evening_group_on_the_day_of_the_change_keeps_its_local_time():
    found = slots(
        "FREQ=WEEKLY;BYDAY=SU", start=time(18), minutes=90, window=(date(2026, 3, 8), date(2026, 3, 8))
    )
    assert len(found) == 1
    assert found[0].starts_at.astimezone(NEW_YORK) == datetime(2026, 3, 8, 18, tzinfo=NEW_YORK)


def test_a_start_inside_the_spring_gap_takes_the_offset_before_the_change():
    found = slots("FREQ=DAILY", start=time(2, 30), minutes=60, window=(date(2026, 3, 8), date(2026, 3, 8)))
    assert found[0].starts_at.astimezone(NEW_YORK).time() == time(3, 30)
    assert found[0].ends_at - found[0].starts_at == timedelta(hours=1)


def test_the_series_first_and_last_days_bound_the_window():
    found = slots(
        starts_on=date(2026, 3, 4), ends_on=date(2026, 3, 9), window=(date(2026, 3, 1), date(2026, 3, 31))
    )
    assert [s.local_date for s in found] == [date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 9)]


def test_expansion_is_deterministic_so_regenerating_finds_the_same_natural_keys():
    assert [s.original_start for s in slots()] == [s.original_start for s in slots()]


@given(
    start_day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    hour=st.integers(min_value=6, max_value=20),
    minute=st.sampled_from([0, 15, 30, 45]),
    zone=st.sampled_from(
        ["America/New_York", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "UTC"]
    ),
)
def test_every_occurrence_starts_at_the_local_time_on_a_rule_day(start_day, hour, minute, zone):
    found = slots(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        start=time(hour, minute),
        minutes=90,
        starts_on=start_day,
        tz=zone,
        window=(start_day, start_day + timedelta(days=69)),
    )
    assert len(found) == 30  # 10 weeks x 3 days
    for slot in found:
        local = slot.starts_at.astimezone(ZoneInfo(zone))
        assert local.time() == time(hour, minute)
        assert local.date() == slot.local_date
        assert local.isoweekday() in {1, 3, 5}


@pytest.mark.parametrize(
    ("rule", "kwargs", "message"),
    [
        ("FREQ=WEEKLY;BYDAY=MO", {"ends_on": date(2026, 1, 1)}, "before the first day"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", {}, "never occurs"),
        ("FREQ=WEEKLY;BYDAY=SA", {"ends_on": date(2026, 3, 6)}, "never occurs"),  # Mon 2 - Fri 6 only
        ("FREQ=HOURLY", {}, "not within a day"),
        ("FREQ=WEEKLY;BYDAY=XX", {}, "not a valid"),
        ("nonsense", {}, "not a valid"),
        ("", {}, "Give a recurrence rule"),
        ("FREQ=WEEKLY;COUNT=3", {}, "UNTIL and COUNT"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", {}, "without DTSTART"),
        ("FREQ=WEEKLY;BYDAY=MO", {"duration_minutes": 0}, "between 5 minutes"),
        ("FREQ=WEEKLY;BYDAY=MO", {"start_time": time(23), "duration_minutes": 120}, "before midnight"),
    ],
)
def test_bad_rules_and_ranges_are_refused_with_a_message(rule, kwargs, message):
    args = {
        "start_time": time(9),
        "duration_minutes": 60,
        "starts_on": date(2026, 3, 2),
        "ends_on": None,
    } | kwargs
    with pytest.raises(RecurrenceError, match=message):
        validate(rule, tz="America/New_York", **args)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(RecurrenceError, match="time zone"):
        validate(
            MON_THU,
            start_time=time(9),
            duration_minutes=60,
            starts_on=date(2026, 3, 2),
            ends_on=None,
            tz="Mars/Olympus",
        )


def test_a_good_rule_validates():
    validate(
        MON_THU,
        start_time=time(9),
        duration_minutes=180,
        starts_on=date(2026, 3, 2),
        ends_on=None,
        tz="America/New_York",
    )


def test_rules_are_described_for_people():
    assert (
        describe(MON_THU, start_time=time(9), duration_minutes=180)
        == "Mon, Tue, Wed, Thu 09:00-12:00 (weekly)"
    )
    assert (
        describe("FREQ=WEEKLY;BYDAY=TU", start_time=time(18), duration_minutes=90)
        == "Tue 18:00-19:30 (weekly)"
    )
    assert weekdays_of(MON_THU) == [1, 2, 3, 4]
