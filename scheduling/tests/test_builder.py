"""The schedule builder's properties (hypothesis) and the issue's journey case."""

from datetime import time
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.builder import Candidate, Meeting, Need, has_conflict, propose

MON_THU = (1, 2, 3, 4)
MORNING = Candidate("morning", "Phase 1 morning", tuple(Meeting(d, time(9), time(12)) for d in MON_THU))
EVENING = Candidate("evening", "Phase 1 evening", tuple(Meeting(d, time(18), time(21)) for d in MON_THU))
AFTERCARE = Candidate("aftercare", "Aftercare", (Meeting(2, time(18), time(19, 30)),), serves_phase=False)
PHASE_1 = Need(sessions=4, minutes=9 * 60)


def test_a_patient_working_14_to_22_gets_the_morning_track():
    work = [Meeting(d, time(14), time(22)) for d in range(1, 6)]
    proposal = propose(need=PHASE_1, candidates=[MORNING, EVENING, AFTERCARE], busy=work)
    assert proposal.keys == ("morning",) and proposal.meets_requirement
    assert proposal.join == ("morning",) and proposal.days == 4
    assert "not available" in proposal.blocked["evening"]
    assert "phase" in proposal.blocked["aftercare"]


def test_fewer_changes_win_between_equal_weeks():
    proposal = propose(need=PHASE_1, candidates=[MORNING, EVENING], current=["evening"])
    assert proposal.keys == ("evening",) and proposal.changes == 0


def test_a_full_series_is_left_out_unless_the_patient_is_in_it():
    full = Candidate("morning", "Phase 1 morning", MORNING.meetings, full=True)
    assert propose(need=PHASE_1, candidates=[full]).blocked == {"morning": "is full"}
    assert propose(need=PHASE_1, candidates=[full], current=["morning"]).keys == ("morning",)


def test_when_nothing_meets_the_requirement_the_shortfall_and_blocks_are_given():
    days_job = [Meeting(d, time(8), time(17)) for d in range(1, 6)]
    short = Candidate(
        "short", "Evening skills", (Meeting(1, time(18), time(19, 30)), Meeting(3, time(18), time(19, 30)))
    )
    proposal = propose(need=PHASE_1, candidates=[MORNING, short], busy=days_job)
    assert not proposal.meets_requirement
    assert proposal.keys == ("short",)
    assert proposal.shortfall_minutes == 9 * 60 - 180 and proposal.shortfall_sessions == 2
    assert "Mon 09:00-12:00" in proposal.blocked["morning"]


hours = st.integers(min_value=7, max_value=20)


@st.composite
def meetings(draw, max_size=4):
    found = []
    for _ in range(draw(st.integers(min_value=1, max_value=max_size))):
        start = draw(hours)
        length = draw(st.integers(min_value=1, max_value=3))
        found.append(
            Meeting(draw(st.integers(min_value=1, max_value=5)), time(start), time(min(start + length, 23)))
        )
    return tuple(sorted(set(found)))


@st.composite
def instances(draw):
    candidates = [
        Candidate(
            f"s{i}",
            f"Series {i}",
            draw(meetings()),
            clinical=draw(st.booleans()) or i % 2 == 0,
            full=draw(st.booleans()) and draw(st.booleans()),
        )
        for i in range(draw(st.integers(min_value=0, max_value=7)))
    ]
    busy = list(
        draw(
            st.lists(
                st.builds(
                    Meeting,
                    st.integers(1, 5),
                    st.sampled_from([time(h) for h in range(7, 20)]),
                    st.just(time(21)),
                ),
                max_size=3,
            )
        )
    )
    current = draw(st.sets(st.sampled_from([c.key for c in candidates]), max_size=2)) if candidates else set()
    need = Need(
        sessions=draw(st.integers(min_value=0, max_value=5)),
        minutes=draw(st.sampled_from([0, 90, 180, 540, 720])),
    )
    return candidates, busy, current, need


def feasible_sets(candidates, busy, current):
    allowed = [c for c in candidates if (not c.full or c.key in current) and c.serves_phase]
    for size in range(0, 5):
        for chosen in combinations(allowed, size):
            if not has_conflict(chosen, busy):
                yield chosen


@settings(max_examples=150, deadline=None)
@given(instances())
def test_a_proposal_never_has_a_conflict_and_meets_the_requirement_whenever_a_week_can(instance):
    candidates, busy, current, need = instance
    proposal = propose(need=need, candidates=candidates, busy=busy, current=current)
    by_key = {c.key: c for c in candidates}
    chosen = [by_key[key] for key in proposal.keys]
    assert not has_conflict(chosen, busy)
    assert all(not c.full or c.key in current for c in chosen)
    meeting = [
        s
        for s in feasible_sets(candidates, busy, current)
        if sum(c.clinical_minutes for c in s) >= need.minutes
        and sum(len(c.meetings) for c in s) >= need.sessions
    ]
    assert proposal.meets_requirement == bool(meeting)
    if meeting:  # and with no more days at the clinic than any week that meets it
        fewest = min(len(frozenset().union(*(c.days for c in s))) if s else 0 for s in meeting)
        assert proposal.days == fewest
    assert set(proposal.join) == set(proposal.keys) - set(current)
    assert set(proposal.leave) == set(current) - set(proposal.keys)


def test_forty_series_are_searched_quickly():
    import time as clock

    candidates = [
        Candidate(
            f"s{i}",
            f"Series {i}",
            tuple(Meeting(d, time(7 + i % 12), time(8 + i % 12)) for d in (1 + i % 5, 1 + (i + 2) % 5)),
        )
        for i in range(40)
    ]
    started = clock.perf_counter()
    proposal = propose(
        need=Need(sessions=6, minutes=9 * 60), candidates=candidates, busy=[Meeting(1, time(14), time(22))]
    )
    assert clock.perf_counter() - started < 2.0
    assert not has_conflict(
        [c for c in candidates if c.key in proposal.keys], [Meeting(1, time(14), time(22))]
    )
