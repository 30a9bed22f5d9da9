"""Random testing meets scheduling (ADR 0011): excused days leave the calendar, a selected day the
patient missed leaves a test owed (the catch-up term), and selected patients are asked to check
in through scheduling's reminder channels, once."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from scheduling.models import Attendance, Occurrence, ReminderOptOut
from scheduling.tests.factories import SeriesFactory
from testing import draw_rule
from testing.models import DrawSelection
from testing.services import draws
from testing.tasks import notify_draw_selections_task
from testing.verification import verify_draw

NY = ZoneInfo("America/New_York")
MONDAY = datetime.date(2026, 3, 2)
WEEKDAYS = [1, 2, 3, 4, 5]


def at_morning(time_machine, day):
    time_machine.move_to(datetime.datetime.combine(day, datetime.time(6), tzinfo=NY), tick=False)


def missed(clinic, episode, day, status):
    """An attendance row of `status` for `episode` at a group session on `day`."""
    series = SeriesFactory(site=clinic.site_a, starts_on=day - datetime.timedelta(days=7))
    start = datetime.datetime.combine(day, datetime.time(9), tzinfo=NY)
    occurrence = Occurrence.objects.create(
        series=series,
        original_start=start,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=3),
        local_date=day,
        room=series.room,
        facilitator=series.facilitator,
    )
    return Attendance.objects.create(
        occurrence=occurrence,
        episode=episode,
        status=status,
        minutes_attended=0,
        session_minutes=180,
        local_date=day,
        recorded_by=clinic.clinician_on_team,
    )


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    """Before the clinic is built, so its patient is two weeks untested on Monday (p = 1)."""
    at_morning(time_machine, MONDAY)


def entry_for(draw, patient):
    pseudonym = draws.pseudonym_for(patient)
    return next(e for e in draw.snapshot["pool"] if e["pseudonym"] == pseudonym)


def state_of(site, day, patient):
    return next(m.state for m in draws.pool_for(site, day) if m.patient_id == patient.pk)


@pytest.mark.parametrize("status", ["excused", "absent"])
def test_a_selected_day_the_patient_missed_leaves_a_test_owed(clinic, time_machine, admit_patients, status):
    episodes = admit_patients(clinic.site_a, 40, admitted_on=datetime.date(2026, 2, 27))  # k = 1 on Monday
    time_machine.move_to(datetime.datetime(2026, 2, 25, 1, 10, tzinfo=NY), tick=False)
    draws.commit_month_key(site=clinic.site_a, month=MONDAY)  # before the month, as the task does
    at_morning(time_machine, MONDAY)
    monday = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    chosen = set(DrawSelection.objects.filter(draw=monday).values_list("episode_id", flat=True))
    owing = next(e for e in episodes if e.pk in chosen)
    missed(clinic, owing, MONDAY, status)

    tuesday = datetime.date(2026, 3, 3)
    at_morning(time_machine, tuesday)
    draw = draws.run_daily_draw(site=clinic.site_a, day=tuesday).draw
    entry = entry_for(draw, owing.patient)
    assert entry["state"]["owed"] == "1"
    # An excused Monday leaves the calendar (k = 1); an unexcused one does not (k = 2).
    assert entry["state"]["days_since_test"] == (1 if status == "excused" else 2)
    state = draw_rule.PatientState.from_dict(entry["state"])
    q = float(entry["q"])
    base = draw_rule.hazard(state.days_since_test, q=q, max_gap=state.max_gap, ramp=state.ramp)
    assert base < 1
    # The catch-up per CLINICAL.md: owed * r added to the hazard, capped at r / 2.
    assert entry["p"] == draw_rule.as_decimal_string(min(1.0, base + 0.5 * state.rate))
    assert float(entry["p"]) > base
    untouched = next(e for e in episodes if e.pk not in chosen)
    assert entry_for(draw, untouched.patient)["state"]["owed"] == "0"
    # Verification recomputes the selection from the owed state recorded in the snapshot ...
    report = verify_draw(draw, whole_chain=True)
    assert report.ok, [c for c in report.checks if not c.ok]
    # ... and a snapshot that hid the owed test would not follow from its own state.
    key = bytes.fromhex(draw.key.secret)
    assert draw_rule.recheck_snapshot(key, draw.snapshot) == []
    hidden = {**draw.snapshot, "pool": [dict(e) for e in draw.snapshot["pool"]]}
    for e in hidden["pool"]:
        if e["pseudonym"] == entry["pseudonym"]:
            e["state"] = {**e["state"], "owed": "0"}
    assert [p.pseudonym for p in draw_rule.recheck_snapshot(key, hidden)] == [entry["pseudonym"]]


def test_a_selected_day_attended_or_followed_by_a_collection_owes_nothing(clinic, time_machine):
    from testing.models import CollectionOutcome, DrugTestOrder
    from testing.services import collection

    at_morning(time_machine, MONDAY)
    monday = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    missed(clinic, clinic.episode, MONDAY, "excused")
    tuesday = datetime.date(2026, 3, 3)
    at_morning(time_machine, tuesday)
    order = DrugTestOrder.objects.get(selection__draw=monday, patient=clinic.patient)
    collection.record_collection(
        actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED, temperature_c="35"
    )
    wednesday = datetime.date(2026, 3, 4)
    at_morning(time_machine, wednesday)
    assert state_of(clinic.site_a, wednesday, clinic.patient).owed == "0"  # made up by the collection


def test_excused_days_leave_the_calendar(clinic, time_machine, admit_patients):
    (episode,) = admit_patients(clinic.site_a, 1, admitted_on=datetime.date(2026, 2, 27))  # a Friday
    thursday = datetime.date(2026, 3, 5)
    at_morning(time_machine, thursday)
    before = state_of(clinic.site_a, thursday, episode.patient).days_since_test
    assert before == draw_rule.eligible_days_between(datetime.date(2026, 2, 27), thursday, weekdays=WEEKDAYS)
    missed(clinic, episode, MONDAY, "excused")
    missed(clinic, episode, datetime.date(2026, 3, 3), "absent")  # unexcused: still on the calendar
    assert state_of(clinic.site_a, thursday, episode.patient).days_since_test == before - 1
    assert state_of(clinic.site_a, thursday, episode.patient).owed == "0"  # never selected: owes nothing


def test_a_patient_excused_today_is_not_in_todays_pool(clinic, time_machine, admit_patients):
    (episode,) = admit_patients(clinic.site_a, 1, admitted_on=datetime.date(2026, 2, 27))
    at_morning(time_machine, MONDAY)
    missed(clinic, episode, MONDAY, "excused")
    assert episode.pk not in {m.episode_id for m in draws.pool_for(clinic.site_a, MONDAY)}


def test_owing_a_test_changes_nobody_elses_selection(clinic, time_machine, admit_patients):
    others = admit_patients(clinic.site_a, 30, admitted_on=datetime.date(2026, 2, 27))
    at_morning(time_machine, MONDAY)
    draws.run_daily_draw(site=clinic.site_a, day=MONDAY)
    draws.commit_month_key(site=clinic.site_a, month=MONDAY)
    tuesday = datetime.date(2026, 3, 3)
    at_morning(time_machine, tuesday)
    from django.db import transaction

    with transaction.atomic():
        plain = draws.run_daily_draw(site=clinic.site_a, day=tuesday).draw.snapshot
        transaction.set_rollback(True)
    missed(clinic, clinic.episode, MONDAY, "excused")
    owing = draws.run_daily_draw(site=clinic.site_a, day=tuesday).draw.snapshot
    before = {e["pseudonym"]: e for e in plain["pool"]}
    after = {e["pseudonym"]: e for e in owing["pool"]}
    assert after[draws.pseudonym_for(clinic.patient)]["state"]["owed"] == "1"
    for episode in others:
        pseudonym = draws.pseudonym_for(episode.patient)
        assert after[pseudonym] == before[pseudonym]


# --- Notification through scheduling's channels -------------------------------------------------


@pytest.fixture
def drawn(clinic, time_machine):
    at_morning(time_machine, MONDAY)
    return draws.run_daily_draw(site=clinic.site_a, day=MONDAY, notify=False).draw  # clinic.patient: p = 1


def set_contact(patient, **fields):
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.save(update_fields=list(fields))


def test_a_patient_who_prefers_sms_gets_a_text_once(clinic, drawn, mailoutbox, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "scheduling.sms.ConsoleSMSBackend.send", lambda self, to, body: sent.append((to, body))
    )
    set_contact(clinic.patient, email="p@example.org", phone="+12025550143", preferred_contact_channel="sms")
    assert notify_draw_selections_task(drawn.pk) == 1
    assert notify_draw_selections_task(drawn.pk) == 0  # claimed: a re-delivered task sends nothing
    assert sent == [("+12025550143", "Please check in at the front desk today by 14:00.")]
    assert mailoutbox == []


def test_a_patient_who_prefers_email_gets_an_email_once(clinic, drawn, mailoutbox, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "scheduling.sms.ConsoleSMSBackend.send", lambda self, to, body: sent.append((to, body))
    )
    set_contact(
        clinic.patient, email="p@example.org", phone="+12025550143", preferred_contact_channel="email"
    )
    assert notify_draw_selections_task(drawn.pk) == 1
    assert notify_draw_selections_task(drawn.pk) == 0
    assert sent == []
    assert [m.to for m in mailoutbox] == [["p@example.org"]]
    assert mailoutbox[0].body == "Please check in at the front desk today by 14:00."


def test_an_already_claimed_selection_is_not_sent_again(clinic, drawn, mailoutbox):
    set_contact(clinic.patient, email="p@example.org")
    selection = DrawSelection.objects.get(draw=drawn, patient=clinic.patient)
    assert draws.mark_notified([selection.pk]) == [selection.pk]  # the claim (another worker)
    assert draws.mark_notified([selection.pk]) == []
    assert notify_draw_selections_task(drawn.pk) == 0
    assert mailoutbox == []


def test_an_opted_out_patient_gets_no_message_and_a_failed_send_is_not_retried(
    clinic, drawn, mailoutbox, monkeypatch
):
    set_contact(clinic.patient, email="p@example.org", phone="+12025550143", preferred_contact_channel="sms")
    ReminderOptOut.objects.create(patient=clinic.patient)
    assert notify_draw_selections_task(drawn.pk) == 0
    assert mailoutbox == []
    assert DrawSelection.objects.get(draw=drawn, patient=clinic.patient).notified_at is not None  # claimed


def test_a_provider_failure_is_logged_not_raised_and_not_resent(clinic, drawn, monkeypatch):
    calls = []

    def broken(self, to, body):
        calls.append(to)
        raise RuntimeError("provider down")

    monkeypatch.setattr("scheduling.sms.ConsoleSMSBackend.send", broken)
    set_contact(clinic.patient, phone="+12025550143", preferred_contact_channel="sms")
    assert notify_draw_selections_task(drawn.pk) == 0
    assert notify_draw_selections_task(drawn.pk) == 0
    assert len(calls) == 1
