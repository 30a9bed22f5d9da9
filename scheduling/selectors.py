"""Reads of scheduling data for pages, the API, other apps and reports. Patient-scoped reads
start from what `patients.access` lets the user see; the roster adds the facilitator's reach
(scheduling.permissions, ADR 0010)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from patients.access import visible_patients
from patients.models import AvailabilityWindow, Episode, Patient
from scheduling import hours, permissions
from scheduling.default_catalogue import DEFAULT_POLICY
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    AttendancePolicy,
    AttendanceStatus,
    Enrolment,
    GroupSeries,
    Occurrence,
    OccurrenceStatus,
    Room,
    SessionType,
)


def enrolled_on(day: date) -> Q:
    """Enrolments that hold a place on `day`."""
    return Q(joined_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gte=day))


def rooms_for(user) -> QuerySet[Room]:
    rooms = Room.objects.select_related("site")
    return rooms if user.is_superuser else rooms.filter(site__in=user.sites.all())


def session_types() -> QuerySet[SessionType]:
    return SessionType.objects.all()


def series_for(user) -> QuerySet[GroupSeries]:
    """The series at the user's sites, with how many hold a place today."""
    today = timezone.localdate()
    series = GroupSeries.objects.select_related("site", "room", "facilitator", "session_type", "topic_cycle")
    if not user.is_superuser:
        series = series.filter(site__in=user.sites.all())
    enrolled = (
        Enrolment.objects.filter(series=OuterRef("pk"))
        .filter(enrolled_on(today))
        .order_by()
        .values("series")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return series.annotate(enrolled_today=Coalesce(Subquery(enrolled), 0))


def occurrences_of(series: GroupSeries, *, first: date, last: date) -> QuerySet[Occurrence]:
    return series.occurrences.filter(local_date__range=(first, last)).select_related("room", "facilitator")


def with_roster_counts(queryset: QuerySet[Occurrence]) -> QuerySet[Occurrence]:
    enrolled = (
        Enrolment.objects.filter(series=OuterRef("series"), joined_on__lte=OuterRef("local_date"))
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=OuterRef("local_date")))
        .order_by()
        .values("series")
        .annotate(n=Count("pk"))
        .values("n")
    )
    recorded = (
        Attendance.objects.filter(occurrence=OuterRef("pk"))
        .order_by()
        .values("occurrence")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        enrolled_count=Coalesce(Subquery(enrolled), 0), recorded_count=Coalesce(Subquery(recorded), 0)
    )


def todays_sessions_for(user, *, day: date | None = None) -> QuerySet[Occurrence]:
    """The occurrences `user` facilitates on `day` (default today), with roster and recorded counts."""
    day = day or timezone.localdate()
    return with_roster_counts(
        Occurrence.objects.filter(facilitator=user, local_date=day).select_related(
            "series__session_type", "room"
        )
    ).order_by("starts_at")


def occurrence_for(user, public_id) -> Occurrence | None:
    """An occurrence at one of the user's sites (None otherwise: the page answers 404)."""
    occurrences = Occurrence.objects.select_related(
        "series__site", "series__session_type", "series__topic_cycle", "room", "facilitator"
    )
    if not user.is_superuser:
        occurrences = occurrences.filter(series__site__in=user.sites.all())
    return occurrences.filter(public_id=public_id).first()


@dataclass
class RosterRow:
    episode: Episode
    patient: Patient
    attendance: Attendance | None
    enrolled: bool


def roster(occurrence: Occurrence, user) -> list[RosterRow]:
    """Who is on the occurrence's roster (enrolled that day, or with attendance recorded),
    in name order: everyone for the facilitator and whole-site roles, otherwise only the
    patients `user` sees. Three queries at most, whatever the group's size."""
    enrolments = (
        Enrolment.objects.filter(series_id=occurrence.series_id)
        .filter(enrolled_on(occurrence.local_date))
        .select_related("episode__patient")
    )
    attendance = {
        row.episode_id: row
        for row in Attendance.objects.filter(occurrence=occurrence).select_related("episode__patient")
    }
    rows: dict[int, RosterRow] = {}
    for enrolment in enrolments:
        episode = enrolment.episode
        rows[episode.pk] = RosterRow(episode, episode.patient, attendance.get(episode.pk), True)
    for episode_id, row in attendance.items():
        if episode_id not in rows:
            rows[episode_id] = RosterRow(row.episode, row.episode.patient, row, False)
    result = list(rows.values())
    if not permissions.sees_whole_roster(user, occurrence):
        visible = set(
            visible_patients(user).filter(pk__in=[r.patient.pk for r in result]).values_list("pk", flat=True)
        )
        result = [row for row in result if row.patient.pk in visible]
    result.sort(key=lambda r: (r.patient.legal_last_name, r.patient.legal_first_name, r.patient.pk))
    return result


