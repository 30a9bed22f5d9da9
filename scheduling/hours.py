"""Weekly hours, attendance rate, billable days and retention (no Django): plain data in,
plain data out, so the rules are tested exhaustively (scheduling/tests/test_hours.py).

Definitions (ADR 0010):
- A *session record* is one scheduled session of one patient (a group occurrence they were
  enrolled in, or an appointment), not cancelled, with its attendance status once recorded.
- *Attendance rate*: minutes attended / minutes scheduled over the recorded sessions, leaving
  out excused absences (the patient was not expected). None when nothing is recorded yet.
- *Clinical hours*: only sessions whose type counts toward clinical hours (a mutual-help
  meeting does not). Scheduled hours count every scheduled clinical session of the week,
  recorded or not; attended hours count the minutes recorded.
- *Billable day*: a day with at least `billable_day_minutes` clinical minutes attended
  (default 180: H0015 per diem needs 3 hours of services that day).
- *Retention*: `n` unexcused absences in a row (excused absences neither count nor break the
  run; an attended session breaks it) raise an alert for the case manager.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

PRESENT, LATE, LEFT_EARLY, ABSENT, EXCUSED = "present", "late", "left_early", "absent", "excused"
ATTENDED = frozenset({PRESENT, LATE, LEFT_EARLY})
DEFAULT_BILLABLE_DAY_MINUTES = 180
DEFAULT_MISSED_IN_A_ROW = 2


@dataclass(frozen=True)
class SessionRecord:
    day: date
    scheduled_minutes: int
    status: str | None = None  # None: not recorded yet
    attended_minutes: int = 0
    clinical: bool = True

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED


@dataclass(frozen=True)
class Requirement:
    sessions_per_week: int
    min_hours_per_week: Decimal

    @property
    def minutes(self) -> int:
        return int(Decimal(self.min_hours_per_week) * 60)


@dataclass(frozen=True)
class WeekSummary:
    week_start: date
    sessions_scheduled: int
    sessions_attended: int
    scheduled_minutes: int  # clinical, scheduled
    attended_minutes: int  # clinical, attended
    required_minutes: int
    required_sessions: int
    attendance_rate: Decimal | None
    billable_days: tuple[date, ...]

    @property
    def scheduled_hours(self) -> Decimal:
        return hours(self.scheduled_minutes)

    @property
    def attended_hours(self) -> Decimal:
        return hours(self.attended_minutes)

    @property
    def required_hours(self) -> Decimal:
        return hours(self.required_minutes)

    @property
    def scheduled_meets_requirement(self) -> bool:
        return (
            self.scheduled_minutes >= self.required_minutes
            and self.sessions_scheduled >= self.required_sessions
        )

    @property
    def attended_meets_requirement(self) -> bool:
        return self.attended_minutes >= self.required_minutes

    @property
    def scheduled_shortfall_minutes(self) -> int:
        return max(0, self.required_minutes - self.scheduled_minutes)


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
OUT_OF_RANGE = f"Choose a date between {FIRST_DAY:%Y} and {LAST_DAY:%Y}."


def parse_day(raw: str) -> date:
    """An ISO date from a query string, within the calendar's range: a year like 9999 would
    overflow the week arithmetic (a 500), so it is refused like a malformed date (ValueError)."""
    day = date.fromisoformat(raw)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"A date between {FIRST_DAY} and {LAST_DAY}.")
    return day


def week_start(day: date) -> date:
    """The Monday of `day`'s week (ISO weeks, as the phases count sessions per week)."""
    return day - timedelta(days=day.weekday())


def attendance_rate(records: Iterable[SessionRecord]) -> Decimal | None:
    """Minutes attended / minutes expected over recorded, non-excused sessions (0..1, 3 places)."""
    expected = attended = 0
    for record in records:
        if record.status is None or record.status == EXCUSED:
            continue
        expected += record.scheduled_minutes
        attended += min(record.attended_minutes, record.scheduled_minutes) if record.attended else 0
    if expected == 0:
        return None
    return (Decimal(attended) / Decimal(expected)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def clinical_minutes_by_day(records: Iterable[SessionRecord]) -> dict[date, int]:
    by_day: dict[date, int] = defaultdict(int)
    for record in records:
        if record.clinical and record.attended:
            by_day[record.day] += min(record.attended_minutes, record.scheduled_minutes)
    return dict(by_day)


def billable_days(
    records: Iterable[SessionRecord], *, min_minutes: int = DEFAULT_BILLABLE_DAY_MINUTES
) -> list[date]:
    """The days with at least `min_minutes` clinical minutes attended, in order."""
    return sorted(day for day, minutes in clinical_minutes_by_day(records).items() if minutes >= min_minutes)


def summarize_week(
    records: Iterable[SessionRecord],
    *,
    week_of: date,
    requirement: Requirement | None,
    billable_day_minutes: int = DEFAULT_BILLABLE_DAY_MINUTES,
) -> WeekSummary:
    """Hours and sessions of the ISO week containing `week_of` (records outside it are ignored)."""
    monday = week_start(week_of)
    in_week = [r for r in records if monday <= r.day < monday + timedelta(days=7)]
    clinical = [r for r in in_week if r.clinical]
    return WeekSummary(
        week_start=monday,
        sessions_scheduled=len(in_week),
        sessions_attended=sum(1 for r in in_week if r.attended),
        scheduled_minutes=sum(r.scheduled_minutes for r in clinical),
        attended_minutes=sum(min(r.attended_minutes, r.scheduled_minutes) for r in clinical if r.attended),
        required_minutes=requirement.minutes if requirement else 0,
        required_sessions=requirement.sessions_per_week if requirement else 0,
        attendance_rate=attendance_rate(in_week),
        billable_days=tuple(billable_days(in_week, min_minutes=billable_day_minutes)),
    )


def missed_in_a_row(statuses: Sequence[str | None], *, n: int = DEFAULT_MISSED_IN_A_ROW) -> int:
    """The length of the run of unexcused absences at the end of `statuses` (oldest first),
    skipping excused absences and unrecorded sessions; compare it with `n` via `needs_retention_alert`."""
    if n < 1:
        raise ValueError("n must be at least 1")
    run = 0
    for status in reversed(statuses):
        if status is None or status == EXCUSED:
            continue
        if status == ABSENT:
            run += 1
        else:
            break
    return run


def needs_retention_alert(statuses: Sequence[str | None], *, n: int = DEFAULT_MISSED_IN_A_ROW) -> bool:
    return missed_in_a_row(statuses, n=n) >= n


def remaining_absences(unexcused_absences: int, *, allowed: int) -> int:
    """How many more unexcused absences the policy allows in its window (never below 0)."""
    return max(0, allowed - unexcused_absences)


def excused_in_time(*, notified_at: datetime, session_starts_at: datetime, notice_hours: int) -> bool:
    """Whether an absence announced at `notified_at` came early enough to be excused."""
    return session_starts_at - notified_at >= timedelta(hours=notice_hours)
