"""A synthetic calendar to run the real draw rule over (policy preview, fairness tests, bench).

Pure: no Django. Month keys are derived from the seed with SHA-256 (never `random`), so a seed
reproduces a run exactly. Each simulated patient is collected whenever selected (no absences),
and eligible days are the first `eligible_days_per_week` ISO weekdays of each week, starting on
Monday 2024-01-01. Patients start in the steady state of a running clinic: the days since their
last test on day 0 follow the renewal process's equilibrium distribution
(P(age = a) = P(gap >= a) / mean gap), chosen per patient from a SHA-256 of the seed, so the
expected number of tests in any window is exactly its length times the rate (a clinic where
everyone was tested the day before would show a small start-up deficit instead).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from testing.draw_rule import (
    DEFAULT_RAMP,
    PatientState,
    as_decimal_string,
    first_test_distribution,
    probability,
    solve_q,
    threshold,
    uniform_value,
)

CALENDAR_START = date(2024, 1, 1)  # a Monday
SIMULATED_SITE = "simulated"


def month_key(seed: int, day: date) -> bytes:
    return hashlib.sha256(f"simulate_draws|{seed}|{day.year:04d}-{day.month:02d}".encode()).digest()


def eligible_calendar(*, eligible_days_per_week: int, weeks: int) -> list[date]:
    days = []
    for week in range(weeks):
        monday = CALENDAR_START + timedelta(weeks=week)
        days.extend(monday + timedelta(days=offset) for offset in range(eligible_days_per_week))
    return days


@dataclass(frozen=True)
class Simulation:
    q: float
    eligible_days: int
    calendar: list[date]
    selected_days: list[list[int]]  # per patient, indices into the calendar
    starting_ages: list[int]  # per patient, eligible days since the last test on day 0 (>= 1)

    def as_json(self) -> dict:
        return {
            "q": float(as_decimal_string(self.q)),
            "eligible_days": self.eligible_days,
            "patients": [{"selected_days": days} for days in self.selected_days],
        }


def simulate(
    *,
    tests_per_week: float,
    eligible_days_per_week: int,
    max_gap: int,
    ramp: int = DEFAULT_RAMP,
    patients: int,
    weeks: int,
    seed: int,
) -> Simulation:
    q = solve_q(
        tests_per_week=tests_per_week,
        eligible_days_per_week=eligible_days_per_week,
        max_gap=max_gap,
        ramp=ramp,
    )
    calendar = eligible_calendar(eligible_days_per_week=eligible_days_per_week, weeks=weeks)
    distribution = first_test_distribution(q, max_gap=max_gap, ramp=ramp)
    rate = as_decimal_string(tests_per_week).rstrip("0").rstrip(".")
    selected: list[list[int]] = []
    ages: list[int] = []
    keys: dict[tuple[int, int], bytes] = {}
    probabilities: dict[int, str] = {}
    for patient in range(patients):
        pseudonym = f"sim{patient:06d}"
        days_since = starting_age(seed, patient, distribution)
        ages.append(days_since)
        chosen = []
        for index, day in enumerate(calendar):
            if days_since not in probabilities:
                state = PatientState(
                    tests_per_week=rate,
                    eligible_days_per_week=eligible_days_per_week,
                    max_gap=max_gap,
                    ramp=ramp,
                    days_since_test=days_since,
                )
                probabilities[days_since] = probability(state, q=q)
            key = keys.setdefault((day.year, day.month), month_key(seed, day))
            u = uniform_value(key, site=SIMULATED_SITE, day=day.isoformat(), pseudonym=pseudonym)
            if u < threshold(probabilities[days_since]):
                chosen.append(index)
                days_since = 1
            else:
                days_since += 1
        selected.append(chosen)
    return Simulation(
        q=q, eligible_days=len(calendar), calendar=calendar, selected_days=selected, starting_ages=ages
    )


def starting_age(seed: int, patient: int, distribution: list[float]) -> int:
    """A draw from the equilibrium age distribution, P(age = a) = P(gap >= a) / mean gap."""
    digest = hashlib.sha256(f"simulate_draws|{seed}|start|{patient}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    mean = sum(k * f for k, f in enumerate(distribution, start=1))
    survive, cumulative = 1.0, 0.0
    for age, f in enumerate(distribution, start=1):
        cumulative += survive / mean
        if u < cumulative:
            return age
        survive -= f
    return len(distribution)


# --- Summaries (the policy preview and the fairness tests use them) ---------------------------


def gaps(selected_days: list[int], *, starting_age: int = 1) -> list[int]:
    """Eligible days from each test to the next; the last test before day 0 was on day
    `-starting_age` (so the first gap is complete too)."""
    previous, result = -starting_age, []
    for day in selected_days:
        result.append(day - previous)
        previous = day
    return result


def weekly_rate(selected_days: list[int], *, eligible_days: int, eligible_days_per_week: int) -> float:
    return len(selected_days) / (eligible_days / eligible_days_per_week)


# Chi-square critical values at alpha = 0.05 for 1..6 degrees of freedom (scipy.stats.chi2.ppf).
CHI_SQUARE_CRITICAL_05 = {1: 3.841, 2: 5.991, 3: 7.815, 4: 9.488, 5: 11.070, 6: 12.592}


def weekday_chi_square(counts: list[int]) -> float:
    """Pearson's statistic against equal counts per weekday."""
    total = sum(counts)
    if total == 0:
        return 0.0
    expected = total / len(counts)
    return sum((count - expected) ** 2 / expected for count in counts)


def weekday_counts(selected_days: list[int], *, eligible_days_per_week: int) -> list[int]:
    counts = [0] * eligible_days_per_week
    for day in selected_days:
        counts[day % eligible_days_per_week] += 1
    return counts


@dataclass(frozen=True)
class Preview:
    q: float
    mean_tests_per_week: float
    longest_gap: int
    gap_distribution: dict[int, int]  # gap length -> how many
    weekday_share: list[float]

    @property
    def total_gaps(self) -> int:
        return sum(self.gap_distribution.values())

    @property
    def weekday_percent(self) -> list[int]:
        return [round(100 * share) for share in self.weekday_share]


def preview(simulation: Simulation, *, eligible_days_per_week: int) -> Preview:
    all_gaps: dict[int, int] = {}
    longest = 0
    weekday = [0] * eligible_days_per_week
    rates = []
    for days, age in zip(simulation.selected_days, simulation.starting_ages, strict=True):
        rates.append(
            weekly_rate(
                days, eligible_days=simulation.eligible_days, eligible_days_per_week=eligible_days_per_week
            )
        )
        for gap in gaps(days, starting_age=age):
            all_gaps[gap] = all_gaps.get(gap, 0) + 1
            longest = max(longest, gap)
        for index, count in enumerate(weekday_counts(days, eligible_days_per_week=eligible_days_per_week)):
            weekday[index] += count
    total = sum(weekday) or 1
    return Preview(
        q=simulation.q,
        mean_tests_per_week=sum(rates) / len(rates) if rates else 0.0,
        longest_gap=longest,
        gap_distribution=dict(sorted(all_gaps.items())),
        weekday_share=[count / total for count in weekday],
    )


def runs(selected_days: list[int], *, eligible_days: int) -> int:
    """Wald-Wolfowitz runs in the patient's day-by-day sequence (tested / not tested)."""
    if eligible_days == 0:
        return 0
    chosen = set(selected_days)
    count, previous = 1, 0 in chosen
    for day in range(1, eligible_days):
        current = day in chosen
        count += current != previous
        previous = current
    return count
