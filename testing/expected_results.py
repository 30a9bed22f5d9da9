"""Whether a positive result is explained by a prescribed medication ("expected", not relapse).

Pure: no Django. The caller passes the patient's medication list (patients.Medication) as
plain values and the classes that explain the analyte (Analyte.explained_by).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Prescription:
    name: str
    medication_class: str
    started_on: date | None = None
    stopped_on: date | None = None

    def covers(self, day: date, *, window_days: int) -> bool:
        """Taken on `day`, or stopped recently enough to still be detected."""
        if self.started_on is not None and self.started_on > day:
            return False
        return self.stopped_on is None or self.stopped_on + timedelta(days=window_days) >= day


@dataclass(frozen=True)
class Explanation:
    expected: bool
    medication: str = ""


def explain_positive(
    *,
    explained_by: list[str] | tuple[str, ...],
    collected_on: date,
    prescriptions: list[Prescription],
    window_days: int = 3,
) -> Explanation:
    """A positive is expected when a prescription of a class that explains the analyte covers
    the collection day (or stopped within the analyte's detection window)."""
    classes = set(explained_by)
    for prescription in sorted(prescriptions, key=lambda p: p.name):
        if prescription.medication_class in classes and prescription.covers(
            collected_on, window_days=window_days
        ):
            return Explanation(True, prescription.name)
    return Explanation(False)
