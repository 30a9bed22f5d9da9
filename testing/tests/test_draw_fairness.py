"""Fairness of the draw over simulated months (fixed seeds), as ../shared/CLINICAL.md lists it:
mean tests a week within 3 standard errors of the target; no gap above the maximum; weekday
counts uniform (chi-square, patient rejection rate <= 7% at alpha 0.05); P(selected the day
after a test) ~= q and never 0; a patient's selection independent of the rest of the pool."""

import math
import statistics
from functools import cache

import pytest

from testing.draw_simulation import (
    CHI_SQUARE_CRITICAL_05,
    gaps,
    preview,
    runs,
    simulate,
    weekday_chi_square,
    weekday_counts,
    weekly_rate,
)

POLICIES = [
    # tests/week, eligible days/week, max gap, ramp, seed
    pytest.param(2, 5, 5, 2, 11, id="phase1-2x-mon-fri"),
    pytest.param(2, 4, 5, 2, 12, id="phase1-2x-mon-thu"),
    pytest.param(1, 5, 9, 2, 13, id="phase2-1x"),
    pytest.param(1, 5, 10, 2, 14, id="N-multiple-of-week-ramp-2"),
]
PATIENTS, WEEKS = 200, 26


@cache
def run(tests, eligible, max_gap, ramp, seed):
    return simulate(
        tests_per_week=tests,
        eligible_days_per_week=eligible,
        max_gap=max_gap,
        ramp=ramp,
        patients=PATIENTS,
        weeks=WEEKS,
        seed=seed,
    )


@pytest.mark.parametrize(("tests", "eligible", "max_gap", "ramp", "seed"), POLICIES)
def test_mean_tests_per_week_is_within_three_standard_errors_of_target(tests, eligible, max_gap, ramp, seed):
    simulation = run(tests, eligible, max_gap, ramp, seed)
    rates = [
        weekly_rate(days, eligible_days=simulation.eligible_days, eligible_days_per_week=eligible)
        for days in simulation.selected_days
    ]
    standard_error = statistics.stdev(rates) / math.sqrt(len(rates))
    assert abs(statistics.mean(rates) - tests) < 3 * standard_error


@pytest.mark.parametrize(("tests", "eligible", "max_gap", "ramp", "seed"), POLICIES)
def test_no_gap_is_longer_than_the_maximum(tests, eligible, max_gap, ramp, seed):
    simulation = run(tests, eligible, max_gap, ramp, seed)
    longest = max(
        max(gaps(days, starting_age=age))
        for days, age in zip(simulation.selected_days, simulation.starting_ages, strict=True)
    )
    assert longest <= max_gap
    # ... and the tail after each patient's last test is shorter than the maximum too
    assert all(simulation.eligible_days - 1 - days[-1] < max_gap for days in simulation.selected_days)


@pytest.mark.parametrize(("tests", "eligible", "max_gap", "ramp", "seed"), POLICIES)
def test_weekday_counts_are_uniform_by_chi_square(tests, eligible, max_gap, ramp, seed):
    simulation = run(tests, eligible, max_gap, ramp, seed)
    critical = CHI_SQUARE_CRITICAL_05[eligible - 1]
    rejected = sum(
        weekday_chi_square(weekday_counts(days, eligible_days_per_week=eligible)) > critical
        for days in simulation.selected_days
    )
    assert rejected / PATIENTS <= 0.07


def test_a_ramp_of_one_on_a_weekday_multiple_locks_the_forced_test_to_one_weekday():
    """The check can fail: CLINICAL.md's warning case (N a multiple of the week, L = 1) shows
    the bias that the uniformity test exists to catch."""
    simulation = simulate(
        tests_per_week=0.6, eligible_days_per_week=5, max_gap=10, ramp=1, patients=PATIENTS, weeks=52, seed=15
    )
    rejected = sum(
        weekday_chi_square(weekday_counts(days, eligible_days_per_week=5)) > CHI_SQUARE_CRITICAL_05[4]
        for days in simulation.selected_days
    )
    assert rejected / PATIENTS > 0.07