def policy_for(program_id: int) -> AttendancePolicy:
    policy = AttendancePolicy.objects.filter(program_id=program_id).first()
    return policy or AttendancePolicy(program_id=program_id, **DEFAULT_POLICY)


@dataclass(frozen=True)
class ScheduledSession:
    """One session on a patient's schedule (group occurrence or appointment)."""

    kind: str  # "group" or "appointment"
    title: str
    starts_at: object
    ends_at: object
    local_date: date
    room: str
    minutes: int
    clinical: bool
    cancelled: bool
    attendance: Attendance | None
    topic: str = ""
    public_id: object = None  # the appointment's (appointments only)
    with_whom: str = ""


def sessions_of_episode(episode: Episode, *, first: date, last: date) -> list[ScheduledSession]:
    """The episode's sessions between two local dates: occurrences of its series on days it was
    enrolled, and its appointments; cancelled ones included (marked). Four queries."""
    enrolments = list(
        Enrolment.objects.filter(episode=episode, joined_on__lte=last).filter(
            Q(left_on__isnull=True) | Q(left_on__gte=first)
        )
    )
    by_series = defaultdict(list)
    for enrolment in enrolments:
        by_series[enrolment.series_id].append(enrolment)
    attendance = {
        (row.occurrence_id, row.appointment_id): row
        for row in Attendance.objects.filter(episode=episode, local_date__range=(first, last))
    }
    sessions: list[ScheduledSession] = []
    occurrences = Occurrence.objects.filter(
        series_id__in=list(by_series), local_date__range=(first, last)
    ).select_related("series__session_type", "series__topic_cycle", "room")
    topics = {}
    for occurrence in occurrences:
        if not any(e.is_enrolled_on(occurrence.local_date) for e in by_series[occurrence.series_id]):
            if (occurrence.pk, None) not in attendance:
                continue
        topic = ""
        if occurrence.topic_index is not None and occurrence.series.topic_cycle_id:
            cycle_id = occurrence.series.topic_cycle_id
            if cycle_id not in topics:
                topics[cycle_id] = {t.position: t.title for t in occurrence.series.topic_cycle.topics.all()}
            topic = topics[cycle_id].get(occurrence.topic_index, "")
        sessions.append(
            ScheduledSession(
                kind="group",
                title=occurrence.series.name,
                starts_at=occurrence.starts_at,
                ends_at=occurrence.ends_at,
                local_date=occurrence.local_date,
                room=occurrence.room.name,
                minutes=occurrence.minutes,
                clinical=occurrence.series.session_type.counts_toward_clinical_hours,
                cancelled=occurrence.is_cancelled,
                attendance=attendance.get((occurrence.pk, None)),
                topic=topic,
            )
        )
    appointments = Appointment.objects.filter(
        episode=episode, local_date__range=(first, last)
    ).select_related("session_type", "room")
    for appointment in appointments:
        sessions.append(
            ScheduledSession(
                kind="appointment",
                title=appointment.session_type.name,
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                local_date=appointment.local_date,
                room=appointment.room.name if appointment.room else "",
                minutes=appointment.minutes,
                clinical=appointment.session_type.counts_toward_clinical_hours,
                cancelled=appointment.status == AppointmentStatus.CANCELLED,
                attendance=attendance.get((None, appointment.pk)),
                public_id=appointment.public_id,
                with_whom=appointment.staff.get_full_name() or appointment.staff.username,
            )
        )
    sessions.sort(key=lambda s: s.starts_at)
    return sessions


