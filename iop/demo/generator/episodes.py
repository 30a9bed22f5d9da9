"""Patients at every site: pre-admission, active in Phase 1 or 2, or discharged; the episodes
of those admitted, with a full care team from their site and even caseloads."""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import OuterRef, Subquery
from faker import Faker

from iop.accounts.models import Role, Site, User
from iop.demo.generator.clinic import (
    BATCH_SIZE,
    DEMO_PROGRAM_NAME,
    DemoClinic,
    DemoSetupError,
    demo_mrn,
    previous_weekday,
    seeded_uuid,
)
from iop.demo.generator.path import PHASE_1, PHASE_2, PRE_ADMISSION, treated_before, treated_per_cycle
from iop.demo.generator.staff import STAFFING
from patients.models import (
    CareTeamMember,
    DischargeReason,
    Episode,
    EpisodeStatus,
    Patient,
    Program,
)

DISCHARGE_REASON_WEIGHTS = {
    DischargeReason.COMPLETED: 45,
    DischargeReason.LEFT_AGAINST_ADVICE: 25,
    DischargeReason.TRANSFERRED: 12,
    DischargeReason.ADMINISTRATIVE: 10,
    DischargeReason.OTHER: 5,
    DischargeReason.INCARCERATED: 3,
}


@dataclass
class PlannedPatient:
    """One demo patient before saving: the record, its episode (if admitted) and care team."""

    patient: Patient
    episode: Episode | None = None
    care_team: list[CareTeamMember] = field(default_factory=list)


