"""Schedules (issue 8, ADR 0010): rooms, a morning and an evening Phase 1 track and an aftercare
group per site, the active patients' enrolments, and attendance for every past session.

Phase 1 patients whose availability windows block the morning (work, school, family between
9:00 and 12:00 on Mon-Thu) join the evening track, the others the morning one; a full track
leaves the patient under-scheduled (the case manager's home shows them first). Phase 2 patients
join aftercare. Past sessions get attendance drawn per patient: mostly present, some late or
leaving early (minutes below the session), a few absent or excused. The site's first clinician
(the demo clinician at the first site) facilitates the morning track, so "Today's sessions"
lists it on an operating day.
"""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import time, timedelta

from iop.accounts.models import Role
from iop.demo.generator.clinic import BATCH_SIZE, DemoClinic, seeded_uuid
from iop.demo.generator.roster import roster
from patients.models import AvailabilityWindow, Episode, Phase
from scheduling.default_catalogue import ensure_session_types
from scheduling.models import Attendance, Enrolment, GroupSeries, Occurrence, Room, SessionType
from scheduling.services.series import DEFAULT_AHEAD_WEEKS, generate_for_series

ROOMS = (("Room A", 14), ("Room B", 14), ("Family room", 6))
TRACKS = (
    # name, room, rule, start, minutes, phase order, session type
    ("Phase 1 morning", "Room A", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH", time(9), 180, 1, "Group therapy"),
    ("Phase 1 evening", "Room B", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH", time(18), 180, 1, "Group therapy"),
    ("Aftercare", "Room A", "FREQ=WEEKLY;BYDAY=TU", time(18), 90, 2, "Relapse prevention"),
)
CAPACITY = 12
# The reference workload (`mix="reference"`, the benchmark) also runs skills groups, so that a
# site has about 40 series for the schedule builder: series j meets in group room j % 10 at
# slot (j // 10) % 4 on two weekdays; (room, slot) is unique per j < 40, so no room clashes.
EXTRA_SERIES_REFERENCE = 37
EXTRA_ROOMS = 10
EXTRA_SLOTS = (time(8), time(10, 30), time(13), time(15, 30))
STATUS_WEIGHTS = {"present": 82, "late": 6, "left_early": 4, "absent": 5, "excused": 3}


class Schedules:
    def build(self, clinic: DemoClinic) -> None:
        ensure_session_types(SessionType)
        phases = {phase.order: phase for phase in Phase.objects.filter(program__name="Adult SUD IOP")}
        start = clinic.today - timedelta(weeks=max(clinic.weeks, clinic.history_weeks))
        series_by_site = {}
        for site_index, site in enumerate(clinic.site_list):
            series_by_site[site.pk] = self._series(clinic, site_index, site, phases, start)
        self._enrol(clinic, series_by_site)
        self._attendance(clinic, series_by_site)

    def _series(self, clinic, site_index, site, phases, start) -> dict[str, GroupSeries]:
        rooms = {}
        for name, capacity in ROOMS:
            room, created = Room.objects.get_or_create(site=site, name=name, defaults={"capacity": capacity})
            rooms[name] = room
            clinic.created["rooms"] += created
        clinicians = clinic.staff_for(site_index, Role.CLINICIAN)
        made = {}
        for number, (name, room, rule, start_time, minutes, order, type_name) in enumerate(TRACKS):
            series, created = GroupSeries.objects.get_or_create(
                site=site,
                name=name,
                defaults={
                    "session_type": SessionType.objects.get(name=type_name),
                    "room": rooms[room],
                    "facilitator": clinicians[number % len(clinicians)],
                    "capacity": CAPACITY,
                    "recurrence_rule": rule,
                    "start_time": start_time,
                    "duration_minutes": minutes,
                    "starts_on": start,
                },
            )
            if created:
                series.phases.set([phases[order]] if order in phases else [])
                clinic.created["group series"] += 1
            clinic.created["sessions"] += generate_for_series(
                series, first=series.starts_on, last=clinic.today + timedelta(weeks=DEFAULT_AHEAD_WEEKS)
            )
            made[name] = series
        if clinic.mix == "reference":
            self._skills_groups(clinic, site, clinicians, start)
        return made

    def _skills_groups(self, clinic, site, clinicians, start) -> None:
        rooms = []
        for number in range(EXTRA_ROOMS):
            room, created = Room.objects.get_or_create(
                site=site, name=f"Group room {number + 1}", defaults={"capacity": 14}
            )
            rooms.append(room)
            clinic.created["rooms"] += created
        skill = SessionType.objects.get(name="Skill building")
        for j in range(EXTRA_SERIES_REFERENCE):
            days = sorted({j % 5, (j + 2) % 5})
            codes = ",".join(("MO", "TU", "WE", "TH", "FR")[d] for d in days)
            series, created = GroupSeries.objects.get_or_create(
                site=site,
                name=f"Skills group {j + 1}",
                defaults={
                    "session_type": skill,
                    "room": rooms[j % EXTRA_ROOMS],
                    "facilitator": clinicians[j % len(clinicians)],
                    "capacity": CAPACITY,
                    "recurrence_rule": f"FREQ=WEEKLY;BYDAY={codes}",
                    "start_time": EXTRA_SLOTS[(j // EXTRA_ROOMS) % len(EXTRA_SLOTS)],
                    "duration_minutes": 90,
                    "starts_on": start,
                },
            )
            clinic.created["group series"] += created
            today = clinic.today
            clinic.created["sessions"] += generate_for_series(
                series, first=today, last=today + timedelta(weeks=DEFAULT_AHEAD_WEEKS)
            )

    def _enrol(self, clinic: DemoClinic, series_by_site) -> None:
        """Active patients: a place in their phase's track now (while there is room). Their
        earlier weeks, and every discharged episode's, as ended enrolments: Phase 1's track for
        the first 4-6 weeks, then aftercare until discharge (history: capacity is not checked)."""
        taken = defaultdict(int)
        for row in (
            Enrolment.objects.filter(
                series__in=[s for site in series_by_site.values() for s in site.values()]
            )
            .filter(left_on__isnull=True)
            .values_list("series_id", flat=True)
        ):
            taken[row] += 1
        for batch in roster(clinic, "Demo enrolments"):
            treated = [p for p in batch if p.episode is not None]
            episodes = {
                e["pk"]: e
                for e in Episode.objects.filter(pk__in=[p.episode.pk for p in treated]).values(
                    "pk", "current_phase__order", "phase_started_on", "admitted_on", "discharged_on"
                )
            }
            enrolled = set(
                Enrolment.objects.filter(episode_id__in=list(episodes)).values_list("episode_id", flat=True)
            )
            blocked = set(
                AvailabilityWindow.objects.filter(
                    patient_id__in=[p.pk for p in treated],
                    weekday__lte=4,
                    starts_at__lt=time(12),
                    ends_at__gt=time(9),
                ).values_list("patient_id", flat=True)
            )
            new = []
            for patient in treated:
                episode = episodes[patient.episode.pk]
                if episode["pk"] in enrolled:
                    continue
                tracks = series_by_site[patient.site.pk]
                first, second = ("Phase 1 evening", "Phase 1 morning")
                if patient.pk not in blocked:
                    first, second = second, first
                rng = clinic.rng("enrolment", patient.index)
                periods = self._history(rng, episode, tracks[first], tracks["Aftercare"], clinic.today)
                if patient.episode.active:
                    if episode["current_phase__order"] == 2:
                        choices = [tracks["Aftercare"]]
                    else:
                        choices = [tracks[first], tracks[second]]
                    series = next((s for s in choices if taken[s.pk] < s.capacity), None)
                    if series is not None:
                        taken[series.pk] += 1
                        joined = max(episode["phase_started_on"] or episode["admitted_on"], series.starts_on)
                        periods.append((series, joined, None))
                new += [
                    Enrolment(
                        public_id=seeded_uuid(rng),
                        series=series,
                        episode_id=episode["pk"],
                        joined_on=joined,
                        left_on=left,
                    )
                    for series, joined, left in periods
                ]
            Enrolment.objects.bulk_create(new)
            clinic.created["enrolments"] += len(new)

    @staticmethod
    def _history(rng, episode: dict, phase_1, aftercare, today) -> list:
        """The ended enrolments before the current phase (active) or until discharge."""
        admitted, discharged = episode["admitted_on"], episode["discharged_on"]
        if discharged is None and episode["current_phase__order"] != 2:
            return []  # still in Phase 1: only the current enrolment
        if discharged is None:  # in aftercare now: Phase 1 until the phase changed
            phase_1_end = (episode["phase_started_on"] or today) - timedelta(days=1)
            last = phase_1_end
        else:
            phase_1_end = min(admitted + timedelta(weeks=rng.randint(4, 6)) - timedelta(days=1), discharged)
            last = discharged
        periods = []
        start = max(admitted, phase_1.starts_on)
        if start <= phase_1_end:
            periods.append((phase_1, start, phase_1_end))
        if discharged is not None and discharged > phase_1_end:
            start = max(phase_1_end + timedelta(days=1), aftercare.starts_on)
            if start <= last:
                periods.append((aftercare, start, last))
        return periods

    def _attendance(self, clinic: DemoClinic, series_by_site) -> None:
        """Every past session of every enrolment (the tracks), written in batches."""
        all_series = [s for site in series_by_site.values() for s in site.values()]  # the tracks
        with clinic.progress("Demo attendance", len(all_series), unit=" series") as progress:
            for series in all_series:
                self._attendance_of(clinic, series)
                progress.update(1)

    def _attendance_of(self, clinic: DemoClinic, series: GroupSeries) -> None:
        enrolments = list(Enrolment.objects.filter(series=series).order_by("pk"))
        if not enrolments:
            return
        occurrences = list(
            Occurrence.objects.filter(series=series, local_date__lt=clinic.today, status="scheduled")
            .only("pk", "local_date", "starts_at", "ends_at", "facilitator_id")
            .order_by("local_date", "starts_at")
        )
        days = [o.local_date for o in occurrences]
        recorded_episodes = set(
            Attendance.objects.filter(occurrence__series=series)
            .values_list("episode_id", flat=True)
            .distinct()
        )
        clinical = series.session_type.counts_toward_clinical_hours
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        rows = []
        for enrolment in enrolments:
            if enrolment.episode_id in recorded_episodes:
                continue  # an earlier run wrote this episode's attendance here
            rng = clinic.rng("attendance", series.pk, enrolment.episode_id)
            first = bisect_left(days, enrolment.joined_on)
            last = bisect_right(days, enrolment.left_on) if enrolment.left_on else len(days)
            for occurrence in occurrences[first:last]:
                status = rng.choices(statuses, weights=weights)[0]
                length = occurrence.minutes
                minutes = {"present": length, "absent": 0, "excused": 0}.get(status)
                if minutes is None:
                    minutes = length - rng.randint(10, min(60, length - 1))
                rows.append(
                    Attendance(
                        public_id=seeded_uuid(rng),
                        occurrence_id=occurrence.pk,
                        episode_id=enrolment.episode_id,
                        status=status,
                        minutes_attended=minutes,
                        session_minutes=length,
                        local_date=occurrence.local_date,
                        counts_toward_clinical_hours=clinical,
                        recorded_by_id=occurrence.facilitator_id,
                    )
                )
            if len(rows) >= 10 * BATCH_SIZE:
                self._flush(clinic, rows)
                rows = []
        self._flush(clinic, rows)

    @staticmethod
    def _flush(clinic: DemoClinic, rows: list) -> None:
        for begin in range(0, len(rows), BATCH_SIZE):
            Attendance.objects.bulk_create(rows[begin : begin + BATCH_SIZE])
        clinic.created["attendance records"] += len(rows)


__all__ = ["Schedules"]