def as_records(sessions: list[ScheduledSession]) -> list[hours.SessionRecord]:
    """The pure module's view of a schedule (cancelled sessions were never given: left out)."""
    return [
        hours.SessionRecord(
            day=s.local_date,
            scheduled_minutes=s.attendance.session_minutes if s.attendance else s.minutes,
            status=s.attendance.status if s.attendance else None,
            attended_minutes=s.attendance.minutes_attended if s.attendance else 0,
            clinical=s.attendance.counts_toward_clinical_hours if s.attendance else s.clinical,
        )
        for s in sessions
        if not s.cancelled
    ]


def requirement_of(episode: Episode) -> hours.Requirement | None:
    phase = episode.current_phase
    if phase is None:
        return None
    return hours.Requirement(
        sessions_per_week=phase.sessions_per_week, min_hours_per_week=phase.min_hours_per_week
    )


def weekly_hours(episode: Episode, *, week_of: date | None = None) -> hours.WeekSummary:
    """Hours scheduled and attended in the week of `week_of` against the phase's requirement."""
    week_of = week_of or timezone.localdate()
    monday = hours.week_start(week_of)
    sessions = sessions_of_episode(episode, first=monday, last=monday + timedelta(days=6))
    policy = policy_for(episode.program_id)
    return hours.summarize_week(
        as_records(sessions),
        week_of=monday,
        requirement=requirement_of(episode),
        billable_day_minutes=policy.billable_day_minutes,
    )


@dataclass(frozen=True)
class CaseloadHours:
    patient: Patient
    scheduled_minutes: int
    required_minutes: int
    sessions_scheduled: int
    required_sessions: int

    @property
    def scheduled_hours(self):
        return hours.hours(self.scheduled_minutes)

    @property
    def required_hours(self):
        return hours.hours(self.required_minutes)

    @property
    def under_scheduled(self) -> bool:
        return (
            self.scheduled_minutes < self.required_minutes or self.sessions_scheduled < self.required_sessions
        )

    @property
    def shortfall_hours(self):
        return hours.hours(max(0, self.required_minutes - self.scheduled_minutes))


def scheduled_hours_for(patients: list[Patient], *, week_of: date | None = None) -> list[CaseloadHours]:
    """Each patient's scheduled clinical hours this week (current episode) against their phase's
    requirement, under-scheduled first. Four queries for any number of patients (the patients
    come with `current_episode__current_phase` selected)."""
    week_of = week_of or timezone.localdate()
    monday = hours.week_start(week_of)
    sunday = monday + timedelta(days=6)
    episodes = {p.current_episode_id: p for p in patients if p.current_episode_id}
    enrolments = list(
        Enrolment.objects.filter(episode_id__in=list(episodes), joined_on__lte=sunday).filter(
            Q(left_on__isnull=True) | Q(left_on__gte=monday)
        )
    )
    occurrences = (
        Occurrence.objects.filter(
            series_id__in={e.series_id for e in enrolments},
            local_date__range=(monday, sunday),
            status=OccurrenceStatus.SCHEDULED,
        )
        .select_related("series__session_type")
        .only(
            "series_id",
            "local_date",
            "starts_at",
            "ends_at",
            "series__session_type__counts_toward_clinical_hours",
        )
    )
    minutes: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    by_series = defaultdict(list)
    for enrolment in enrolments:
        by_series[enrolment.series_id].append(enrolment)
    for occurrence in occurrences:
        for enrolment in by_series[occurrence.series_id]:
            if enrolment.is_enrolled_on(occurrence.local_date):
                counts[enrolment.episode_id] += 1
                if occurrence.series.session_type.counts_toward_clinical_hours:
                    minutes[enrolment.episode_id] += occurrence.minutes
    appointments = Appointment.objects.filter(
        episode_id__in=list(episodes), local_date__range=(monday, sunday), status=AppointmentStatus.SCHEDULED
    ).select_related("session_type")
    for appointment in appointments:
        counts[appointment.episode_id] += 1
        if appointment.session_type.counts_toward_clinical_hours:
            minutes[appointment.episode_id] += appointment.minutes
    rows = []
    for episode_id, patient in episodes.items():
        phase = patient.current_episode.current_phase
        rows.append(
            CaseloadHours(
                patient=patient,
                scheduled_minutes=minutes[episode_id],
                required_minutes=int(phase.min_hours_per_week * 60) if phase else 0,
                sessions_scheduled=counts[episode_id],
                required_sessions=phase.sessions_per_week if phase else 0,
            )
        )
    rows.sort(
        key=lambda r: (
            not r.under_scheduled,
            r.scheduled_minutes - r.required_minutes,
            r.patient.legal_last_name,
        )
    )
    return rows


