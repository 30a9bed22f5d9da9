"""The schedule builder page and service: a Phase 1 patient working 14:00-22:00."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEntry
from patients.models import AvailabilityWindow, Phase
from scheduling.models import Enrolment
from scheduling.services import builder as builder_services
from scheduling.tests.factories import RoomFactory, SeriesFactory

TODAY = timezone.localdate


@pytest.fixture
def tracks(clinic, room):
    phase_1 = Phase.objects.filter(order=1)
    morning = SeriesFactory(
        site=clinic.site_a,
        name="Phase 1 morning",
        room=room,
        facilitator=clinic.clinician_on_team,
        start_time=time(9),
        duration_minutes=180,
    )
    evening = SeriesFactory(
        site=clinic.site_a,
        name="Phase 1 evening",
        room=RoomFactory(site=clinic.site_a, name="Room C"),
        facilitator=clinic.clinician_elsewhere,
        start_time=time(18),
        duration_minutes=180,
    )
    aftercare = SeriesFactory(
        site=clinic.site_a,
        name="Aftercare",
        room=room,
        facilitator=clinic.clinician_elsewhere,
        recurrence_rule="FREQ=WEEKLY;BYDAY=TU",
        start_time=time(18),
        duration_minutes=90,
    )
    morning.phases.set(phase_1)
    evening.phases.set(phase_1)
    aftercare.phases.set(Phase.objects.filter(order=2))
    for weekday in range(1, 6):
        AvailabilityWindow.objects.create(
            patient=clinic.patient, kind="work", weekday=weekday, starts_at=time(14), ends_at=time(22)
        )
    return morning, evening, aftercare


def test_the_builder_proposes_the_morning_track_and_the_case_manager_accepts_it(clinic, login, tracks):
    morning, _evening, _aftercare = tracks
    client = login(clinic.case_manager)
    url = reverse("scheduling:build_week", args=[clinic.patient.public_id])
    page = client.get(url).content.decode()
    assert 'data-testid="builder-meets"' in page
    assert (
        page.count('data-testid="builder-proposed"') == 1
        and "Phase 1 morning" in page.split('data-testid="builder-proposed"')[1]
    )
    assert "when the patient is not available" in page
    response = client.post(url, {"series": [str(morning.public_id)], "starting_on": TODAY().isoformat()})
    assert response.status_code == 302
    assert list(Enrolment.objects.filter(episode=clinic.episode).values_list("series__name", flat=True)) == [
        "Phase 1 morning"
    ]
    assert AuditEntry.objects.filter(reason="Schedule builder proposal accepted").exists()


def test_choosing_other_groups_needs_a_reason_and_is_audited(clinic, login, tracks):
    morning, evening, _aftercare = tracks
    client = login(clinic.case_manager)
    url = reverse("scheduling:build_week", args=[clinic.patient.public_id])
    refused = client.post(url, {"series": [str(evening.public_id)], "starting_on": TODAY().isoformat()})
    assert refused.status_code == 200 and "say why" in refused.content.decode()
    assert not Enrolment.objects.exists()
    accepted = client.post(
        url,
        {
            "series": [str(evening.public_id)],
            "starting_on": TODAY().isoformat(),
            "reason": "Shift changes next week",
        },
    )
    assert accepted.status_code == 302
    assert AuditEntry.objects.filter(reason="Schedule builder override: Shift changes next week").exists()


def test_switching_tracks_leaves_the_old_one_the_day_before(clinic, tracks):
    morning, evening, _aftercare = tracks
    AvailabilityWindow.objects.filter(patient=clinic.patient).delete()
    Enrolment.objects.create(series=evening, episode=clinic.episode, joined_on=TODAY() - timedelta(days=10))
    start = TODAY() + timedelta(days=3)
    builder_services.apply_week(
        actor=clinic.case_manager,
        episode=clinic.episode,
        keys=[str(morning.public_id)],
        starting_on=start,
        reason="Prefers mornings",
    )
    old = Enrolment.objects.get(series=evening)
    new = Enrolment.objects.get(series=morning)
    assert old.left_on == start - timedelta(days=1) and new.joined_on == start


def test_an_under_scheduled_week_says_by_how_much(clinic, login, tracks):
    for window in AvailabilityWindow.objects.filter(patient=clinic.patient):
        window.starts_at = time(8)
        window.save()
    page = (
        login(clinic.case_manager)
        .get(reverse("scheduling:build_week", args=[clinic.patient.public_id]))
        .content.decode()
    )
    assert 'data-testid="builder-short"' in page and "9.0 h" in page


@pytest.mark.parametrize("persona", ["peer_support", "medical", "clinician_elsewhere", "admin_other_site"])
def test_only_those_who_enrol_the_patient_use_the_builder(clinic, login, tracks, persona):
    response = login(clinic.persona(persona)).get(
        reverse("scheduling:build_week", args=[clinic.patient.public_id])
    )
    assert response.status_code == 404
