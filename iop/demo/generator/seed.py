"""Run the parts in order, in one transaction recorded as one audit event."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO

from django.db import transaction
from django.utils import timezone

from iop.audit.models import AuditAction
from iop.audit.services import record_event
from iop.demo.generator.alerts import SafetyAlerts
from iop.demo.generator.audit_history import AuditHistory
from iop.demo.generator.availability import AvailabilityWindows
from iop.demo.generator.clinic import (
    DEMO_PASSWORD,
    DEMO_SEED,
    DEMO_URL,
    MAX_DEMO_PATIENTS,
    DemoClinic,
    DemoPart,
    demo_patients,
)
from iop.demo.generator.consents import Consents
from iop.demo.generator.drug_tests import DrugTesting
from iop.demo.generator.episodes import PatientsAndEpisodes
from iop.demo.generator.medications import Medications
from iop.demo.generator.path import CYCLES
from iop.demo.generator.plans import TreatmentPlans
from iop.demo.generator.referrals import Referrals
from iop.demo.generator.schedules import Schedules
from iop.demo.generator.screening import Screening
from iop.demo.generator.staff import DEMO_LOGINS, DemoLogin, SitesAndStaff

# Built in this order, a fresh instance per run. A part reads what the earlier ones made:
# the intake parts date everything from the referral, so `Referrals` comes first of them, and
# `SafetyAlerts` adds its PHQ-9 after the screening part has written each patient's series.
PARTS: tuple[type[DemoPart], ...] = (
    SitesAndStaff,
    PatientsAndEpisodes,
    Referrals,
    Consents,
    Screening,
    AvailabilityWindows,
    Medications,
    SafetyAlerts,
    Schedules,
    DrugTesting,
    TreatmentPlans,
    AuditHistory,
)


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
    now: datetime | None = None,
    seed: str = DEMO_SEED,
    progress_stream: IO[str] | None = None,
    parts: Sequence[type[DemoPart]] = PARTS,
    mix: str = "demo",
    history_weeks: int = 0,
) -> SeedReport:
    """Build (or complete) the demo clinic and record one audit event if anything was created.

    `mix="reference"` builds the benchmark's established clinic (mostly discharged patients,
    discharges over `history_weeks`, the care teams' chart reads in the audit trail).

    `now` (default: now) is the run's moment; `today` defaults to its date. Given only a
    `today` in the past, the run happens at noon that day.

    One transaction with its audit event: an interrupted run leaves nothing behind."""
    if patients < 0 or patients > MAX_DEMO_PATIENTS:
        raise ValueError(f"patients must be between 0 and {MAX_DEMO_PATIENTS}.")
    if sites < 1 or weeks < 1 or history_weeks < 0:
        raise ValueError("sites and weeks must be at least 1.")
    if mix not in CYCLES:
        raise ValueError(f"mix must be one of {', '.join(CYCLES)}.")
    if now is None:
        now = timezone.now()
        if today is not None and today < timezone.localdate(now):
            now = timezone.make_aware(datetime.combine(today, time(12)))
    clinic = DemoClinic(
        patients=patients,
        sites=sites,
        weeks=weeks,
        today=today or timezone.localdate(now),
        now=now,
        seed=seed,
        progress_stream=progress_stream,
        mix=mix,
        history_weeks=history_weeks,
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