def enrolments_of(episode: Episode) -> QuerySet[Enrolment]:
    return episode.enrolments.select_related(
        "series__room", "series__facilitator", "series__session_type"
    ).order_by("-joined_on")


def attendance_history(episode: Episode, *, limit: int = 50) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(episode=episode)
        .select_related("occurrence__series", "appointment__session_type")
        .order_by("-local_date", "-id")[:limit]
    )


def recent_statuses(episode: Episode, *, limit: int = 20) -> list[str]:
    """The episode's latest attendance statuses, oldest first (for the retention rule)."""
    rows = (
        Attendance.objects.filter(episode=episode)
        .order_by("-local_date", "-id")
        .values_list("status", flat=True)
    )
    return list(reversed(list(rows[:limit])))


def missed_days(episode: Episode, *, first: date, last: date) -> dict[date, str]:
    """Days between `first` and `last` on which the episode missed a session, with "excused" when
    every missed session that day was excused and "absent" otherwise. For other apps (e.g.
    random testing, which may treat an excused day differently): no attendance: not in the dict."""
    return missed_days_by_episode([episode.pk], first=first, last=last).get(episode.pk, {})


def missed_days_by_episode(episode_ids, *, first: date, last: date) -> dict[int, dict[date, str]]:
    """`missed_days` for many episodes in one query (random testing's daily pool): episode id ->
    {day: "excused" | "absent"}; episodes with no missed day are left out. `episode_ids` is a
    list or a queryset of ids (a subquery, cheaper than a long IN list)."""
    days: dict[int, dict[date, str]] = defaultdict(dict)
    if last < first:
        return {}
    rows = Attendance.objects.filter(
        episode_id__in=episode_ids,
        local_date__range=(first, last),
        status__in=[AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED],
    ).values_list("episode_id", "local_date", "status")
    for episode_id, day, status in rows:
        if days[episode_id].get(day) != AttendanceStatus.ABSENT:
            days[episode_id][day] = status
    return dict(days)


# --- The schedule builder's inputs -------------------------------------------------------------


@dataclass
class BuilderInputs:
    need: object  # scheduling.builder.Need
    candidates: list
    busy: list
    current: set
    series: dict  # key -> GroupSeries
    enrolments: dict  # key -> the episode's open Enrolment in that series
    week_start: date


