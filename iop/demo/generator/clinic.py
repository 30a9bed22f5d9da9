"""What every part shares: the demo's constants, the `DemoClinic` being built, and helpers."""

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Protocol
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from faker import Faker
from tqdm import tqdm

from iop.accounts.models import Role, Site, User
from iop.demo.generator.path import CYCLES
from patients.models import Patient

DEMO_SEED = "iop-demo-clinic-v1"
DEMO_PASSWORD = "demo-clinic-pass"  # noqa: S105 - printed for every demo login on purpose
DEMO_URL = "http://127.0.0.1:8000/"
DEMO_MRN_PREFIX = "DEMO"
MAX_DEMO_PATIENTS = 999_999  # MRNs are DEMO + six digits
DEMO_PROGRAM_NAME = "Adult SUD IOP"
BATCH_SIZE = 1000


class DemoSetupError(RuntimeError):
    """The database lacks something the demo builds on (run the migrations)."""


def demo_mrn(index: int) -> str:
    """The MRN of the demo patient with 0-based `index`: DEMO000001, DEMO000002, ..."""
    return f"{DEMO_MRN_PREFIX}{index + 1:06d}"


def demo_index(mrn: str) -> int:
    """The 0-based index of the demo patient with this MRN (the inverse of `demo_mrn`)."""
    return int(mrn.removeprefix(DEMO_MRN_PREFIX)) - 1


def demo_patients() -> QuerySet[Patient]:
    return Patient.objects.filter(mrn__startswith=DEMO_MRN_PREFIX)


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def previous_weekday(day: date) -> date:
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    return day


@dataclass
class DemoClinic:
    """What the parts share: the options, what has been built so far, and what was created.

    `today` and `now` are the run's reference moment: dates are relative to `today`, and the
    few things that are "hours ago" (open referrals) to `now`; nothing is later than `now`.
    """

    patients: int
    sites: int
    weeks: int
    today: date
    now: datetime
    seed: str = DEMO_SEED
    progress_stream: IO[str] | None = None
    # "demo" (mostly active patients, `make run`) or "reference" (the benchmark's established
    # clinic: mostly discharged, see `path.CYCLES`); discharges spread over `history_weeks`.
    mix: str = "demo"
    history_weeks: int = 0
    site_list: list[Site] = field(default_factory=list)
    staff: dict[tuple[int, Role], list[User]] = field(default_factory=dict)
    users_by_username: dict[str, User] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    _faker: Faker = field(default_factory=lambda: Faker("en_US"), repr=False)

    def __post_init__(self) -> None:
        self.history_weeks = self.history_weeks or self.weeks

    @property
    def path_cycle(self) -> tuple[str, ...]:
        return CYCLES[self.mix]

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

    def progress(self, description: str, total: int, unit: str = " patients") -> tqdm:
        """A progress bar on the progress stream (none without one)."""
        return tqdm(
            total=total,
            desc=description,
            unit=unit,
            file=self.progress_stream,
            disable=self.progress_stream is None,
        )

    def moment(self, day: date, rng: random.Random, earliest: int, latest: int, site: Site) -> datetime:
        """A random minute between the hours `earliest` and `latest` of `day` at the site, but
        never after `now` (nor before that day's midnight)."""
        zone = ZoneInfo(str(site.timezone))
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        moment = midnight + timedelta(minutes=rng.randint(earliest * 60, latest * 60))
        return max(midnight, min(moment, self.now))


class DemoPart(Protocol):
    """One area of the demo clinic. `build` must be idempotent and count what it creates."""

    def build(self, clinic: DemoClinic) -> None: ...
