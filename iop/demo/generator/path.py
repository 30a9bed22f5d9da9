"""Where each demo patient is on the path: pre-admission, Phase 1 or 2, or discharged.

The stage repeats every ten patients of a site: 10% pre-admission, 10% discharged, the rest
active, half in Phase 1 and half in Phase 2.
"""

PRE_ADMISSION = "pre_admission"
PHASE_1 = "phase_1"
PHASE_2 = "phase_2"
DISCHARGED = "discharged"
PATH_CYCLE = (
    PHASE_1,
    PHASE_2,
    PHASE_1,
    PHASE_2,
    DISCHARGED,
    PHASE_1,
    PHASE_2,
    PHASE_1,
    PHASE_2,
    PRE_ADMISSION,
)
# The benchmark's reference workload (`make bench`): an established clinic with two years of
# history, 5 active and 20 discharged patients for every one waiting for admission
# (26,000 patients: 5,000 active, 20,000 discharged, 1,000 in intake).
REFERENCE_CYCLE = (
    PHASE_1,
    *(DISCHARGED,) * 4,
    PHASE_2,
    *(DISCHARGED,) * 4,
    PHASE_1,
    *(DISCHARGED,) * 4,
    PHASE_2,
    *(DISCHARGED,) * 4,
    PHASE_1,
    *(DISCHARGED,) * 4,
    PRE_ADMISSION,
)
CYCLES = {"demo": PATH_CYCLE, "reference": REFERENCE_CYCLE}


def active_share(cycle: tuple[str, ...] = PATH_CYCLE) -> float:
    return sum(stage in (PHASE_1, PHASE_2) for stage in cycle) / len(cycle)


def treated_before(cycle: tuple[str, ...], position: int) -> int:
    """How many treated (admitted at some point) patients come before `position` of the cycle."""
    return sum(stage != PRE_ADMISSION for stage in cycle[:position])


def treated_per_cycle(cycle: tuple[str, ...]) -> int:
    return sum(stage != PRE_ADMISSION for stage in cycle)


ACTIVE_SHARE = active_share(PATH_CYCLE)
