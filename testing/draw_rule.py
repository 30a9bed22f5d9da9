"""The random draw's rule: capped-hazard probabilities, the solver for q and HMAC selection.

Pure functions over plain values (no Django, no database, never `random`), specified in
../shared/CLINICAL.md section 5 "The random draw" and docs/decisions/0011-random-testing.md.

For each patient in a site's pool, on each eligible (operating, not excused) day:

- `r = tests_per_week / eligible_days_per_week`; `N` = the phase's maximum eligible days
  untested; ramp `L` (default 2).
- The hazard on the k-th eligible day since the last completed test is `h(k) = q` for
  `k <= N - L`, then rises linearly to 1 at `k = N` (`q + (1 - q) * j / L` on day `N - L + j`).
- `q` is solved by bisection so that the mean gap `sum_k k * P(first test on day k)` equals
  `1 / r` exactly.
- `p = min(1, h(k) + catch_up)`, where the catch-up term adds back tests missed through
  absence, upward only and capped at `0.5 * r`.
- `U` = the first 8 bytes of `HMAC-SHA256(K_month, "v1|site|date|pseudonym|nonce")` as a
  big-endian integer; the patient is selected when `U < floor(p * 2**64)`, an integer compare
  in which `p` is the decimal string recorded in the snapshot (so any language recomputes it
  exactly). A patient's selection depends only on the month key, the site, the day, their
  pseudonym, the nonce and their own p: never on who else is in the pool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache

ALGORITHM_VERSION = "v1"
DEFAULT_RAMP = 2
P_DECIMALS = 12  # p and q are recorded as decimal strings with this many places
BISECTION_STEPS = 80
SCALE = 2**64


class PolicyError(ValueError):
    """A testing rate, maximum gap and ramp that no q can satisfy (shown on the policy form)."""


def hazard(k: int, *, q: float, max_gap: int, ramp: int) -> float:
    """h(k): q up to `max_gap - ramp`, then a linear rise to 1 at `max_gap` (and 1 after it)."""
    if k < 1:
        raise ValueError("k counts eligible days since the last test, from 1")
    start = max_gap - ramp
    if k <= start:
        return q
    if k >= max_gap:
        return 1.0
    return q + (1.0 - q) * (k - start) / ramp


def mean_gap(q: float, *, max_gap: int, ramp: int) -> float:
    """Expected eligible days from one completed test to the next: sum k * P(first on day k)."""
    survive, mean = 1.0, 0.0
    for k in range(1, max_gap + 1):
        h = hazard(k, q=q, max_gap=max_gap, ramp=ramp)
        mean += k * survive * h
        survive *= 1.0 - h
    return mean


def first_test_distribution(q: float, *, max_gap: int, ramp: int) -> list[float]:
    """P(first test on eligible day k) for k = 1..max_gap (sums to 1)."""
    survive, probabilities = 1.0, []
    for k in range(1, max_gap + 1):
        h = hazard(k, q=q, max_gap=max_gap, ramp=ramp)
        probabilities.append(survive * h)
        survive *= 1.0 - h
    return probabilities


def check_policy(*, tests_per_week: float, eligible_days_per_week: int, max_gap: int, ramp: int) -> None:
    """Raise PolicyError with a readable message when the numbers cannot work together."""
    if eligible_days_per_week < 1 or eligible_days_per_week > 7:
        raise PolicyError("Eligible days per week must be between 1 and 7.")
    if tests_per_week <= 0:
        raise PolicyError("Tests per week must be above 0.")
    if tests_per_week > eligible_days_per_week:
        raise PolicyError("Tests per week cannot exceed the eligible days per week.")
    if max_gap < 1:
        raise PolicyError("The maximum days untested must be at least 1.")
    if ramp < 1 or ramp > max_gap:
        raise PolicyError("The ramp must be between 1 and the maximum days untested.")
    target = eligible_days_per_week / tests_per_week
    longest_mean = mean_gap(0.0, max_gap=max_gap, ramp=ramp)
    if target >= longest_mean:
        raise PolicyError(
            f"{tests_per_week:g} tests a week over {eligible_days_per_week} eligible days means a test "
            f"every {target:.2f} days on average, but with at most {max_gap} days untested and a ramp of "
            f"{ramp} the average gap is always below {longest_mean:.2f}: raise the rate or the maximum."
        )


def weekday_lock_warning(*, eligible_days_per_week: int, max_gap: int, ramp: int) -> str:
    """CLINICAL.md: avoid N a multiple of the eligible days per week unless L >= 2."""
    if ramp < 2 and max_gap % eligible_days_per_week == 0:
        return (
            "The maximum days untested is a multiple of the eligible days per week and the ramp is 1: "
            "the forced test would fall on the same weekday. Use a ramp of 2 or more."
        )
    return ""


@cache
def solve_q(
    *, tests_per_week: float, eligible_days_per_week: int, max_gap: int, ramp: int = DEFAULT_RAMP
) -> float:
    """The q whose mean gap is exactly 1 / r (bisection; deterministic IEEE arithmetic)."""
    check_policy(
        tests_per_week=tests_per_week,
        eligible_days_per_week=eligible_days_per_week,
        max_gap=max_gap,
        ramp=ramp,
    )
    target = eligible_days_per_week / tests_per_week
    low, high = 0.0, 1.0  # mean_gap falls as q rises
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        if mean_gap(middle, max_gap=max_gap, ramp=ramp) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def as_decimal_string(value: float) -> str:
    """The recorded form of a probability: fixed decimals, so the threshold is exact anywhere."""
    return f"{value:.{P_DECIMALS}f}"


@dataclass(frozen=True)
class PatientState:
    """What a patient's probability follows from, recorded in the draw's snapshot."""

    tests_per_week: str  # decimal string, from the phase
    eligible_days_per_week: int
    max_gap: int
    ramp: int
    days_since_test: int  # k: eligible days since the last completed test, this day included
    owed: str = "0"  # tests missed through absence not yet made up (catch-up), decimal string

    def as_dict(self) -> dict:
        return {
            "tests_per_week": self.tests_per_week,
            "eligible_days_per_week": self.eligible_days_per_week,
            "max_gap": self.max_gap,
            "ramp": self.ramp,
            "days_since_test": self.days_since_test,
            "owed": self.owed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> PatientState:
        return cls(
            tests_per_week=str(data["tests_per_week"]),
            eligible_days_per_week=int(data["eligible_days_per_week"]),
            max_gap=int(data["max_gap"]),
            ramp=int(data["ramp"]),
            days_since_test=int(data["days_since_test"]),
            owed=str(data.get("owed", "0")),
        )

    @property
    def rate(self) -> float:
        return float(Decimal(self.tests_per_week)) / self.eligible_days_per_week


def catch_up(*, owed: float, rate: float) -> float:
    """Upward-only catch-up for tests missed through absence, capped at half the daily rate."""
    if owed <= 0:
        return 0.0
    return min(0.5 * rate, owed * rate)


def probability(state: PatientState, *, q: float | None = None) -> str:
    """p for this state, as the recorded decimal string (never 0 for an eligible day)."""
    if q is None:
        q = solve_q(
            tests_per_week=float(Decimal(state.tests_per_week)),
            eligible_days_per_week=state.eligible_days_per_week,
            max_gap=state.max_gap,
            ramp=state.ramp,
        )
    h = hazard(max(state.days_since_test, 1), q=q, max_gap=state.max_gap, ramp=state.ramp)
    p = min(1.0, h + catch_up(owed=float(Decimal(state.owed)), rate=state.rate))
    return as_decimal_string(p)


def selection_message(*, site: str, day: str, pseudonym: str, nonce: str = "") -> bytes:
    for part in (site, day, pseudonym, nonce):
        if "|" in part:
            raise ValueError("draw message parts may not contain '|'")
    return f"{ALGORITHM_VERSION}|{site}|{day}|{pseudonym}|{nonce}".encode()


def uniform_value(key: bytes, *, site: str, day: str, pseudonym: str, nonce: str = "") -> int:
    """U: the first 8 bytes of HMAC-SHA256(key, message) as a big-endian integer."""
    digest = hmac.new(
        key, selection_message(site=site, day=day, pseudonym=pseudonym, nonce=nonce), hashlib.sha256
    )
    return int.from_bytes(digest.digest()[:8], "big")


def threshold(p: str) -> int:
    """floor(p * 2**64), exactly, from the recorded decimal string."""
    value = Fraction(Decimal(p))
    if value < 0 or value > 1:
        raise ValueError("a probability lies in [0, 1]")
    return int(value * SCALE)  # int() floors a non-negative Fraction


def is_selected(key: bytes, *, site: str, day: str, pseudonym: str, p: str, nonce: str = "") -> bool:
    return uniform_value(key, site=site, day=day, pseudonym=pseudonym, nonce=nonce) < threshold(p)


def commitment_of(key: bytes) -> str:
    """The published commitment to a month key: SHA-256 of its bytes, hex."""
    return hashlib.sha256(key).hexdigest()


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def snapshot_hash(snapshot: dict) -> str:
    """SHA-256 of the snapshot's canonical JSON: what the audit chain records at draw time."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


