"""Who and what is busy when: the clash checks the services run before any booking.

A room or a person is busy during a scheduled occurrence, a scheduled appointment, or an
occurrence a series will generate later (its rule, expanded for the days in question), so a
move made today cannot collide with an occurrence generated next month.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q

from scheduling import recurrence
from scheduling.models import Appointment, AppointmentStatus, GroupSeries, Occurrence, OccurrenceStatus

# How far two rules are compared when a series is created (a weekly or monthly rule repeats
# within a year; longer overlaps are checked again whenever occurrences are generated).
SERIES_COMPARISON_DAYS = 371


@dataclass(frozen=True)
class Clash:
    what: str
    starts_at: datetime
    ends_at: datetime

    def __str__(self) -> str:
        return f"{self.what} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"


def _series_slots(series: GroupSeries, first: date, last: date):
    return recurrence.expand(
        series.recurrence_rule,
        start_time=series.start_time,
        duration_minutes=series.duration_minutes,
        starts_on=series.starts_on,
        ends_on=series.ends_on,
        tz=series.site.timezone,
        window_start=first,
        window_end=last,
    )


def busy_clashes(
    *,
    starts_at: datetime,
    ends_at: datetime,
    room_id: int | None = None,
    person_id: int | None = None,
    exclude_occurrence_id: int | None = None,
    exclude_appointment_id: int | None = None,
) -> list[Clash]:
    """What already uses `room_id` or `person_id` (a facilitator or staff member) at that time."""
    if room_id is None and person_id is None:
        return []
    clashes: list[Clash] = []
    who = Q()
    if room_id is not None:
        who |= Q(room_id=room_id)
    if person_id is not None:
        who |= Q(facilitator_id=person_id)
    occurrences = (
        Occurrence.objects.filter(
            who, status=OccurrenceStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .exclude(pk=exclude_occurrence_id)
        .select_related("series")
    )
    clashes += [Clash(f"{o.series.name}", o.starts_at, o.ends_at) for o in occurrences]
    who = Q()
    if room_id is not None:
        who |= Q(room_id=room_id)
    if person_id is not None:
        who |= Q(staff_id=person_id)
    appointments = (
        Appointment.objects.filter(
            who, status=AppointmentStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .exclude(pk=exclude_appointment_id)
        .select_related("session_type")
    )
    clashes += [
        Clash(f"an appointment ({a.session_type.name})", a.starts_at, a.ends_at) for a in appointments
    ]
    # Occurrences not generated yet: the rules of active series in that room or with that person.
    who = Q()
    if room_id is not None:
        who |= Q(room_id=room_id)
    if person_id is not None:
        who |= Q(facilitator_id=person_id)
    first = (starts_at - timedelta(days=1)).date()
    last = (ends_at + timedelta(days=1)).date()
    generated = set(
        Occurrence.objects.filter(
            series__in=GroupSeries.objects.filter(who), local_date__range=(first, last)
        ).values_list("series_id", "original_start")
    )
    for series in GroupSeries.objects.filter(who, is_active=True).select_related("site"):
        for slot in _series_slots(series, first, last):
            if (series.pk, slot.original_start) in generated:
                continue  # the generated row (maybe moved or cancelled) speaks for it
            if slot.starts_at < ends_at and slot.ends_at > starts_at:
                clashes.append(Clash(series.name, slot.starts_at, slot.ends_at))
    return clashes


def series_room_clash(candidate: GroupSeries, *, exclude_series_id: int | None = None) -> Clash | None:
    """The first time another active series in the candidate's room meets at once with it."""
    others = GroupSeries.objects.filter(room_id=candidate.room_id, is_active=True).select_related("site")
    if exclude_series_id is not None:
        others = others.exclude(pk=exclude_series_id)
    for other in others:
        first = max(candidate.starts_on, other.starts_on)
        ends = [day for day in (candidate.ends_on, other.ends_on) if day is not None]
        last = min([*ends, first + timedelta(days=SERIES_COMPARISON_DAYS)])
        if last < first:
            continue
        mine = list(_series_slots(candidate, first, last))
        if not mine:
            continue
        theirs = list(_series_slots(other, first, last))
        for slot in mine:
            for their in theirs:
                if slot.starts_at < their.ends_at and their.starts_at < slot.ends_at:
                    return Clash(other.name, their.starts_at, their.ends_at)
    return None
