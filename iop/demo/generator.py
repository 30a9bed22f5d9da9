"""A synthetic IOP clinic for demos and the benchmark: obviously fake, deterministic, idempotent.

- Obviously fake: every patient's MRN starts with ``DEMO`` (``DEMO000001``, ...), staff e-mail
  addresses end in ``@example.test``, phone numbers are in the fictional 555-01xx range.
- Deterministic: a fixed seed. Each patient draws from its own random stream keyed by its
  index, so patient 17 is the same person whatever ``--patients`` says; dates are relative to
  the day of the run (``today``).
- Idempotent: natural keys (site names, usernames, MRNs). A second run creates nothing, and a
  run with more patients adds only the missing ones.
- Fast: patients, episodes and care teams are written with ``bulk_create`` in batches, without
  per-row audit entries; the whole seeding is one transaction recorded as ONE audit event
  (``demo.seed``).

The clinic is built by parts run in order (`PARTS`), each adding one area of the data model.
A later feature (schedules, drug tests, treatment plans) adds a part that reads what the
earlier parts made (`DemoClinic.staff_for`, `demo_patients()`) and appends it to `PARTS`.
"""

import math
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import IO, Protocol

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from iop.accounts.models import Role, Site, User
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from patients.models import (
    AlertSeverity,
    CareTeamMember,
    CareTeamRole,
    ClinicalAlert,
    DischargeReason,
    Episode,
    EpisodeStatus,
    Patient,
    Program,
)

DEMO_SEED = "iop-demo-clinic-v1"
DEMO_PASSWORD = "demo-clinic-pass"  # noqa: S105 - printed for every demo login on purpose
DEMO_URL = "http://127.0.0.1:8000/"
DEMO_MRN_PREFIX = "DEMO"
MAX_DEMO_PATIENTS = 999_999  # MRNs are DEMO + six digits
DEMO_PROGRAM_NAME = "Adult SUD IOP"
BATCH_SIZE = 1000

SITE_NAMES = (
    "Northside Recovery Center",
    "Riverside Clinic",
    "Lakeview Outpatient Services",
    "Hillcrest Recovery Center",
    "Eastgate Counseling Center",
    "Westbrook Treatment Center",
    "Maple Grove Clinic",
    "Harbor Point Recovery",
    "Cedar Ridge Outpatient",
    "Southfield Recovery Center",
)
SITE_TIMEZONE = "America/New_York"
SITE_OPERATING_DAYS = [1, 2, 3, 4, 5]
SITE_DAILY_DRAW_TIME = time(5, 30)
SITE_STATES = ("NY", "NJ", "PA", "MA", "CT")  # somewhere on Eastern time


class DemoSetupError(RuntimeError):
    """The database lacks something the demo builds on (run the migrations)."""


@dataclass(frozen=True)
class DemoLogin:
    label: str
    username: str


# One predictable login per role, all at the first site (admin: every site).
DEMO_LOGINS = (
    DemoLogin("Clinician", "clinician"),
    DemoLogin("Clinical supervisor", "supervisor"),
    DemoLogin("Case manager", "casemanager"),
    DemoLogin("Medical staff", "medical"),
    DemoLogin("Peer support", "peersupport"),
    DemoLogin("Admin", "admin"),
)
ADMIN_USERNAME = "admin"
SUPERVISOR_USERNAME = "supervisor"
SUPERVISOR_SLOT = 1  # each site's second clinician is its clinical supervisor


@dataclass(frozen=True)
class Staffing:
    """How many people of one role a site has: at least `minimum`, one per `patients_each`."""

    role: Role
    team_role: CareTeamRole
    username_stem: str
    minimum: int
    patients_each: int
    credentials: tuple[str, ...]


STAFFING = (
    Staffing(
        Role.CLINICIAN, CareTeamRole.PRIMARY_CLINICIAN, "clinician", 3, 25, ("LADC", "LCSW", "LPC", "LMHC")
    ),
    Staffing(Role.CASE_MANAGER, CareTeamRole.CASE_MANAGER, "casemanager", 2, 40, ("BSW", "CCM")),
    Staffing(Role.MEDICAL, CareTeamRole.MEDICAL, "medical", 1, 100, ("RN", "NP", "MD")),
    Staffing(Role.PEER_SUPPORT, CareTeamRole.PEER_SUPPORT, "peersupport", 1, 60, ("CPRS",)),
)

