"""Scheduling fixtures: a Phase 1 morning track at the clinic's site A, facilitated by the
care-team clinician, with today's and earlier occurrences generated."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import Occurrence
from scheduling.services import series as series_services
from scheduling.tests.factories import RoomFactory, SeriesFactory


@pytest.fixture
def room(clinic):
    return RoomFactory(site=clinic.site_a, name="Room B", capacity=14)


@pytest.fixture
def morning(clinic, room):
    """Every day at 09:00 for 3 hours (so there is a session today whatever the weekday),
    started four weeks ago, facilitated by the care-team clinician."""
    series = SeriesFactory(
        site=clinic.site_a,
        name="Phase 1 morning",
        room=room,
        facilitator=clinic.clinician_on_team,
        recurrence_rule="FREQ=DAILY",
        start_time=time(9),
        duration_minutes=180,
        starts_on=timezone.localdate() - timedelta(days=28),
    )
    series_services.generate_occurrences(series=series, ahead_weeks=2, since=series.starts_on)
    return series


@pytest.fixture
def today_occurrence(morning):
    return Occurrence.objects.get(
        series=morning, local_date=timezone.localdate(timezone=morning.site.timezone)
    )


@pytest.fixture(autouse=True)
def seeded_session_types(request):
    """The session types migration 0002 seeds (a transactional test elsewhere flushes them),
    for every test that builds a clinic; the pure-rule tests stay off the database."""
    if "clinic" not in request.fixturenames:
        return
    request.getfixturevalue("db")
    from scheduling.default_catalogue import ensure_session_types
    from scheduling.models import SessionType

    ensure_session_types(SessionType)
