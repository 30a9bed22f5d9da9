"""The schedule builder (no Django): which group series a patient should join so that their
week meets the phase's requirement inside their availability, without any conflict.

Inputs are plain data: the requirement (sessions and clinical minutes a week), the patient's
busy windows (work, school, family: weekday and local times), their other fixed sessions
(appointments), the series they are enrolled in now, and every candidate series with its
meetings in a representative week. Conflicts the builder rules out:
- a meeting overlapping one of the patient's busy windows or fixed sessions;
- two chosen series meeting at once (the patient cannot be in two rooms);
- a series that is full (unless the patient is already in it) or does not serve the phase.
Rooms and facilitators never clash between series: creating a series refuses that.

Among the conflict-free choices the proposal prefers, in order: meeting the requirement; fewer
days a week at the clinic; fewer changes to what the patient has (joins + leaves); then fewer
minutes beyond the requirement, then earlier start times (deterministic). When nothing meets
the requirement it says by how many minutes the best choice falls short and what blocks each
series left out.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time
from itertools import combinations

from scheduling.recurrence import WEEKDAY_LABELS

MAX_SERIES_IN_A_WEEK = 4


@dataclass(frozen=True, order=True)
class Meeting:
    weekday: int  # ISO, 1 = Monday
    start: time
    end: time

    def overlaps(self, other: "Meeting") -> bool:
        return self.weekday == other.weekday and self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return f"{WEEKDAY_LABELS[self.weekday - 1]} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


@dataclass(frozen=True)
class Candidate:
    key: str  # the series' id
    name: str
    meetings: tuple[Meeting, ...]
    clinical: bool = True
    full: bool = False
    serves_phase: bool = True

    @property
    def clinical_minutes(self) -> int:
        return sum(m.minutes for m in self.meetings) if self.clinical else 0

    @property
    def days(self) -> frozenset[int]:
        return frozenset(m.weekday for m in self.meetings)


@dataclass(frozen=True)
class Need:
    sessions: int
    minutes: int


@dataclass(frozen=True)
class Proposal:
    keys: tuple[str, ...]  # the series to be in (kept and joined), by key
    join: tuple[str, ...]
    leave: tuple[str, ...]
    sessions: int
    minutes: int
    days: int
    meets_requirement: bool
    shortfall_minutes: int
    shortfall_sessions: int
    blocked: dict[str, str] = field(default_factory=dict)  # series key -> why it was left out

    @property
    def changes(self) -> int:
        return len(self.join) + len(self.leave)


def _why_blocked(candidate: Candidate, busy: Sequence[Meeting], current: set[str]) -> str | None:
    if not candidate.serves_phase and candidate.key not in current:
        return "does not serve the patient's phase"
    if candidate.full and candidate.key not in current:
        return "is full"
    for meeting in candidate.meetings:
        for window in busy:
            if meeting.overlaps(window):
                return f"meets {meeting}, when the patient is not available ({window})"
    return None


def _compatible(chosen: Sequence[Candidate]) -> bool:
    meetings = [m for c in chosen for m in c.meetings]
    return not any(a.overlaps(b) for a, b in combinations(meetings, 2))


def _score(chosen: Sequence[Candidate], need: Need, current: set[str]):
    minutes = sum(c.clinical_minutes for c in chosen)
    sessions = sum(len(c.meetings) for c in chosen)
    meets = minutes >= need.minutes and sessions >= need.sessions
    keys = {c.key for c in chosen}
    changes = len(keys ^ current)
    days = len(frozenset().union(*(c.days for c in chosen))) if chosen else 0
    earliest = tuple(sorted((m.weekday, m.start) for c in chosen for m in c.meetings))
    shortfall = max(0, need.minutes - minutes) + 60 * max(0, need.sessions - sessions)
    if meets:
        return (0, days, changes, minutes - need.minutes, earliest, tuple(sorted(keys)))
    return (1, shortfall, days, changes, earliest, tuple(sorted(keys)))


def propose(
    *,
    need: Need,
    candidates: Iterable[Candidate],
    busy: Sequence[Meeting] = (),
    current: Iterable[str] = (),
    max_series: int = MAX_SERIES_IN_A_WEEK,
) -> Proposal:
    """The best conflict-free set of series (see the module's docstring for "best")."""
    current = set(current)
    candidates = sorted(
        candidates, key=lambda c: (min(c.meetings, default=Meeting(7, time.max, time.max)), c.key)
    )
    blocked, usable = {}, []
    for candidate in candidates:
        reason = _why_blocked(candidate, busy, current)
        if reason is None:
            usable.append(candidate)
        else:
            blocked[candidate.key] = reason
    best, best_score = (), _score((), need, current)
    # Depth-first over sets of up to `max_series` mutually compatible series; a set that meets
    # the requirement is not extended (a superset has at least its days and minutes).
    stack: list[tuple[tuple[Candidate, ...], int]] = [((), 0)]
    while stack:
        chosen, start = stack.pop()
        score = _score(chosen, need, current)
        if score < best_score:
            best, best_score = chosen, score
        if score[0] == 0 or len(chosen) >= max_series:
            continue
        if (
            best_score[0] == 0
            and len(frozenset().union(*(c.days for c in chosen)) if chosen else ()) >= best_score[1]
        ):
            continue  # already as many days as the best full answer: more cannot be better
        for index in range(len(usable) - 1, start - 1, -1):
            candidate = usable[index]
            if _compatible((*chosen, candidate)):
                stack.append(((*chosen, candidate), index + 1))
    keys = {c.key for c in best}
    minutes = sum(c.clinical_minutes for c in best)
    sessions = sum(len(c.meetings) for c in best)
    for candidate in usable:
        if candidate.key not in keys:
            clash = next((c for c in best if not _compatible((c, candidate))), None)
            if clash is not None:
                blocked.setdefault(candidate.key, f"meets at the same time as {clash.name}")
    return Proposal(
        keys=tuple(c.key for c in best),
        join=tuple(sorted(keys - current)),
        leave=tuple(sorted(current - keys)),
        sessions=sessions,
        minutes=minutes,
        days=len(frozenset().union(*(c.days for c in best))) if best else 0,
        meets_requirement=minutes >= need.minutes and sessions >= need.sessions,
        shortfall_minutes=max(0, need.minutes - minutes),
        shortfall_sessions=max(0, need.sessions - sessions),
        blocked=blocked,
    )


def has_conflict(chosen: Sequence[Candidate], busy: Sequence[Meeting]) -> bool:
    """Whether a set of series overlaps itself or the patient's busy times (for tests and checks)."""
    meetings = [m for c in chosen for m in c.meetings]
    return not _compatible(chosen) or any(m.overlaps(w) for m in meetings for w in busy)
