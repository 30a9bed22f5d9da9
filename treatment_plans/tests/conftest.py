import pytest


@pytest.fixture(autouse=True)
def problem_library(db):
    """The seeded library (a transactional test elsewhere flushes migration data: put it back)."""
    from treatment_plans.models import ProblemTemplate
    from treatment_plans.problem_library import ensure_problem_library

    ensure_problem_library(ProblemTemplate)
