"""The daily draw in the database: one per site and day, audited, never edited, keys committed
before their month, missed draws by an admin only, the periodic task idempotent."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from conftest import require_service
from iop.audit.models import AuditAction, AuditEntry
from patients.models import Episode, EpisodeStatus
from testing import draw_rule
from testing.models import Draw, DrawKey, DrawSelection, DrawTrigger, DrugTestOrder, OrderKind
from testing.services import draws
from testing.tasks import draw_if_due_task, notify_draw_selections_task

NY = ZoneInfo("America/New_York")
MONDAY = datetime.date(2026, 3, 2)
MORNING = datetime.datetime(2026, 3, 2, 6, 0, tzinfo=NY)


@pytest.fixture
def morning(time_machine):
    time_machine.move_to(MORNING, tick=False)


@pytest.fixture
def pool(morning, clinic, admit_patients):
    """40 patients admitted on the Friday before: on Monday each is on eligible day k = 1."""
    return admit_patients(clinic.site_a, 40, admitted_on=datetime.date(2026, 2, 27))


def test_a_draw_records_its_snapshot_selections_orders_and_audit_entries(morning, clinic, pool):
    outcome = draws.run_daily_draw(site=clinic.site_a, day=MONDAY)
    draw = outcome.draw
    assert outcome.created
    assert draw.pool_size == 41  # the clinic's patient and 40 more
    assert draw.snapshot_hash == draw_rule.snapshot_hash(draw.snapshot)
    selected = {e["pseudonym"] for e in draw.snapshot["pool"] if e["selected"]}
    assert 0 < len(selected) < 41
    assert set(DrawSelection.objects.filter(draw=draw).values_list("pseudonym", flat=True)) == selected
    orders = DrugTestOrder.objects.filter(selection__draw=draw)
    assert orders.count() == len(selected) == draw.selected_count
    assert set(orders.values_list("kind", flat=True)) == {OrderKind.RANDOM}
    entry = AuditEntry.objects.get(object_type=draws.DRAW_OBJECT, object_id=str(draw.public_id))
    assert f"snapshot sha256={draw.snapshot_hash}" in entry.reason
    assert AuditEntry.objects.filter(object_type="testing.drugtestorder").count() == len(selected)
    # p follows the state: q on the first eligible day after admission, 1 from the maximum on
    q = draw_rule.as_decimal_string(draw_rule.solve_q(tests_per_week=2, eligible_days_per_week=5, max_gap=5))
    days = {e["state"]["days_since_test"]: e["p"] for e in draw.snapshot["pool"]}
    assert days == {1: q, 10: "1.000000000000"}  # the clinic's patient was admitted two weeks ago


def test_a_second_run_returns_the_same_draw_and_changes_nothing(morning, clinic, pool):
    first = draws.run_daily_draw(site=clinic.site_a, day=MONDAY)
    entries = AuditEntry.objects.count()
    second = draws.run_daily_draw(site=clinic.site_a, day=MONDAY)
    assert not second.created
    assert second.draw.pk == first.draw.pk
    assert Draw.objects.count() == 1
    assert AuditEntry.objects.count() == entries


def test_nobody_can_edit_or_delete_a_draw(morning, clinic, pool):
    draw = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    draw.selected_count = 0
    with pytest.raises(PermissionError):
        draw.save()
    with pytest.raises(PermissionError):
        Draw.objects.filter(pk=draw.pk).update(selected_count=0)
    with pytest.raises(PermissionError):
        draw.delete()
    with pytest.raises(PermissionError):
        DrawSelection.objects.filter(draw=draw).first().delete()


def test_no_draw_on_a_closed_day_or_ahead_of_its_day(morning, clinic, pool):
    with pytest.raises(draws.DrawRefused, match="closed"):
        draws.run_daily_draw(site=clinic.site_a, day=datetime.date(2026, 3, 1))  # a Sunday
    with pytest.raises(draws.DrawRefused, match="ahead"):
        draws.run_daily_draw(site=clinic.site_a, day=datetime.date(2026, 3, 3))
    assert not Draw.objects.exists()


def test_selection_does_not_depend_on_who_else_is_in_the_pool(morning, clinic, admit_patients):
    admit_patients(clinic.site_a, 10, admitted_on=datetime.date(2026, 2, 27))
    draws.commit_month_key(site=clinic.site_a, month=MONDAY)  # the same month key for both runs
    with transaction.atomic():
        alone = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw.snapshot
        transaction.set_rollback(True)
    admit_patients(clinic.site_a, 30, admitted_on=datetime.date(2026, 2, 27))
    crowded = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw.snapshot
    by_pseudonym = {entry["pseudonym"]: entry for entry in crowded["pool"]}
    assert len(crowded["pool"]) == len(alone["pool"]) + 30
    for entry in alone["pool"]:
        assert by_pseudonym[entry["pseudonym"]]["selected"] == entry["selected"]


def test_a_key_is_committed_to_the_audit_chain_before_its_month(clinic, time_machine):
    time_machine.move_to(datetime.datetime(2026, 2, 20, 2, 0, tzinfo=NY), tick=False)
    assert draws.commit_next_month_keys() == 2  # both sites
    key = DrawKey.objects.get(site=clinic.site_a)
    assert key.month == datetime.date(2026, 3, 1)
    assert not key.committed_late
    assert key.commitment == draw_rule.commitment_of(key.key_bytes)
    entry = AuditEntry.objects.get(sequence=key.commitment_sequence)
    assert entry.action == AuditAction.COMMITMENT
    assert key.commitment in entry.reason and key.secret not in entry.reason
    assert draws.commit_next_month_keys() == 0  # idempotent


def test_a_key_first_made_by_the_draw_itself_is_marked_late(morning, clinic, pool):
    draw = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    assert draw.key.committed_late


def test_keys_are_revealed_after_their_month_ends(clinic, time_machine):
    time_machine.move_to(datetime.datetime(2026, 2, 20, 2, 0, tzinfo=NY), tick=False)
    draws.commit_next_month_keys()
    time_machine.move_to(datetime.datetime(2026, 3, 31, 2, 0, tzinfo=NY), tick=False)
    assert draws.reveal_ended_month_keys() == 0
    time_machine.move_to(datetime.datetime(2026, 4, 1, 2, 0, tzinfo=NY), tick=False)
    assert draws.reveal_ended_month_keys() == 2
    assert DrawKey.objects.filter(revealed_at__isnull=False).count() == 2
    assert draws.reveal_ended_month_keys() == 0


def test_an_admin_of_the_site_runs_a_missed_draw_with_a_reason(morning, clinic, pool):
    with pytest.raises(PermissionError):
        draws.run_missed_draw(site=clinic.site_a, day=MONDAY, actor=clinic.clinician_on_team, reason="x")
    with pytest.raises(PermissionError):
        draws.run_missed_draw(site=clinic.site_a, day=MONDAY, actor=clinic.admin_other_site, reason="x")
    with pytest.raises(draws.DrawRefused, match="why"):
        draws.run_missed_draw(site=clinic.site_a, day=MONDAY, actor=clinic.admin, reason="  ")
    draw = draws.run_missed_draw(
        site=clinic.site_a, day=MONDAY, actor=clinic.admin, reason="Server down at 05:30"
    ).draw
    assert draw.trigger == DrawTrigger.MANUAL and draw.triggered_by == clinic.admin
    entry = AuditEntry.objects.get(object_type=draws.DRAW_OBJECT, object_id=str(draw.public_id))
    assert entry.actor == clinic.admin and "trigger=manual" in entry.reason


def test_a_missed_past_day_draws_from_the_episodes_open_that_day_not_today(
    clinic, admit_patients, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 3, 5, 9, 0, tzinfo=NY), tick=False)  # Thursday
    then = admit_patients(clinic.site_a, 3, admitted_on=datetime.date(2026, 2, 27))
    discharged_since = then[0]
    Episode.objects.filter(pk=discharged_since.pk).update(
        status=EpisodeStatus.DISCHARGED, discharged_on=datetime.date(2026, 3, 3)
    )
    discharged_that_day = then[1]
    Episode.objects.filter(pk=discharged_that_day.pk).update(
        status=EpisodeStatus.DISCHARGED, discharged_on=MONDAY
    )
    discharged_before = admit_patients(clinic.site_a, 1, admitted_on=datetime.date(2026, 2, 2))[0]
    Episode.objects.filter(pk=discharged_before.pk).update(
        status=EpisodeStatus.DISCHARGED, discharged_on=datetime.date(2026, 2, 27)
    )
    admitted_since = admit_patients(clinic.site_a, 1, admitted_on=datetime.date(2026, 3, 3))[0]

    monday = {m.episode_id for m in draws.pool_for(clinic.site_a, MONDAY)}
    today = {m.episode_id for m in draws.pool_for(clinic.site_a, datetime.date(2026, 3, 5))}

    assert {discharged_since.pk, discharged_that_day.pk, then[2].pk} <= monday
    assert discharged_before.pk not in monday and admitted_since.pk not in monday
    assert {admitted_since.pk, then[2].pk} <= today
    assert discharged_since.pk not in today and discharged_that_day.pk not in today
    draw = draws.run_missed_draw(site=clinic.site_a, day=MONDAY, actor=clinic.admin, reason="Power cut").draw
    pseudonyms = {entry["pseudonym"] for entry in draw.snapshot["pool"]}
    assert draws.pseudonym_of(discharged_since.patient.public_id) in pseudonyms
    assert draws.pseudonym_of(admitted_since.patient.public_id) not in pseudonyms


def test_the_periodic_task_draws_once_after_the_draw_time_on_operating_days(clinic, pool, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 5, 0, tzinfo=NY), tick=False)
    assert draw_if_due_task() == []
    time_machine.move_to(datetime.datetime(2026, 3, 2, 5, 31, tzinfo=NY), tick=False)
    drawn = draw_if_due_task()
    assert len(drawn) == 2  # both sites are open on Mondays
    assert draw_if_due_task() == []
    time_machine.move_to(datetime.datetime(2026, 3, 7, 9, 0, tzinfo=NY), tick=False)  # Saturday
    assert draw_if_due_task() == []
    assert Draw.objects.count() == 2


def test_selected_patients_are_notified_once_after_commit(
    morning, clinic, pool, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    clinic.patient.email = "testy@example.org"  # two weeks untested: p = 1, always selected
    clinic.patient.save(update_fields=["email"])
    queued = []
    monkeypatch.setattr(notify_draw_selections_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draw = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    assert queued == []  # nothing is sent before the draw commits
    for callback in callbacks:
        callback()
    assert queued == [draw.pk]
    assert notify_draw_selections_task(draw.pk) == 1  # the only selected patient with an address
    assert notify_draw_selections_task(draw.pk) == 0  # a re-delivered task sends nothing
    assert DrawSelection.objects.filter(draw=draw, notified_at__isnull=True).count() == 0
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["testy@example.org"]
    assert mailoutbox[0].body == "Please check in at the front desk today by 14:00."


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_make_exactly_one_draw(time_machine):
    require_service("PostgreSQL", connection.vendor == "postgresql", "concurrency needs real row locks")
    from iop.accounts.tests.factories import SiteFactory
    from patients.tests.factories import PatientFactory, admit

    time_machine.move_to(MORNING, tick=False)
    site = SiteFactory(name="Concurrent")
    for _ in range(30):
        admit(PatientFactory(site=site), admitted_on=datetime.date(2026, 1, 5))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(draws.run_daily_draw(site=site, day=MONDAY))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcome.created for outcome in results) == [False, True]
    assert len({outcome.draw.pk for outcome in results}) == 1
    assert Draw.objects.filter(site=site, date=MONDAY).count() == 1
    draw = Draw.objects.get(site=site, date=MONDAY)
    assert DrawSelection.objects.filter(draw=draw).count() == draw.selected_count
    assert AuditEntry.objects.filter(object_type=draws.DRAW_OBJECT).count() == 1


def test_a_collected_test_resets_the_count_and_a_no_show_does_not(morning, clinic, time_machine):
    from testing.models import CollectionOutcome
    from testing.services import collection

    draw = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    order = DrugTestOrder.objects.get(selection__draw=draw, patient=clinic.patient)  # p = 1: selected
    collection.record_collection(
        actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED, temperature_c="35"
    )
    time_machine.move_to(datetime.datetime(2026, 3, 3, 6, 0, tzinfo=NY), tick=False)
    tuesday = draws.run_daily_draw(site=clinic.site_a, day=datetime.date(2026, 3, 3)).draw
    pseudonym = draws.pseudonym_for(clinic.patient)
    entry = next(e for e in tuesday.snapshot["pool"] if e["pseudonym"] == pseudonym)
    assert entry["state"]["days_since_test"] == 1
    assert float(entry["p"]) > 0  # the day after a test is always possible


def test_a_reviewed_increase_raises_the_rate_for_its_period(morning, clinic):
    from testing.models import CollectionOutcome, ResponseAction, ResultReview
    from testing.services import collection

    order = collection.order_test(
        actor=clinic.clinician_on_team, patient=clinic.patient, kind=OrderKind.SCHEDULED, due_on=MONDAY
    )
    collection.record_collection(actor=clinic.medical, order=order, outcome=CollectionOutcome.NO_SHOW)
    collection.record_review(
        actor=clinic.clinician_on_team,
        review=ResultReview.objects.get(),
        actions=[ResponseAction.INCREASE_TESTING],
        increased_tests_per_week="3",
        increased_until=datetime.date(2026, 3, 20),
    )
    draw = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    entry = next(e for e in draw.snapshot["pool"] if e["pseudonym"] == draws.pseudonym_for(clinic.patient))
    assert entry["state"]["tests_per_week"] == "3"