# Where a patient is on the path, repeated every ten patients of a site: 10% pre-admission,
# 10% discharged, the rest active, half in Phase 1 and half in Phase 2.
PRE_ADMISSION = "pre_admission"
PHASE_1 = "phase_1"
PHASE_2 = "phase_2"
DISCHARGED = "discharged"
PATH_CYCLE = (
    PHASE_1,
    PHASE_2,
    PHASE_1,
    PHASE_2,
    DISCHARGED,
    PHASE_1,
    PHASE_2,
    PHASE_1,
    PHASE_2,
    PRE_ADMISSION,
)
ACTIVE_SHARE = sum(stage in (PHASE_1, PHASE_2) for stage in PATH_CYCLE) / len(PATH_CYCLE)
# How many treated (admitted at some point) patients come before each position of the cycle.
TREATED_BEFORE = tuple(
    sum(stage != PRE_ADMISSION for stage in PATH_CYCLE[:position]) for position in range(len(PATH_CYCLE))
)
TREATED_PER_CYCLE = sum(stage != PRE_ADMISSION for stage in PATH_CYCLE)

DISCHARGE_REASON_WEIGHTS = {
    DischargeReason.COMPLETED: 45,
    DischargeReason.LEFT_AGAINST_ADVICE: 25,
    DischargeReason.TRANSFERRED: 12,
    DischargeReason.ADMINISTRATIVE: 10,
    DischargeReason.OTHER: 5,
    DischargeReason.INCARCERATED: 3,
}

SAFETY_ALERT_KIND = "safety"
SAFETY_ALERT_MESSAGE = "PHQ-9 item 9 positive: same-day suicide risk assessment (C-SSRS) needed"
SAFETY_ALERTS_FOR_DEMO_CLINICIAN = 3


def demo_mrn(index: int) -> str:
    """The MRN of the demo patient with 0-based `index`: DEMO000001, DEMO000002, ..."""
    return f"{DEMO_MRN_PREFIX}{index + 1:06d}"


def demo_patients() -> QuerySet[Patient]:
    return Patient.objects.filter(mrn__startswith=DEMO_MRN_PREFIX)


def site_name(index: int) -> str:
    if index < len(SITE_NAMES):
        return SITE_NAMES[index]
    return f"{SITE_NAMES[index % len(SITE_NAMES)]} {index // len(SITE_NAMES) + 1}"


def staff_username(site_index: int, staffing: Staffing, slot: int) -> str:
    """Site 1's first person in each role has the short demo login; the rest `site2.clinician3`."""
    if staffing.role == Role.CLINICIAN and slot == SUPERVISOR_SLOT:
        return SUPERVISOR_USERNAME if site_index == 0 else f"site{site_index + 1}.{SUPERVISOR_USERNAME}"
    if site_index == 0 and slot == 0:
        return staffing.username_stem
    return f"site{site_index + 1}.{staffing.username_stem}{slot + 1}"


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def previous_weekday(day: date) -> date:
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    return day


@dataclass
class DemoClinic:
    """What the parts share: the options, what has been built so far, and what was created."""

    patients: int
    sites: int
    weeks: int
    today: date
    seed: str = DEMO_SEED
    progress_stream: IO[str] | None = None
    site_list: list[Site] = field(default_factory=list)
    staff: dict[tuple[int, Role], list[User]] = field(default_factory=dict)
    users_by_username: dict[str, User] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    _faker: Faker = field(default_factory=lambda: Faker("en_US"), repr=False)

    def rng(self, *key: object) -> random.Random:
        """An independent random stream per key, stable across runs and Python processes."""
        # Reproducible fake data, not security: a seeded Mersenne Twister is the point.
        return random.Random(":".join(str(part) for part in (self.seed, *key)))  # noqa: S311

    def faker(self, *key: object) -> Faker:
        """The clinic's one Faker (building one is slow), reseeded for this key."""
        self._faker.seed_instance(":".join(str(part) for part in (self.seed, *key)))
        return self._faker

    def patients_at_site(self, site_index: int) -> int:
        return len(range(site_index, self.patients, self.sites))

    def staff_for(self, site_index: int, role: Role) -> list[User]:
        return self.staff[(site_index, role)]

    def login(self, username: str) -> User:
        return self.users_by_username[username]


