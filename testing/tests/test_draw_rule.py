"""The draw rule against ../shared/CLINICAL.md section 5: solver values, hazard, HMAC vectors."""

import hashlib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from testing.draw_rule import (
    PatientState,
    PolicyError,
    PoolEntry,
    check_policy,
    commitment_of,
    draw,
    eligible_days_between,
    first_test_distribution,
    hazard,
    mean_gap,
    probability,
    recheck_snapshot,
    snapshot_hash,
    solve_q,
    threshold,
    uniform_value,
    weekday_lock_warning,
)

KEY = bytes(range(32))  # 000102...1f


@pytest.mark.parametrize(
    ("tests_per_week", "eligible_days", "max_gap", "ramp", "q"),
    [
        (2, 5, 5, 1, 0.3555),  # r = 0.4, N = 5, L = 1
        (2, 5, 5, 2, 0.3348),  # r = 0.4, N = 5, L = 2
        (1, 5, 10, 2, 0.1629),  # r = 0.2, N = 10, L = 2
    ],
)
def test_solver_reproduces_the_worked_values_of_the_specification(
    tests_per_week, eligible_days, max_gap, ramp, q
):
    solved = solve_q(
        tests_per_week=tests_per_week, eligible_days_per_week=eligible_days, max_gap=max_gap, ramp=ramp
    )
    assert round(solved, 4) == q
    assert mean_gap(solved, max_gap=max_gap, ramp=ramp) == pytest.approx(
        eligible_days / tests_per_week, abs=1e-9
    )


def test_hazard_is_q_then_rises_linearly_to_one_at_the_maximum():
    q = 0.3
    assert [hazard(k, q=q, max_gap=5, ramp=2) for k in range(1, 7)] == pytest.approx(
        [0.3, 0.3, 0.3, 0.65, 1.0, 1.0]
    )
    assert [hazard(k, q=q, max_gap=5, ramp=1) for k in range(1, 6)] == pytest.approx(
        [0.3, 0.3, 0.3, 0.3, 1.0]
    )


def test_hazard_counts_days_from_one():
    with pytest.raises(ValueError, match="from 1"):
        hazard(0, q=0.3, max_gap=5, ramp=2)


@given(
    tests_per_week=st.sampled_from([0.5, 1, 1.5, 2, 3]),
    eligible=st.integers(min_value=3, max_value=7),
    max_gap=st.integers(min_value=3, max_value=14),
    ramp=st.integers(min_value=1, max_value=3),
)
def test_solved_q_gives_the_target_mean_gap_and_is_never_zero(tests_per_week, eligible, max_gap, ramp):
    try:
        q = solve_q(
            tests_per_week=tests_per_week, eligible_days_per_week=eligible, max_gap=max_gap, ramp=ramp
        )
    except PolicyError:
        return
    assert 0 < q <= 1
    assert mean_gap(q, max_gap=max_gap, ramp=ramp) == pytest.approx(eligible / tests_per_week, rel=1e-9)
    assert sum(first_test_distribution(q, max_gap=max_gap, ramp=ramp)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tests_per_week": 0, "eligible_days_per_week": 5, "max_gap": 5, "ramp": 2}, "above 0"),
        ({"tests_per_week": 6, "eligible_days_per_week": 5, "max_gap": 5, "ramp": 2}, "cannot exceed"),
        ({"tests_per_week": 1, "eligible_days_per_week": 5, "max_gap": 3, "ramp": 2}, "always below"),
        ({"tests_per_week": 1, "eligible_days_per_week": 5, "max_gap": 5, "ramp": 6}, "ramp"),
        ({"tests_per_week": 1, "eligible_days_per_week": 0, "max_gap": 5, "ramp": 2}, "between 1 and 7"),
    ],
)
def test_impossible_policies_are_refused_with_a_message(kwargs, message):
    with pytest.raises(PolicyError, match=message):
        check_policy(**kwargs)


def test_a_maximum_on_a_weekday_multiple_with_ramp_one_is_warned_about():
    assert "same weekday" in weekday_lock_warning(eligible_days_per_week=5, max_gap=10, ramp=1)
    assert weekday_lock_warning(eligible_days_per_week=5, max_gap=10, ramp=2) == ""
    assert weekday_lock_warning(eligible_days_per_week=5, max_gap=9, ramp=1) == ""


def state(k, owed="0"):
    return PatientState(
        tests_per_week="2", eligible_days_per_week=5, max_gap=5, ramp=2, days_since_test=k, owed=owed
    )


def test_probability_the_day_after_a_test_is_q_never_zero():
    p = float(probability(state(1)))
    assert p == pytest.approx(0.3348, abs=1e-4)
    assert p > 0