def builder_inputs(episode: Episode, *, starting_on: date) -> BuilderInputs:
    """Everything `scheduling.builder.propose` needs for an episode, read in a fixed number of
    queries: the site's active series with their meetings in the week from `starting_on`'s
    Monday (local times), how full each is that day, the patient's availability windows and
    appointments, and the series they are in."""
    from scheduling import builder
    from scheduling.conflicts import _series_slots

    monday = hours.week_start(starting_on)
    series_list = list(
        GroupSeries.objects.filter(site_id=episode.site_id, is_active=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starting_on))
        .select_related("site", "session_type")
        .prefetch_related("phases")
    )
    taken = dict(
        Enrolment.objects.filter(series__in=series_list)
        .filter(enrolled_on(starting_on))
        .order_by()
        .values("series")
        .annotate(n=Count("pk"))
        .values_list("series", "n")
    )
    mine = {
        str(e.series.public_id): e
        for e in Enrolment.objects.filter(episode=episode)
        .filter(enrolled_on(starting_on))
        .select_related("series")
    }
    candidates, by_key = [], {}
    for series in series_list:
        key = str(series.public_id)
        by_key[key] = series
        zone = series.site.timezone
        meetings = tuple(
            builder.Meeting(
                slot.local_date.isoweekday(),
                slot.starts_at.astimezone(zone).time(),
                slot.ends_at.astimezone(zone).time(),
            )
            for slot in _series_slots(series, monday, monday + timedelta(days=6))
        )
        phases = {phase.pk for phase in series.phases.all()}
        candidates.append(
            builder.Candidate(
                key=key,
                name=series.name,
                meetings=meetings,
                clinical=series.session_type.counts_toward_clinical_hours,
                full=taken.get(series.pk, 0) >= series.capacity,
                serves_phase=not phases or episode.current_phase_id in phases,
            )
        )
    busy = [
        builder.Meeting(w.weekday, w.starts_at, w.ends_at)
        for w in AvailabilityWindow.objects.filter(patient_id=episode.patient_id)
    ]
    for appointment in Appointment.objects.filter(
        episode=episode,
        status=AppointmentStatus.SCHEDULED,
        local_date__range=(monday, monday + timedelta(days=6)),
    ).select_related("site"):
        zone = appointment.site.timezone
        busy.append(
            builder.Meeting(
                appointment.local_date.isoweekday(),
                appointment.starts_at.astimezone(zone).time(),
                appointment.ends_at.astimezone(zone).time(),
            )
        )
    requirement = requirement_of(episode)
    need = builder.Need(
        sessions=requirement.sessions_per_week if requirement else 0,
        minutes=requirement.minutes if requirement else 0,
    )
    return BuilderInputs(need, candidates, busy, set(mine), by_key, mine, monday)


# --- Curriculum and the attendance policy on the chart ------------------------------------------


@dataclass(frozen=True)
class TopicProgress:
    position: int
    title: str
    status: str  # "attended", "missed", "upcoming", "not yet"
    make_up_on: date | None = None  # the next session with this topic, if missed
    make_up_before_phase_end: bool = False


@dataclass(frozen=True)
class CurriculumProgress:
    series: GroupSeries
    cycle_name: str
    topics: list

    @property
    def missed(self) -> list:
        return [t for t in self.topics if t.status == "missed"]


def curriculum_progress(episode: Episode, *, today: date | None = None) -> list[CurriculumProgress]:
    """For each curriculum series the episode is in: which modules they attended, which they
    missed (absent, excused, cancelled or not recorded while enrolled) and not made up since,
    and the next session of a missed module, flagged when it falls before the phase's planned
    end (phase start + its minimum weeks). Four queries."""
    today = today or timezone.localdate()
    enrolments = list(
        Enrolment.objects.filter(episode=episode, series__topic_cycle__isnull=False).select_related(
            "series__topic_cycle"
        )
    )
    if not enrolments:
        return []
    cycles = {e.series.topic_cycle_id for e in enrolments}
    from scheduling.models import CurriculumTopic

    topics_by_cycle = defaultdict(list)
    for topic in CurriculumTopic.objects.filter(cycle_id__in=cycles).order_by("position"):
        topics_by_cycle[topic.cycle_id].append(topic)
    first = min(e.joined_on for e in enrolments)
    occurrences = list(
        Occurrence.objects.filter(series_id__in={e.series_id for e in enrolments}, local_date__gte=first)
        .exclude(topic_index__isnull=True)
        .order_by("starts_at")
    )
    attended = set(
        Attendance.objects.filter(
            episode=episode,
            occurrence__in=[o.pk for o in occurrences if o.local_date <= today],
            status__in=["present", "late", "left_early"],
        ).values_list("occurrence_id", flat=True)
    )
    phase_end = None
    if episode.current_phase_id and episode.phase_started_on:
        phase_end = episode.phase_started_on + timedelta(weeks=episode.current_phase.min_weeks)
    result = []
    for enrolment in enrolments:
        series = enrolment.series
        mine = [o for o in occurrences if o.series_id == series.pk]
        rows = []
        for topic in topics_by_cycle[series.topic_cycle_id]:
            held = [o for o in mine if o.topic_index == topic.position]
            past = [o for o in held if o.local_date < today and enrolment.is_enrolled_on(o.local_date)]
            done = [o for o in past if o.pk in attended]
            future = [o for o in held if o.local_date >= today and o.status == OccurrenceStatus.SCHEDULED]
            if done:
                rows.append(TopicProgress(topic.position, topic.title, "attended"))
            elif past:
                make_up = future[0].local_date if future else None
                rows.append(
                    TopicProgress(
                        topic.position,
                        topic.title,
                        "missed",
                        make_up,
                        bool(make_up and phase_end and make_up <= phase_end),
                    )
                )
            elif future:
                rows.append(TopicProgress(topic.position, topic.title, "upcoming", future[0].local_date))
            else:
                rows.append(TopicProgress(topic.position, topic.title, "not yet"))
        result.append(CurriculumProgress(series, series.topic_cycle.name, rows))
    return result


