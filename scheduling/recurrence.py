"""Recurrence expansion for group series (no Django): RFC 5545 rules through python-dateutil.

A series is defined in its site's *local* wall-clock time: "Mon-Thu 9:00 for 180 minutes".
The rule is expanded over naive local datetimes and each instant is then placed in the site's
time zone, so a 9:00 group stays at 9:00 local on both sides of a daylight-saving change (its
UTC instant moves instead). A start that falls in the spring-forward gap (02:30 on the day
clocks jump from 02:00 to 03:00) is taken with the offset before the change, i.e. 03:30 local:
the same choice as RFC 5545 section 3.3.5.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
# A rule with no end must still occur within this long after its start to be accepted.
OPEN_ENDED_HORIZON_DAYS = 366
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_LABELS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class RecurrenceError(ValueError):
    """A rule, time or date range that cannot make a schedule; the message is for the user and
    `field` names what to correct (recurrence_rule, ends_on, duration_minutes, timezone)."""

    def __init__(self, message: str, field: str = "recurrence_rule"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Slot:
    """One occurrence: `original_start` is the rule's instant (the natural key); `starts_at`
    and `ends_at` are aware datetimes in UTC; `local_date` is the day at the site."""

    original_start: datetime
    starts_at: datetime
    ends_at: datetime
    local_date: date


def _zone(tz) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise RecurrenceError(f"Unknown time zone {tz!r}.", "timezone") from error


def parse_rule(rule_text: str, dtstart: datetime) -> rrule:
    """The rule as a dateutil `rrule` starting at `dtstart` (naive local); RecurrenceError if bad."""
    text = (rule_text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        raise RecurrenceError("Give a recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH.")
    upper = text.upper()
    if "DTSTART" in upper or "\n" in text:
        raise RecurrenceError("Give one RRULE without DTSTART: the series' first day and start time set it.")
    if "UNTIL=" in upper or "COUNT=" in upper:
        raise RecurrenceError("Leave UNTIL and COUNT out of the rule: the series' last day sets the end.")
    try:
        rule = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise RecurrenceError(f"This is not a valid RFC 5545 recurrence rule ({error}).") from error
    if not isinstance(rule, rrule):
        raise RecurrenceError("Give a single RRULE.")
    if rule._freq not in ALLOWED_FREQUENCIES:  # noqa: SLF001 (dateutil exposes no getter)
        raise RecurrenceError("A group repeats daily, weekly, monthly or yearly, not within a day.")
    return rule


def validate(
    rule_text: str,
    *,
    start_time: time,
    duration_minutes: int,
    starts_on: date,
    ends_on: date | None,
    tz="UTC",
) -> None:
    """Refuse (RecurrenceError) an end before the start, a duration out of range, a session that
    runs past midnight, or a rule that never occurs between the first and last day."""
    _zone(tz)
    if ends_on is not None and ends_on < starts_on:
        raise RecurrenceError("The last day is before the first day.", "ends_on")
    if not 5 <= duration_minutes <= 12 * 60:
        raise RecurrenceError("A session lasts between 5 minutes and 12 hours.", "duration_minutes")
    start = datetime.combine(starts_on, start_time)
    if (start + timedelta(minutes=duration_minutes)).date() != starts_on:
        raise RecurrenceError(
            "A session must end on the day it starts (before midnight).", "duration_minutes"
        )
    rule = parse_rule(rule_text, start)
    last = ends_on if ends_on is not None else starts_on + timedelta(days=OPEN_ENDED_HORIZON_DAYS)
    if rule.after(start, inc=True) is None or rule.after(start, inc=True) > datetime.combine(
        last, start_time
    ):
        raise RecurrenceError(
            "This rule never occurs between the first and last day"
            + ("." if ends_on is not None else " (within a year of the first day).")
        )


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """An aware instant for a local wall-clock time; times in a DST gap take the offset before it."""
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC)


def expand(
    rule_text: str,
    *,
    start_time: time,
    duration_minutes: int,
    starts_on: date,
    ends_on: date | None,
    tz,
    window_start: date,
    window_end: date,
) -> Iterator[Slot]:
    """The occurrences of a series whose local date is in [window_start, window_end] (inclusive)
    and in the series' own [starts_on, ends_on]."""
    zone = _zone(tz)
    rule = parse_rule(rule_text, datetime.combine(starts_on, start_time))
    first = max(window_start, starts_on)
    last = window_end if ends_on is None else min(window_end, ends_on)
    if last < first:
        return
    for local_start in rule.between(
        datetime.combine(first, time.min), datetime.combine(last, time.max), inc=True
    ):
        starts_at = _localize(local_start, zone)
        local_end = local_start + timedelta(minutes=duration_minutes)
        ends_at = _localize(local_end, zone)
        if ends_at <= starts_at:  # the end fell into a DST gap behind the start: keep the length
            ends_at = starts_at + timedelta(minutes=duration_minutes)
        yield Slot(
            original_start=starts_at, starts_at=starts_at, ends_at=ends_at, local_date=local_start.date()
        )


def describe(rule_text: str, *, start_time: time, duration_minutes: int) -> str:
    """A short human description, e.g. 'Mon, Tue, Wed, Thu 09:00-12:00 (weekly)'."""
    end = (datetime.combine(date(2000, 1, 3), start_time) + timedelta(minutes=duration_minutes)).time()
    parts = dict(
        part.split("=", 1)
        for part in (rule_text or "").upper().replace("RRULE:", "").split(";")
        if "=" in part
    )
    days = ", ".join(
        WEEKDAY_LABELS[WEEKDAY_CODES.index(code[-2:])]
        for code in parts.get("BYDAY", "").split(",")
        if code[-2:] in WEEKDAY_CODES
    )
    every = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}.get(
        parts.get("FREQ", ""), parts.get("FREQ", "").lower()
    )
    if parts.get("INTERVAL", "1") not in {"", "1"}:
        every = f"every {parts['INTERVAL']} {every.removesuffix('ly').replace('dai', 'day')}s"
    return f"{days + ' ' if days else ''}{start_time:%H:%M}-{end:%H:%M} ({every})"


def weekdays_of(rule_text: str) -> list[int]:
    """The ISO weekdays (1 = Monday) named by BYDAY, or [] when the rule names none."""
    parts = dict(
        part.split("=", 1)
        for part in (rule_text or "").upper().replace("RRULE:", "").split(";")
        if "=" in part
    )
    return sorted(
        {
            WEEKDAY_CODES.index(code[-2:]) + 1
            for code in parts.get("BYDAY", "").split(",")
            if code[-2:] in WEEKDAY_CODES
        }
    )