class PatientsAndEpisodes:
    """Patients at every site: pre-admission, active in Phase 1 or 2, or discharged."""

    def build(self, clinic: DemoClinic) -> None:
        program = Program.objects.filter(name=DEMO_PROGRAM_NAME).first()
        phases = list(program.phases.order_by("order")) if program else []
        if len(phases) < 2:
            raise DemoSetupError(
                f"The demo admits patients to the program {DEMO_PROGRAM_NAME!r} with at least two phases, "
                "which the patients app's migrations seed: run `manage.py migrate` first."
            )
        self.program, self.phase_1, self.phase_2 = program, phases[0], phases[1]
        self._team_order_cache: dict[tuple[int, Role, int, int], list[int]] = {}
        with clinic.progress("Demo patients", clinic.patients) as progress:
            for start in range(0, clinic.patients, BATCH_SIZE):
                indices = range(start, min(start + BATCH_SIZE, clinic.patients))
                self._build_batch(clinic, indices)
                progress.update(len(indices))

    def _build_batch(self, clinic: DemoClinic, indices: Sequence[int]) -> None:
        mrns = [demo_mrn(index) for index in indices]
        existing = set(Patient.objects.filter(mrn__in=mrns).values_list("mrn", flat=True))
        planned = [self._plan(clinic, index) for index in indices if demo_mrn(index) not in existing]
        if not planned:
            return
        Patient.objects.bulk_create([plan.patient for plan in planned])
        episodes = [plan.episode for plan in planned if plan.episode is not None]
        Episode.objects.bulk_create(episodes)
        CareTeamMember.objects.bulk_create([member for plan in planned for member in plan.care_team])
        admitted_ids = [plan.patient.pk for plan in planned if plan.episode is not None]
        latest_episode = Episode.objects.filter(patient=OuterRef("pk")).order_by("-admitted_on", "-pk")
        Patient.objects.filter(pk__in=admitted_ids).update(
            current_episode=Subquery(latest_episode.values("pk")[:1])
        )
        clinic.created["patients"] += len(planned)
        clinic.created["episodes"] += len(episodes)
        clinic.created["care team members"] += sum(len(plan.care_team) for plan in planned)

    def _plan(self, clinic: DemoClinic, index: int) -> PlannedPatient:
        rng = clinic.rng("patient", index)
        fake = clinic.faker("patient", index)
        site_index = index % clinic.sites
        site = clinic.site_list[site_index]
        index_at_site = index // clinic.sites
        cycle = clinic.path_cycle
        cycle_position = index_at_site % len(cycle)
        stage = cycle[cycle_position]

        patient = Patient(
            public_id=seeded_uuid(rng),
            mrn=demo_mrn(index),
            site=site,
            date_of_birth=self._date_of_birth(clinic, rng),
            **self._name(rng, fake),
        )
        plan = PlannedPatient(patient)
        if stage == PRE_ADMISSION:
            return plan

        plan.episode = self._episode(clinic, rng, stage, patient, site)
        cycles_before = index_at_site // len(cycle)
        treated_at_site = cycles_before * treated_per_cycle(cycle) + treated_before(cycle, cycle_position)
        for staffing in STAFFING:
            member = self._team_member(clinic, site_index, staffing.role, treated_at_site)
            plan.care_team.append(
                CareTeamMember(
                    public_id=seeded_uuid(rng),
                    episode=plan.episode,
                    user=member,
                    role=staffing.team_role,
                    assigned_on=plan.episode.admitted_on,
                )
            )
        return plan

    @staticmethod
    def _name(rng: random.Random, fake: Faker) -> dict[str, str]:
        if rng.random() < 0.6:
            first, pronouns = fake.first_name_male(), "he/him"
        else:
            first, pronouns = fake.first_name_female(), "she/her"
        if rng.random() < 0.03:
            pronouns = "they/them"
        preferred = fake.first_name() if rng.random() < 0.08 else ""
        return {
            "legal_first_name": first,
            "legal_last_name": fake.last_name(),
            "preferred_name": preferred,
            "pronouns": pronouns,
        }

    @staticmethod
    def _date_of_birth(clinic: DemoClinic, rng: random.Random) -> date:
        age = int(rng.triangular(19, 71, 33))
        return date(clinic.today.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))

    def _episode(
        self, clinic: DemoClinic, rng: random.Random, stage: str, patient: Patient, site: Site
    ) -> Episode:
        phase_1_days = self.phase_1.min_weeks * 7
        phase_2_days = self.phase_2.min_weeks * 7
        episode = Episode(public_id=seeded_uuid(rng), patient=patient, program=self.program, site=site)
        if stage == PHASE_1:
            # Admitted in the last `weeks` weeks, more of them recently.
            days_ago = int(rng.triangular(0, clinic.weeks * 7, 0))
            episode.admitted_on = previous_weekday(clinic.today - timedelta(days=days_ago))
            episode.current_phase, episode.phase_started_on = self.phase_1, episode.admitted_on
        elif stage == PHASE_2:
            # Admitted up to `weeks` + 10 weeks ago, after at least Phase 1's minimum length.
            days_ago = rng.randint(phase_1_days, max(phase_1_days, (clinic.weeks + 10) * 7))
            episode.admitted_on = previous_weekday(clinic.today - timedelta(days=days_ago))
            days_in_phase_1 = self._weeks_in_phase_1(rng, longest=days_ago) * 7
            episode.current_phase = self.phase_2
            episode.phase_started_on = episode.admitted_on + timedelta(days=days_in_phase_1)
        else:
            self._discharge(clinic, rng, episode, phase_1_days, phase_2_days)
        return episode

    def _discharge(
        self, clinic: DemoClinic, rng: random.Random, episode: Episode, phase_1_days: int, phase_2_days: int
    ) -> None:
        reasons, weights = zip(*DISCHARGE_REASON_WEIGHTS.items(), strict=True)
        reason = rng.choices(reasons, weights=weights)[0]
        discharged_on = previous_weekday(
            clinic.today - timedelta(days=rng.randint(1, clinic.history_weeks * 7))
        )
        if reason == DischargeReason.COMPLETED:
            days_in_phase_1 = self._weeks_in_phase_1(rng) * 7
            length = days_in_phase_1 + phase_2_days + rng.randint(0, 21)
        elif reason == DischargeReason.TRANSFERRED:  # stepped up to a higher level of care early
            length = rng.randint(7, 35)
            days_in_phase_1 = length
        else:
            length = rng.randint(7, phase_1_days + phase_2_days)
            days_in_phase_1 = min(length, self._weeks_in_phase_1(rng) * 7)
        episode.status = EpisodeStatus.DISCHARGED
        episode.discharge_reason = reason
        episode.discharged_on = discharged_on
        episode.admitted_on = previous_weekday(discharged_on - timedelta(days=length))
        if days_in_phase_1 < length:
            episode.current_phase = self.phase_2
            episode.phase_started_on = episode.admitted_on + timedelta(days=days_in_phase_1)
        else:
            episode.current_phase, episode.phase_started_on = self.phase_1, episode.admitted_on

    def _weeks_in_phase_1(self, rng: random.Random, longest: int | None = None) -> int:
        """Phase 1 lasts whole weeks (so Phase 2 starts on the weekday of admission): the
        minimum, or up to two weeks more, but no more than `longest` days."""
        most = self.phase_1.min_weeks + 2
        if longest is not None:
            most = max(self.phase_1.min_weeks, min(most, longest // 7))
        return rng.randint(self.phase_1.min_weeks, most)

    def _team_member(self, clinic: DemoClinic, site_index: int, role: Role, treated_at_site: int) -> User:
        """Even caseloads: each block of patients gets every person once, in a shuffled order
        (so a person's caseload mixes phases instead of following the path cycle)."""
        people = clinic.staff_for(site_index, role)
        block, position = divmod(treated_at_site, len(people))
        key = (site_index, role, len(people), block)
        order = self._team_order_cache.get(key)
        if order is None:
            order = clinic.rng("team", *key).sample(range(len(people)), len(people))
            self._team_order_cache[key] = order
        return people[order[position]]