@dataclass(frozen=True)
class PoolEntry:
    pseudonym: str
    state: PatientState


def draw(key: bytes, *, site: str, day: str, pool: list[PoolEntry], nonce: str = "") -> dict:
    """One day's draw: the snapshot (each entry's state, p, U and selection) as plain JSON data.

    q is solved once per distinct policy in the pool.
    """
    solved: dict[tuple, float] = {}
    entries = []
    for entry in sorted(pool, key=lambda e: e.pseudonym):
        state = entry.state
        policy = (state.tests_per_week, state.eligible_days_per_week, state.max_gap, state.ramp)
        if policy not in solved:
            solved[policy] = solve_q(
                tests_per_week=float(Decimal(state.tests_per_week)),
                eligible_days_per_week=state.eligible_days_per_week,
                max_gap=state.max_gap,
                ramp=state.ramp,
            )
        p = probability(state, q=solved[policy])
        u = uniform_value(key, site=site, day=day, pseudonym=entry.pseudonym, nonce=nonce)
        entries.append(
            {
                "pseudonym": entry.pseudonym,
                "state": state.as_dict(),
                "q": as_decimal_string(solved[policy]),
                "p": p,
                "u": str(u),
                "selected": u < threshold(p),
            }
        )
    return {
        "algorithm": ALGORITHM_VERSION,
        "site": site,
        "date": day,
        "nonce": nonce,
        "pool": entries,
    }


