"""Series and occurrences: creation and its refusals, idempotent generation, one-off changes."""

from datetime import time, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from iop.audit.models import AuditEntry
from iop.core.concurrency import StaleEdit
from patients.models import Phase
from scheduling.models import CurriculumTopic, GroupSeries, Occurrence, OccurrenceStatus, TopicCycle
from scheduling.services import series as services
from scheduling.tests.factories import RoomFactory, group_therapy


def make(clinic, room, **overrides):
    values = {
        "actor": clinic.admin,
        "site": clinic.site_a,
        "name": "Phase 1 evening",
        "session_type": group_therapy(),
        "room": room,
        "facilitator": clinic.clinician_on_team,
        "capacity": 12,
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH",
        "start_time": time(18),
        "duration_minutes": 180,
        "starts_on": timezone.localdate(),
    } | overrides
    return services.create_series(**values)


def test_an_admin_creates_a_series_which_is_audited_and_generated_eight_weeks_ahead(clinic, room):
    series = make(clinic, room, phases=Phase.objects.filter(order=1))
    assert list(series.phases.values_list("order", flat=True)) == [1]
    occurrences = Occurrence.objects.filter(series=series)
    assert 30 <= occurrences.count() <= 36  # 4 a week for 8 weeks (+ today's week)
    assert {o.starts_at.astimezone(clinic.site_a.timezone).time() for o in occurrences} == {time(18)}
    assert AuditEntry.objects.filter(
        object_type="scheduling.groupseries", object_id=str(series.public_id)
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity": 20}, "capacity"),  # the room seats 14
        ({"recurrence_rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence_rule"),
        ({"ends_on": "yesterday"}, "ends_on"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_series_are_refused_with_a_message_on_the_field(clinic, room, overrides, field):
    if overrides.get("ends_on") == "yesterday":
        overrides["ends_on"] = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        make(clinic, room, **overrides)
    assert field in refused.value.message_dict
    assert not GroupSeries.objects.exists()


def test_a_series_overlapping_another_in_the_same_room_is_refused(clinic, room):
    make(clinic, room)
    with pytest.raises(ValidationError, match="already used then by Phase 1 evening"):
        make(
            clinic,
            room,
            name="Aftercare",
            recurrence_rule="FREQ=WEEKLY;BYDAY=TU",
            start_time=time(20),
            duration_minutes=90,
        )
    # the same time in another room, or another time in this room, is fine
    make(
        clinic,
        RoomFactory(site=clinic.site_a, name="Room C"),
        name="Aftercare",
        recurrence_rule="FREQ=WEEKLY;BYDAY=TU",
        start_time=time(20),
        duration_minutes=90,
    )
    make(clinic, room, name="Morning", start_time=time(9))


def test_a_group_series_needs_a_group_session_type_and_a_facilitator_at_the_site(clinic, room):
    from scheduling.models import SessionType

    individual = SessionType.objects.get(name="Individual counselling")
    with pytest.raises(ValidationError) as refused:
        make(clinic, room, session_type=individual, facilitator=clinic.case_manager)
    assert {"session_type", "facilitator"} <= set(refused.value.message_dict)


@pytest.mark.parametrize("persona", ["case_manager", "peer_support", "medical", "admin_other_site"])
def test_only_admins_and_clinicians_at_the_site_create_series(clinic, room, persona):
    with pytest.raises(PermissionError):
        make(clinic, room, actor=clinic.persona(persona))


def test_generation_is_idempotent_and_keeps_one_off_changes(clinic, morning):
    before = Occurrence.objects.filter(series=morning).count()
    assert services.generate_occurrences(series=morning, ahead_weeks=2) == 0
    assert Occurrence.objects.filter(series=morning).count() == before
    tomorrow = Occurrence.objects.get(series=morning, local_date=timezone.localdate() + timedelta(days=1))
    services.change_occurrence(
        actor=clinic.admin,
        occurrence=tomorrow,
        expected_version=tomorrow.version,
        starts_at=tomorrow.starts_at + timedelta(hours=4),
        reason="Room being painted",
    )
    assert (
        services.generate_occurrences(series=morning, ahead_weeks=3) == 7
    )  # one more week, nothing re-added
    assert Occurrence.objects.filter(series=morning, original_start=tomorrow.original_start).count() == 1


def test_the_periodic_task_is_in_the_beat_schedule_and_safe_to_run_twice(morning):
    from scheduling.tasks import generate_occurrences_task

    assert (
        settings.CELERY_BEAT_SCHEDULE["generate-occurrences"]["task"]
        == "scheduling.tasks.generate_occurrences_task"
    )
    generate_occurrences_task.run(ahead_weeks=4)
    count = Occurrence.objects.count()
    assert generate_occurrences_task.run(ahead_weeks=4) == 0
    assert Occurrence.objects.count() == count


def test_cancelling_one_occurrence_leaves_the_others(clinic, morning):
    tomorrow = Occurrence.objects.get(series=morning, local_date=timezone.localdate() + timedelta(days=1))
    services.cancel_occurrence(
        actor=clinic.clinician_on_team,
        occurrence=tomorrow,
        expected_version=tomorrow.version,
        reason="Holiday",
    )
    statuses = set(
        Occurrence.objects.exclude(pk=tomorrow.pk).filter(series=morning).values_list("status", flat=True)
    )
    assert statuses == {OccurrenceStatus.SCHEDULED}
    tomorrow.refresh_from_db()
    assert tomorrow.is_cancelled and tomorrow.change_reason == "Holiday"


def test_a_stale_change_is_refused(clinic, morning):
    tomorrow = Occurrence.objects.get(series=morning, local_date=timezone.localdate() + timedelta(days=1))
    services.cancel_occurrence(
        actor=clinic.admin, occurrence=tomorrow, expected_version=tomorrow.version, reason="x"
    )
    other = Occurrence.objects.get(series=morning, local_date=timezone.localdate() + timedelta(days=2))
    with pytest.raises(StaleEdit):
        services.change_occurrence(
            actor=clinic.admin,
            occurrence=other,
            expected_version=other.version + 1,
            facilitator=clinic.clinician_elsewhere,
        )


def test_moving_into_a_busy_room_or_to_a_busy_facilitator_is_refused(clinic, morning, room):
    other_room = RoomFactory(site=clinic.site_a, name="Room C")
    evening = make(
        clinic,
        other_room,
        recurrence_rule="FREQ=DAILY",
        start_time=time(14),
        duration_minutes=60,
        facilitator=clinic.clinician_elsewhere,
    )
    tomorrow = Occurrence.objects.get(series=morning, local_date=timezone.localdate() + timedelta(days=1))
    two_pm = tomorrow.starts_at + timedelta(hours=5)
    with pytest.raises(ValidationError, match="Room C is in use then by Phase 1 evening"):
        services.change_occurrence(
            actor=clinic.admin,
            occurrence=tomorrow,
            expected_version=tomorrow.version,
            starts_at=two_pm,
            room=other_room,
        )
    with pytest.raises(ValidationError, match="busy then"):
        services.change_occurrence(
            actor=clinic.admin,
            occurrence=tomorrow,
            expected_version=tomorrow.version,
            starts_at=two_pm,
            facilitator=clinic.clinician_elsewhere,
        )
    # far ahead, beyond the generated weeks, the evening series' rule still counts
    far = Occurrence.objects.filter(series=morning).order_by("-starts_at").first()
    Occurrence.objects.filter(series=evening, local_date__gte=far.local_date).delete()
    with pytest.raises(ValidationError, match="in use"):
        services.change_occurrence(
            actor=clinic.admin,
            occurrence=far,
            expected_version=far.version,
            starts_at=far.starts_at + timedelta(hours=5),
            room=other_room,
        )


def test_changing_a_series_facilitator_moves_only_the_future_occurrences_that_had_the_old_one(
    clinic, morning
):
    past = Occurrence.objects.filter(series=morning, local_date__lt=timezone.localdate()).first()
    services.update_series(
        actor=clinic.admin,
        series=morning,
        expected_version=morning.version,
        changes={"facilitator": clinic.clinician_elsewhere},
    )
    past.refresh_from_db()
    assert past.facilitator == clinic.clinician_on_team
    future = Occurrence.objects.filter(series=morning, local_date__gt=timezone.localdate())
    assert set(future.values_list("facilitator", flat=True)) == {clinic.clinician_elsewhere.pk}


def test_the_rule_of_a_series_cannot_change(clinic, morning):
    with pytest.raises(ValidationError, match="end the series"):
        services.update_series(
            actor=clinic.admin,
            series=morning,
            expected_version=morning.version,
            changes={"start_time": time(10)},
        )


def test_a_topic_cycle_gives_each_occurrence_its_module_in_turn(clinic, room):
    cycle = TopicCycle.objects.create(name="Relapse prevention")
    for position in range(3):
        CurriculumTopic.objects.create(cycle=cycle, position=position, title=f"Module {position + 1}")
    series = make(clinic, room, recurrence_rule="FREQ=DAILY", topic_cycle=cycle)
    indexes = list(
        Occurrence.objects.filter(series=series).order_by("starts_at").values_list("topic_index", flat=True)
    )
    assert indexes[:7] == [0, 1, 2, 0, 1, 2, 0]


def test_a_clinician_cannot_make_themselves_facilitator_to_read_a_groups_roster(clinic, morning):
    """The facilitator sees every name on the roster (ADR 0010): naming oneself is refused, for the
    series and for one session; the facilitator may hand over, an admin may reassign."""
    occurrence = Occurrence.objects.filter(series=morning, local_date__gt=timezone.localdate()).first()
    with pytest.raises(PermissionError):
        services.update_series(
            actor=clinic.clinician_elsewhere,
            series=morning,
            expected_version=morning.version,
            changes={"facilitator": clinic.clinician_elsewhere},
        )
    with pytest.raises(PermissionError):
        services.change_occurrence(
            actor=clinic.clinician_elsewhere,
            occurrence=occurrence,
            expected_version=occurrence.version,
            facilitator=clinic.clinician_elsewhere,
        )
    occurrence.refresh_from_db()
    assert occurrence.facilitator == clinic.clinician_on_team
    handed_over = services.change_occurrence(
        actor=clinic.clinician_on_team,
        occurrence=occurrence,
        expected_version=occurrence.version,
        facilitator=clinic.clinician_elsewhere,
    )
    assert handed_over.facilitator == clinic.clinician_elsewhere