@pytest.mark.parametrize(("tests", "eligible", "max_gap", "ramp", "seed"), POLICIES)
def test_the_day_after_a_test_is_selected_with_probability_q(tests, eligible, max_gap, ramp, seed):
    simulation = run(tests, eligible, max_gap, ramp, seed)
    following, selected = 0, 0
    for days in simulation.selected_days:
        chosen = set(days)
        for day in days:
            if day + 1 < simulation.eligible_days:
                following += 1
                selected += day + 1 in chosen
    q = simulation.q
    assert selected > 0
    assert abs(selected / following - q) < 3 * math.sqrt(q * (1 - q) / following)


def test_adding_or_removing_other_patients_never_changes_a_patients_selection():
    few = simulate(tests_per_week=2, eligible_days_per_week=5, max_gap=5, ramp=2, patients=5, weeks=8, seed=3)
    many = simulate(
        tests_per_week=2, eligible_days_per_week=5, max_gap=5, ramp=2, patients=60, weeks=8, seed=3
    )
    assert many.selected_days[:5] == few.selected_days


def test_a_seed_reproduces_a_run_and_another_seed_differs():
    first = simulate(
        tests_per_week=2, eligible_days_per_week=5, max_gap=5, ramp=2, patients=20, weeks=8, seed=3
    )
    again = simulate(
        tests_per_week=2, eligible_days_per_week=5, max_gap=5, ramp=2, patients=20, weeks=8, seed=3
    )
    other = simulate(
        tests_per_week=2, eligible_days_per_week=5, max_gap=5, ramp=2, patients=20, weeks=8, seed=4
    )
    assert first.selected_days == again.selected_days
    assert first.selected_days != other.selected_days


def test_json_has_the_issue_shape():
    simulation = simulate(
        tests_per_week=1, eligible_days_per_week=5, max_gap=9, ramp=2, patients=3, weeks=4, seed=1
    )
    data = simulation.as_json()
    assert set(data) == {"q", "eligible_days", "patients"}
    assert data["eligible_days"] == 20
    assert data["q"] == pytest.approx(0.1492, abs=1e-4)
    assert len(data["patients"]) == 3
    assert all(set(p) == {"selected_days"} for p in data["patients"])
    assert all(0 <= day < 20 for p in data["patients"] for day in p["selected_days"])


def test_preview_summarises_rate_longest_gap_and_weekday_share():
    simulation = run(2, 5, 5, 2, 11)
    summary = preview(simulation, eligible_days_per_week=5)
    assert summary.mean_tests_per_week == pytest.approx(2, abs=0.1)
    assert summary.longest_gap == 5
    assert set(summary.gap_distribution) <= {1, 2, 3, 4, 5}
    assert sum(summary.weekday_share) == pytest.approx(1)
    assert all(0.15 < share < 0.25 for share in summary.weekday_share)


def _runs_summary(simulation):
    values = [runs(days, eligible_days=simulation.eligible_days) for days in simulation.selected_days]
    return statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values))


def test_runs_match_the_algorithms_own_distribution_not_bernoullis():
    """CLINICAL.md: a runs test compares against the algorithm's own simulated distribution. An
    independent month of patients (another seed) has the reference's mean number of runs; a
    Bernoulli schedule at the same rate would have clearly fewer (the cap and ramp forbid long
    untested streaks, so tests alternate more), so Bernoulli is the wrong yardstick."""
    policy = {"tests_per_week": 2, "eligible_days_per_week": 5, "max_gap": 5, "ramp": 2, "weeks": 26}
    reference = simulate(**policy, patients=400, seed=31)
    sample = simulate(**policy, patients=200, seed=32)
    ref_mean, ref_se = _runs_summary(reference)
    mean, se = _runs_summary(sample)
    assert abs(mean - ref_mean) < 3 * math.hypot(se, ref_se)
    n, p = reference.eligible_days, 2 / 5
    bernoulli_mean = 1 + 2 * (n - 1) * p * (1 - p)
    assert ref_mean - bernoulli_mean > 3 * ref_se


def test_runs_counts_changes_between_tested_and_untested_days():
    assert runs([0, 1, 2], eligible_days=5) == 2
    assert runs([1, 3], eligible_days=5) == 5
    assert runs([], eligible_days=4) == 1