@dataclass(frozen=True)
class SnapshotProblem:
    pseudonym: str
    problem: str


def recheck_snapshot(key: bytes, snapshot: dict) -> list[SnapshotProblem]:
    """An auditor's recomputation: every q and p from the recorded state, every U and selection
    from the revealed key. Returns the disagreements (empty when everything matches)."""
    problems: list[SnapshotProblem] = []
    if snapshot.get("algorithm") != ALGORITHM_VERSION:
        return [SnapshotProblem("", f"unknown algorithm version {snapshot.get('algorithm')!r}")]
    site, day, nonce = snapshot["site"], snapshot["date"], snapshot.get("nonce", "")
    for entry in snapshot["pool"]:
        pseudonym = entry["pseudonym"]
        try:
            state = PatientState.from_dict(entry["state"])
            q = solve_q(
                tests_per_week=float(Decimal(state.tests_per_week)),
                eligible_days_per_week=state.eligible_days_per_week,
                max_gap=state.max_gap,
                ramp=state.ramp,
            )
        except (KeyError, ValueError, ArithmeticError) as error:
            problems.append(SnapshotProblem(pseudonym, f"state cannot be read: {error}"))
            continue
        if as_decimal_string(q) != entry["q"]:
            problems.append(SnapshotProblem(pseudonym, f"q {entry['q']} does not follow from the policy"))
        expected_p = probability(state, q=q)
        if expected_p != entry["p"]:
            problems.append(
                SnapshotProblem(pseudonym, f"p {entry['p']} does not follow from the state ({expected_p})")
            )
        u = uniform_value(key, site=site, day=day, pseudonym=pseudonym, nonce=nonce)
        if str(u) != entry["u"]:
            problems.append(SnapshotProblem(pseudonym, "U differs from the HMAC of the revealed key"))
        if (u < threshold(entry["p"])) != entry["selected"]:
            problems.append(SnapshotProblem(pseudonym, "the recorded selection does not follow from U and p"))
    return problems


def eligible_days_between(after, until, *, weekdays: list[int] | tuple[int, ...] | set[int]) -> int:
    """Eligible days d with after < d <= until (dates), where eligible means an ISO weekday in
    `weekdays`. Constant time: whole weeks, then the remainder."""
    if until <= after:
        return 0
    span = (until - after).days
    weeks, remainder = divmod(span, 7)
    count = weeks * len(set(weekdays))
    start = after.isoweekday()
    count += sum(1 for offset in range(1, remainder + 1) if (start - 1 + offset) % 7 + 1 in weekdays)
    return count
