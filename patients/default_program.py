"""The default program from CLINICAL.md section 1 ("Adult SUD IOP", ASAM level 2.1), as data.

Used by the data migration that seeds it (with historical models) and by tests and the demo
(with the real ones), so the definition exists once.
"""

from decimal import Decimal

PROGRAM = {
    "name": "Adult SUD IOP",
    "level_of_care": "2.1",
    "description": "Intensive outpatient treatment for adults: Phase 1 intensive (Mon-Thu), "
    "then Phase 2 aftercare, then discharge with continuing care (3-6 months recommended).",
}
PHASES = [
    {
        "order": 1,
        "name": "Intensive",
        "description": "Four sessions a week, Monday to Thursday, at least 9 hours a week.",
        "min_weeks": 4,
        "sessions_per_week": 4,
        "min_hours_per_week": Decimal("9.0"),
        "tests_per_week": Decimal("2.0"),
        "max_days_untested": 5,
        "attendance_threshold_percent": 85,
        "advancement_criteria": "At least 4 weeks in phase; attendance at least 85% of scheduled "
        "hours over the last 2 weeks; last 2 tests negative or expected; no open "
        "unexpected-positive review; clinician approval.",
    },
    {
        "order": 2,
        "name": "Aftercare",
        "description": "One group a week for about 10 weeks.",
        "min_weeks": 10,
        "sessions_per_week": 1,
        "min_hours_per_week": Decimal("1.5"),
        "tests_per_week": Decimal("1.0"),
        "max_days_untested": 9,
        "attendance_threshold_percent": 80,
        "advancement_criteria": "At least 10 weeks in phase; attendance at least 80%; last 2 tests "
        "negative; clinician approval. Then discharge (completed) with continuing care.",
    },
]


def ensure_default_program(program_model, phase_model):
    """Create the default program and its phases if missing; return the program."""
    program, _ = program_model.objects.get_or_create(name=PROGRAM["name"], defaults=PROGRAM)
    for phase in PHASES:
        phase_model.objects.get_or_create(program=program, order=phase["order"], defaults=phase)
    return program
