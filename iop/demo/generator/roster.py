"""The demo patients as the later parts read them: one batch at a time, with the site, the
current episode, its referral's timestamps and the primary clinician."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from iop.accounts.models import Site
from iop.demo.generator.clinic import BATCH_SIZE, DemoClinic, demo_index, demo_mrn
from patients.models import CareTeamMember, CareTeamRole, EpisodeStatus, Patient


@dataclass(frozen=True)
class DemoEpisode:
    pk: int
    status: str
    admitted_on: date
    discharged_on: date | None
    primary_clinician_id: int | None
    referral_id: int | None
    referred_at: datetime | None
    screened_at: datetime | None
    admitted_at: datetime | None
    referral_source: str | None
    referral_source_detail: str | None

    @property
    def active(self) -> bool:
        return self.status == EpisodeStatus.ACTIVE

    def last_day(self, today: date) -> date:
        """The last day of care so far: the discharge date, or today."""
        return self.discharged_on or today


@dataclass(frozen=True)
class DemoPatient:
    index: int
    pk: int
    mrn: str
    site_index: int
    site: Site
    legal_first_name: str
    legal_last_name: str
    date_of_birth: date
    episode: DemoEpisode | None

    @property
    def legal_name(self) -> str:
        return " ".join(f"{self.legal_first_name} {self.legal_last_name}".split())

    def record(self) -> Patient:
        """An unsaved stand-in with what consent texts read (names, date of birth, site)."""
        return Patient(
            pk=self.pk,
            mrn=self.mrn,
            legal_first_name=self.legal_first_name,
            legal_last_name=self.legal_last_name,
            date_of_birth=self.date_of_birth,
            site=self.site,
        )


PATIENT_FIELDS = (
    "pk",
    "mrn",
    "site_id",
    "legal_first_name",
    "legal_last_name",
    "date_of_birth",
    "current_episode_id",
    "current_episode__status",
    "current_episode__admitted_on",
    "current_episode__discharged_on",
    "current_episode__referral_id",
    "current_episode__referral__referred_at",
    "current_episode__referral__screened_at",
    "current_episode__referral__admitted_at",
    "current_episode__referral__source",
    "current_episode__referral__source_detail",
)


def roster(clinic: DemoClinic, description: str) -> Iterator[list[DemoPatient]]:
    """The run's demo patients (indices below `clinic.patients`) in batches, with a progress
    bar. Patients held at a site outside this run's sites (an earlier run with more sites)
    are left out: a run with those sites completes them."""
    sites = {site.pk: (index, site) for index, site in enumerate(clinic.site_list)}
    with clinic.progress(description, clinic.patients) as progress:
        for start in range(0, clinic.patients, BATCH_SIZE):
            stop = min(start + BATCH_SIZE, clinic.patients)
            rows = list(
                Patient.objects.filter(mrn__gte=demo_mrn(start), mrn__lte=demo_mrn(stop - 1))
                .order_by("mrn")
                .values(*PATIENT_FIELDS)
            )
            episode_ids = [row["current_episode_id"] for row in rows if row["current_episode_id"]]
            clinicians = dict(
                CareTeamMember.objects.filter(
                    episode_id__in=episode_ids, role=CareTeamRole.PRIMARY_CLINICIAN, ended_on__isnull=True
                ).values_list("episode_id", "user_id")
            )
            batch = [
                _patient(row, sites[row["site_id"]], clinicians) for row in rows if row["site_id"] in sites
            ]
            if batch:
                yield batch
            progress.update(stop - start)


def _patient(row: dict, site: tuple[int, Site], clinicians: dict[int, int]) -> DemoPatient:
    episode = None
    if row["current_episode_id"]:
        episode = DemoEpisode(
            pk=row["current_episode_id"],
            status=row["current_episode__status"],
            admitted_on=row["current_episode__admitted_on"],
            discharged_on=row["current_episode__discharged_on"],
            primary_clinician_id=clinicians.get(row["current_episode_id"]),
            referral_id=row["current_episode__referral_id"],
            referred_at=row["current_episode__referral__referred_at"],
            screened_at=row["current_episode__referral__screened_at"],
            admitted_at=row["current_episode__referral__admitted_at"],
            referral_source=row["current_episode__referral__source"],
            referral_source_detail=row["current_episode__referral__source_detail"],
        )
    return DemoPatient(
        index=demo_index(row["mrn"]),
        pk=row["pk"],
        mrn=row["mrn"],
        site_index=site[0],
        site=site[1],
        legal_first_name=row["legal_first_name"],
        legal_last_name=row["legal_last_name"],
        date_of_birth=row["date_of_birth"],
        episode=episode,
    )
