"""The demo clinic's schedules (issue 8): tracks, enrolments and past attendance, idempotent."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db.models import F
from django.utils import timezone

from iop.demo.generator import DEMO_PROGRAM_NAME, seed_demo_clinic
from patients.models import EpisodeStatus, Program
from scheduling import selectors
from scheduling.models import Attendance, Enrolment, GroupSeries, Occurrence


@pytest.fixture(autouse=True)
def default_program(db) -> None:
    if not Program.objects.filter(name=DEMO_PROGRAM_NAME).exists():
        import_module("patients.migrations.0002_default_program").seed(django_apps, None)


def test_the_demo_clinic_has_tracks_enrolments_and_attendance(db):
    seed_demo_clinic(patients=40, sites=2, weeks=4)
    names = set(GroupSeries.objects.values_list("site__name", "name"))
    assert len(names) == 6 and {name for _site, name in names} == {
        "Phase 1 morning",
        "Phase 1 evening",
        "Aftercare",
    }
    today = timezone.localdate()
    assert Occurrence.objects.filter(local_date__gte=today + timedelta(weeks=7)).exists()  # generated ahead
    enrolments = Enrolment.objects.select_related("episode__current_phase", "series")
    assert enrolments.exists()
    for enrolment in enrolments.filter(left_on__isnull=True):  # places now
        assert enrolment.episode.status == EpisodeStatus.ACTIVE
        assert enrolment.series.phases.filter(pk=enrolment.episode.current_phase_id).exists()
        assert enrolment.series.enrolments.filter(left_on__isnull=True).count() <= enrolment.series.capacity
    history = enrolments.filter(left_on__isnull=False)
    assert history.filter(episode__status=EpisodeStatus.DISCHARGED).exists()
    for enrolment in history:  # ended by discharge (or a phase change), never later
        assert enrolment.left_on <= (enrolment.episode.discharged_on or today)
        assert enrolment.joined_on >= enrolment.episode.admitted_on
    outside = Attendance.objects.filter(episode__enrolments__series=F("occurrence__series")).exclude(
        episode__enrolments__joined_on__lte=F("local_date")
    )
    assert not outside.exists()
    rows = Attendance.objects.all()
    assert rows.filter(status="present").count() > rows.exclude(status="present").count() > 0
    assert not rows.filter(local_date__gte=today).exists()
    some = enrolments.first().episode
    week = selectors.weekly_hours(some, week_of=today - timedelta(days=7))
    assert week.required_minutes > 0
    before = (
        GroupSeries.objects.count(),
        Occurrence.objects.count(),
        Enrolment.objects.count(),
        rows.count(),
    )
    report = seed_demo_clinic(patients=40, sites=2, weeks=4)
    after = (GroupSeries.objects.count(), Occurrence.objects.count(), Enrolment.objects.count(), rows.count())
    assert after == before
    assert not report.created_anything


def test_the_reference_workload_has_about_forty_series_a_site_without_room_clashes(db):
    from scheduling.conflicts import series_room_clash

    seed_demo_clinic(patients=30, sites=1, weeks=2, mix="reference", history_weeks=4)
    series = list(GroupSeries.objects.select_related("site"))
    assert len(series) == 40
    for each in series:
        assert series_room_clash(each, exclude_series_id=each.pk) is None, each.name
