"""Availability windows, as `patients.services.schedule_constraints` stores them: most admitted
patients have one to three weekly times they cannot attend (work, school, family), on
different weekdays (so they never overlap)."""

import random
from dataclasses import dataclass
from datetime import time

from iop.demo.generator.clinic import DemoClinic, seeded_uuid
from iop.demo.generator.roster import DemoPatient, roster
from patients.models import AvailabilityKind, AvailabilityWindow

WITH_WINDOWS_SHARE = 0.8
WINDOW_COUNT_WEIGHTS = {1: 35, 2: 40, 3: 25}


@dataclass(frozen=True)
class Commitment:
    kind: str
    starts_at: time
    ends_at: time
    note: str
    weight: int


COMMITMENTS = (
    Commitment(AvailabilityKind.WORK, time(8), time(16, 30), "Day shift", 20),
    Commitment(AvailabilityKind.WORK, time(7), time(15, 30), "Early shift at the warehouse", 10),
    Commitment(AvailabilityKind.WORK, time(14), time(22), "Evening shift", 8),
    Commitment(AvailabilityKind.SCHOOL, time(9), time(13), "Community college classes", 8),
    Commitment(AvailabilityKind.SCHOOL, time(18), time(21), "Evening GED class", 5),
    Commitment(AvailabilityKind.FAMILY, time(14, 30), time(17), "School pickup and childcare", 12),
    Commitment(AvailabilityKind.FAMILY, time(9), time(12), "Caring for a parent", 5),
    Commitment(AvailabilityKind.OTHER, time(10), time(11), "Probation check-in", 3),
)


class AvailabilityWindows:
    def build(self, clinic: DemoClinic) -> None:
        for batch in roster(clinic, "Demo availability"):
            treated = [patient for patient in batch if patient.episode is not None]
            with_windows = set(
                AvailabilityWindow.objects.filter(
                    patient_id__in=[patient.pk for patient in treated]
                ).values_list("patient_id", flat=True)
            )
            windows = [
                window
                for patient in treated
                if patient.pk not in with_windows
                for window in self._windows(clinic, patient)
            ]
            AvailabilityWindow.objects.bulk_create(windows)
            clinic.created["availability windows"] += len(windows)

    def _windows(self, clinic: DemoClinic, patient: DemoPatient) -> list[AvailabilityWindow]:
        rng = clinic.rng("availability", patient.index)
        if rng.random() >= WITH_WINDOWS_SHARE:
            return []
        count = _weighted(rng, WINDOW_COUNT_WEIGHTS)
        commitment = rng.choices(COMMITMENTS, weights=[c.weight for c in COMMITMENTS])[0]
        windows = []
        for weekday in sorted(rng.sample(range(1, 6), count)):
            windows.append(
                AvailabilityWindow(
                    public_id=seeded_uuid(rng),
                    patient_id=patient.pk,
                    kind=commitment.kind,
                    weekday=weekday,
                    starts_at=commitment.starts_at,
                    ends_at=commitment.ends_at,
                    note=commitment.note,
                )
            )
            if rng.random() < 0.3:  # sometimes a second kind of commitment on the other days
                commitment = rng.choices(COMMITMENTS, weights=[c.weight for c in COMMITMENTS])[0]
        return windows


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    values, value_weights = zip(*weights.items(), strict=True)
    return rng.choices(values, weights=value_weights)[0]
