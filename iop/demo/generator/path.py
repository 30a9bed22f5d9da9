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
ACTIVE_SHARE = sum(stage in (PHASE_1, PHASE_2) for stage in PATH_CYCLE) / len(PATH_CYCLE)
# How many treated (admitted at some point) patients come before each position of the cycle.
TREATED_BEFORE = tuple(
    sum(stage != PRE_ADMISSION for stage in PATH_CYCLE[:position]) for position in range(len(PATH_CYCLE))
)
TREATED_PER_CYCLE = sum(stage != PRE_ADMISSION for stage in PATH_CYCLE)
