import datetime

import pytest

from patients.tests.factories import PatientFactory, admit


@pytest.fixture
def admit_patients():
    """Admit `count` more patients at `site` (phase 1 of the default program)."""

    def make(site, count, *, admitted_on=None):
        return [
            admit(PatientFactory(site=site), admitted_on=admitted_on or datetime.date(2026, 1, 5))
            for _ in range(count)
        ]

    return make