class DemoPart(Protocol):
    """One area of the demo clinic. `build` must be idempotent and count what it creates."""

    def build(self, clinic: DemoClinic) -> None: ...


class SitesAndStaff:
    """Sites, and enough staff in every role at every site for the patients they will treat."""

    def build(self, clinic: DemoClinic) -> None:
        clinic.site_list = [self._site(clinic, index) for index in range(clinic.sites)]
        self._staff(clinic)

    def _site(self, clinic: DemoClinic, index: int) -> Site:
        fake = clinic.faker("site", index)
        site, created = Site.objects.get_or_create(
            name=site_name(index),
            defaults={
                "timezone": SITE_TIMEZONE,
                "operating_days": list(SITE_OPERATING_DAYS),
                "daily_draw_time": SITE_DAILY_DRAW_TIME,
                "address": f"{fake.street_address()}, {fake.city()}, {fake.random_element(SITE_STATES)}",
                "phone": f"(617) 555-01{index % 100:02d}",  # 555-0100..0199 are reserved for fiction
            },
        )
        clinic.created["sites"] += created
        return site

    def _staff(self, clinic: DemoClinic) -> None:
        planned: list[tuple[User, list[Site]]] = []
        usernames_by_post: dict[tuple[int, Role], list[str]] = {}
        for site_index, site in enumerate(clinic.site_list):
            active_patients = math.ceil(clinic.patients_at_site(site_index) * ACTIVE_SHARE)
            for staffing in STAFFING:
                headcount = max(staffing.minimum, math.ceil(active_patients / staffing.patients_each))
                usernames = [staff_username(site_index, staffing, slot) for slot in range(headcount)]
                usernames_by_post[(site_index, staffing.role)] = usernames
                planned += [
                    (self._person(clinic, staffing, slot, name), [site])
                    for slot, name in enumerate(usernames)
                ]
        admin = User(
            public_id=seeded_uuid(clinic.rng("staff", ADMIN_USERNAME)),
            username=ADMIN_USERNAME,
            role=Role.ADMIN,
        )
        self._name(clinic, admin)
        planned.append((admin, clinic.site_list))

        all_usernames = [user.username for user, _ in planned]
        existing = set(User.objects.filter(username__in=all_usernames).values_list("username", flat=True))
        new = [(user, sites) for user, sites in planned if user.username not in existing]
        if new:
            password_hash = make_password(DEMO_PASSWORD)  # hashed once: Argon2 is slow on purpose
            for user, _ in new:
                user.password = password_hash
            User.objects.bulk_create([user for user, _ in new])
            new_usernames = [user.username for user, _ in new]
            saved = dict(User.objects.filter(username__in=new_usernames).values_list("username", "pk"))
            User.sites.through.objects.bulk_create(
                [
                    User.sites.through(user_id=saved[user.username], site_id=site.pk)
                    for user, sites in new
                    for site in sites
                ],
                ignore_conflicts=True,
            )
            clinic.created["staff"] += len(new)

        clinic.users_by_username = {
            user.username: user for user in User.objects.filter(username__in=all_usernames)
        }
        clinic.staff = {
            post: [clinic.users_by_username[name] for name in usernames]
            for post, usernames in usernames_by_post.items()
        }

    def _person(self, clinic: DemoClinic, staffing: Staffing, slot: int, username: str) -> User:
        rng = clinic.rng("staff", username)
        user = User(
            public_id=seeded_uuid(rng),
            username=username,
            role=staffing.role,
            is_clinical_supervisor=staffing.role == Role.CLINICIAN and slot == SUPERVISOR_SLOT,
            credentials=rng.choice(staffing.credentials),
        )
        self._name(clinic, user)
        return user

    def _name(self, clinic: DemoClinic, user: User) -> None:
        fake = clinic.faker("staff", user.username)
        user.first_name = fake.first_name()
        user.last_name = fake.last_name()
        user.email = f"{user.username}@example.test"


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
        with tqdm(
            total=clinic.patients,
            desc="Demo patients",
            unit=" patients",
            file=clinic.progress_stream,
            disable=clinic.progress_stream is None,
        ) as progress:
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
        cycle_position = index_at_site % len(PATH_CYCLE)
        stage = PATH_CYCLE[cycle_position]

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
        cycles_before = index_at_site // len(PATH_CYCLE)
        treated_at_site = cycles_before * TREATED_PER_CYCLE + TREATED_BEFORE[cycle_position]
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
        discharged_on = previous_weekday(clinic.today - timedelta(days=rng.randint(1, clinic.weeks * 7)))
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