@dataclass(frozen=True)
class AbsenceAllowance:
    unexcused: int
    allowed: int
    window_weeks: int
    remaining: int


def absence_allowance(episode: Episode, *, today: date | None = None) -> AbsenceAllowance:
    """Unexcused absences in the policy's window (e.g. 12 weeks) against what it allows."""
    today = today or timezone.localdate()
    policy = policy_for(episode.program_id)
    since = today - timedelta(weeks=policy.absence_window_weeks)
    unexcused = Attendance.objects.filter(
        episode=episode, status=AttendanceStatus.ABSENT, local_date__gt=since, local_date__lte=today
    ).count()
    return AbsenceAllowance(
        unexcused,
        policy.max_unexcused_absences,
        policy.absence_window_weeks,
        hours.remaining_absences(unexcused, allowed=policy.max_unexcused_absences),
    )


# --- Calendars ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    starts_at: object
    ends_at: object
    title: str
    where: str
    url: str = ""


def initials(patient) -> str:
    """A patient as a calendar may name them (feeds, week views): initials only."""
    first = (patient.preferred_name or patient.legal_first_name or "?")[:1]
    return f"{first}.{(patient.legal_last_name or '?')[:1]}."


def person_name(user) -> str:
    return user.get_full_name() or user.username


def calendar_days(
    *, first: date, last: date, staff=None, room=None, site=None
) -> list[tuple[date, list[CalendarEntry]]]:
    """Group sessions and appointments between two local dates, day by day, of one staff
    member, room or site (two queries). Appointments show the patient's initials only."""
    from django.urls import reverse

    occurrences = Occurrence.objects.filter(
        local_date__range=(first, last), status=OccurrenceStatus.SCHEDULED
    )
    appointments = Appointment.objects.filter(
        local_date__range=(first, last), status=AppointmentStatus.SCHEDULED
    )
    if staff is not None:
        occurrences, appointments = occurrences.filter(facilitator=staff), appointments.filter(staff=staff)
    if room is not None:
        occurrences, appointments = occurrences.filter(room=room), appointments.filter(room=room)
    if site is not None:
        occurrences, appointments = occurrences.filter(series__site=site), appointments.filter(site=site)
    by_day: dict[date, list[CalendarEntry]] = {
        first + timedelta(days=n): [] for n in range((last - first).days + 1)
    }
    for occurrence in occurrences.select_related("series", "room", "facilitator"):
        by_day[occurrence.local_date].append(
            CalendarEntry(
                occurrence.starts_at,
                occurrence.ends_at,
                occurrence.series.name,
                f"{occurrence.room.name} · {person_name(occurrence.facilitator)}",
                reverse("scheduling:roster", args=[occurrence.public_id]),
            )
        )
    for appointment in appointments.select_related("session_type", "room", "staff", "episode__patient"):
        where = appointment.room.name if appointment.room_id else ""
        who = appointment.staff.get_full_name() or appointment.staff.username
        by_day[appointment.local_date].append(
            CalendarEntry(
                appointment.starts_at,
                appointment.ends_at,
                f"{appointment.session_type.name}: {initials(appointment.episode.patient)}",
                f"{where} · {who}" if where else who,
            )
        )
    return [(day, sorted(entries, key=lambda e: e.starts_at)) for day, entries in by_day.items()]


def week_of_sessions_for(user, *, monday: date) -> list[tuple[date, list[CalendarEntry]]]:
    return calendar_days(first=monday, last=monday + timedelta(days=6), staff=user)


def has_live_feed(user) -> bool:
    from scheduling.models import CalendarFeed

    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).exists()