def test_probability_is_one_on_the_maximum_day_and_after_it():
    assert probability(state(5)) == "1.000000000000"
    assert probability(state(8)) == "1.000000000000"


def test_catch_up_adds_at_most_half_the_daily_rate():
    base = float(probability(state(1)))
    assert float(probability(state(1, owed="0.25"))) == pytest.approx(base + 0.25 * 0.4, abs=1e-9)
    assert float(probability(state(1, owed="3"))) == pytest.approx(base + 0.2, abs=1e-9)  # cap 0.5 r
    assert float(probability(state(1, owed="-2"))) == pytest.approx(base, abs=1e-12)  # upward only


# Golden vectors, computed independently with
#   printf '%s' 'v1|site-a|2026-03-02|p0001|' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f
# (first 16 hex digits as a big-endian integer).
GOLDEN = [
    ("site-a", "2026-03-02", "p0001", "", 1092277838216884507),
    ("site-a", "2026-03-02", "p0002", "", 12079387595859677411),
    ("9c4f", "2026-12-31", "abc123", "beacon42", 17144919127828308580),
]


@pytest.mark.parametrize(("site", "day", "pseudonym", "nonce", "u"), GOLDEN)
def test_hmac_selection_value_matches_golden_vectors(site, day, pseudonym, nonce, u):
    assert uniform_value(KEY, site=site, day=day, pseudonym=pseudonym, nonce=nonce) == u


def test_threshold_is_the_exact_floor_of_p_times_two_to_the_64():
    assert threshold("0.5") == 2**63
    assert threshold("1.000000000000") == 2**64
    assert threshold("0.000000000001") == 18446744
    assert threshold("0.000000000000") == 0
    with pytest.raises(ValueError):
        threshold("1.5")


def test_golden_selection_is_an_integer_compare():
    # U(p0002) = 12079387595859677411 = 0.6548249... * 2**64
    assert threshold("0.654824913686") < 12079387595859677411 < threshold("0.654824913687")


def test_commitment_is_sha256_of_the_key():
    assert commitment_of(KEY) == hashlib.sha256(KEY).hexdigest()
    assert commitment_of(KEY) == "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"


def pool(*names, k=1):
    return [PoolEntry(name, state(k)) for name in names]


def test_a_patients_selection_does_not_depend_on_who_else_is_in_the_pool():
    small = draw(KEY, site="s", day="2026-03-02", pool=pool(*[f"p{i}" for i in range(10)]))
    large = draw(KEY, site="s", day="2026-03-02", pool=pool(*[f"p{i}" for i in range(200)]))
    by_name = {entry["pseudonym"]: entry for entry in large["pool"]}
    for entry in small["pool"]:
        assert by_name[entry["pseudonym"]] == entry


def test_recheck_passes_an_honest_snapshot_and_names_each_tampering():
    snapshot = draw(KEY, site="s", day="2026-03-02", pool=pool(*[f"p{i}" for i in range(30)]), nonce="n")
    assert recheck_snapshot(KEY, snapshot) == []
    assert recheck_snapshot(b"another key", snapshot)  # a wrong key
    flipped = {**snapshot, "pool": [dict(e) for e in snapshot["pool"]]}
    flipped["pool"][3]["selected"] = not flipped["pool"][3]["selected"]
    assert [p.pseudonym for p in recheck_snapshot(KEY, flipped)] == [flipped["pool"][3]["pseudonym"]]
    raised = {**snapshot, "pool": [dict(e) for e in snapshot["pool"]]}
    raised["pool"][0]["p"] = "1.000000000000"
    assert any("does not follow from the state" in p.problem for p in recheck_snapshot(KEY, raised))


def test_snapshot_hash_changes_with_any_field():
    snapshot = draw(KEY, site="s", day="2026-03-02", pool=pool("a", "b"))
    other = draw(KEY, site="s", day="2026-03-02", pool=pool("a", "b", k=2))
    assert snapshot_hash(snapshot) == snapshot_hash(dict(reversed(list(snapshot.items()))))
    assert snapshot_hash(snapshot) != snapshot_hash(other)


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 1, 1)),
    span=st.integers(min_value=-3, max_value=60),
    weekdays=st.sets(st.integers(min_value=1, max_value=7), min_size=1),
)
def test_eligible_days_between_counts_like_walking_the_calendar(start, span, weekdays):
    end = start + timedelta(days=span)
    walked = sum(1 for n in range(1, span + 1) if (start + timedelta(days=n)).isoweekday() in weekdays)
    assert eligible_days_between(start, end, weekdays=weekdays) == walked