class SafetyAlerts:
    """A few unresolved high-severity safety alerts on the demo clinician's active patients."""

    def build(self, clinic: DemoClinic) -> None:
        clinician = clinic.login("clinician")
        candidates = list(
            demo_patients()
            .filter(
                current_episode__status=EpisodeStatus.ACTIVE,
                current_episode__care_team__user=clinician,
                current_episode__care_team__role=CareTeamRole.PRIMARY_CLINICIAN,
                current_episode__care_team__ended_on__isnull=True,
            )
            .order_by("mrn")[:SAFETY_ALERTS_FOR_DEMO_CLINICIAN]
        )
        already_alerted = set(
            ClinicalAlert.objects.filter(
                patient__in=candidates, kind=SAFETY_ALERT_KIND, message=SAFETY_ALERT_MESSAGE
            ).values_list("patient_id", flat=True)
        )
        alerts = [
            ClinicalAlert(
                public_id=seeded_uuid(clinic.rng("alert", patient.mrn)),
                patient=patient,
                kind=SAFETY_ALERT_KIND,
                severity=AlertSeverity.HIGH,
                message=SAFETY_ALERT_MESSAGE,
                raised_by=clinician,
            )
            for patient in candidates
            if patient.pk not in already_alerted
        ]
        ClinicalAlert.objects.bulk_create(alerts)
        clinic.created["alerts"] += len(alerts)


# Built in this order, a fresh instance per run.
PARTS: tuple[type[DemoPart], ...] = (SitesAndStaff, PatientsAndEpisodes, SafetyAlerts)


@dataclass(frozen=True)
class SeedReport:
    created: Counter[str]
    sites: int
    staff: int
    patients: int
    logins: tuple[DemoLogin, ...] = DEMO_LOGINS
    password: str = DEMO_PASSWORD
    url: str = DEMO_URL

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())

    def summary(self) -> str:
        return f"{self.sites} sites, {self.staff} staff, {self.patients} patients"


@transaction.atomic
def seed_demo_clinic(
    *,
    patients: int = 60,
    sites: int = 2,
    weeks: int = 8,
    today: date | None = None,
    seed: str = DEMO_SEED,
    progress_stream: IO[str] | None = None,
    parts: Sequence[type[DemoPart]] = PARTS,
) -> SeedReport:
    """Build (or complete) the demo clinic and record one audit event if anything was created.

    One transaction with its audit event: an interrupted run leaves nothing behind."""
    if patients < 0 or patients > MAX_DEMO_PATIENTS:
        raise ValueError(f"patients must be between 0 and {MAX_DEMO_PATIENTS}.")
    if sites < 1 or weeks < 1:
        raise ValueError("sites and weeks must be at least 1.")
    clinic = DemoClinic(
        patients=patients,
        sites=sites,
        weeks=weeks,
        today=today or timezone.localdate(),
        seed=seed,
        progress_stream=progress_stream,
    )
    for part in parts:
        part().build(clinic)
    if any(clinic.created.values()):
        record_event(
            actor=None,
            action=AuditAction.CREATE,
            object_type="demo.seed",
            reason="Synthetic demo clinic seeded (no real people): "
            + ", ".join(f"{count} {what}" for what, count in clinic.created.items() if count),
            changed_fields=[what for what, count in clinic.created.items() if count],
        )
    return SeedReport(
        created=clinic.created,
        sites=len(clinic.site_list),
        staff=len(clinic.users_by_username),
        patients=demo_patients().count(),
    )
