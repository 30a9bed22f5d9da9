"""Reminders exactly once: claimed by a unique row before sending; no clinical detail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from patients.models import CareTeamRole
from patients.tests.factories import PatientFactory, admit
from scheduling.models import Enrolment, Occurrence, Reminder, ReminderOptOut
from scheduling.services import reminders


@pytest.fixture
def tomorrow(clinic, morning):
    """Tomorrow's session, with the clinic's patient (e-mail) and one by SMS enrolled."""
    clinic.patient.email = "testy@example.test"
    clinic.patient.save()
    texter = PatientFactory(site=clinic.site_a, phone="+16175550123", preferred_contact_channel="sms")
    episode = admit(texter, team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor})
    for each in (clinic.episode, episode):
        Enrolment.objects.create(series=morning, episode=each, joined_on=timezone.localdate())
    occurrence = Occurrence.objects.get(series=morning, local_date=timezone.localdate() + timedelta(days=1))
    return occurrence, texter


def run_at(occurrence):
    return reminders.send_session_reminders(now=occurrence.starts_at - timedelta(hours=2))


def test_each_patient_is_reminded_once_even_when_the_task_runs_twice(clinic, tomorrow, capsys):
    occurrence, texter = tomorrow
    assert run_at(occurrence) == 2
    assert run_at(occurrence) == 0
    assert Reminder.objects.filter(occurrence=occurrence).count() == 2
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["testy@example.test"]
    assert capsys.readouterr().out.count("SMS to ***0123") == 1


def test_a_claim_made_elsewhere_is_never_sent_again(clinic, tomorrow):
    occurrence, _texter = tomorrow
    Reminder.objects.create(kind="session", channel="email", occurrence=occurrence, patient=clinic.patient)
    assert run_at(occurrence) == 1  # only the SMS patient
    assert mail.outbox == []


def test_the_text_has_time_place_and_a_number_but_no_clinical_detail(clinic, tomorrow):
    occurrence, _texter = tomorrow
    clinic.site_a.phone = "(617) 555-0100"
    clinic.site_a.save()
    run_at(occurrence)
    body = mail.outbox[0].body
    assert "Northside" in body and "09:00" in body and "555-0100" in body
    for clinical in ("Phase", "morning", "group", "therapy", "relapse", "treatment"):
        assert clinical.lower() not in body.lower()


def test_an_opted_out_patient_gets_no_reminder_and_the_choice_is_audited(clinic, tomorrow):
    occurrence, _texter = tomorrow
    reminders.set_reminder_opt_out(actor=clinic.case_manager, patient=clinic.patient, opted_out=True)
    assert ReminderOptOut.objects.filter(patient=clinic.patient).exists()
    run_at(occurrence)
    assert mail.outbox == []
    with pytest.raises(PermissionError):
        reminders.set_reminder_opt_out(actor=clinic.peer_support, patient=clinic.patient, opted_out=False)


def test_sessions_outside_the_lead_time_are_not_reminded_yet(clinic, tomorrow):
    occurrence, _texter = tomorrow
    reminders.send_session_reminders(now=occurrence.starts_at - timedelta(hours=30))
    assert not Reminder.objects.filter(occurrence=occurrence).exists()  # (today's session was due)


def test_staff_get_one_agenda_a_day(clinic, today_occurrence):
    clinic.clinician_on_team.email = "alice@example.test"
    clinic.clinician_on_team.save()
    assert reminders.send_staff_agendas() == 1
    assert reminders.send_staff_agendas() == 0
    assert "Phase 1 morning" in mail.outbox[0].body


def test_patients_are_told_once_when_a_session_is_moved_and_again_when_cancelled(
    clinic, tomorrow, django_capture_on_commit_callbacks, capsys
):
    from scheduling.services import series as series_services
    from scheduling.tasks import notify_occurrence_change_task

    occurrence, _texter = tomorrow
    with django_capture_on_commit_callbacks() as callbacks:
        moved = series_services.change_occurrence(
            actor=clinic.admin,
            occurrence=occurrence,
            expected_version=occurrence.version,
            starts_at=occurrence.starts_at + timedelta(hours=5),
            reason="Room painted",
        )
    assert len(callbacks) == 1  # enqueued after the commit
    assert notify_occurrence_change_task.run(occurrence.pk) == 2
    assert notify_occurrence_change_task.run(occurrence.pk) == 0  # the same change: not again
    assert "is now on" in mail.outbox[0].body and "14:00" in mail.outbox[0].body
    series_services.cancel_occurrence(
        actor=clinic.admin, occurrence=moved, expected_version=moved.version, reason="Storm"
    )
    assert notify_occurrence_change_task.run(occurrence.pk) == 2
    assert "is cancelled" in mail.outbox[-1].body
    assert "Storm" not in mail.outbox[-1].body and "Phase" not in mail.outbox[-1].body


def test_a_new_facilitator_is_not_announced(clinic, tomorrow, django_capture_on_commit_callbacks):
    from scheduling.services import series as series_services

    occurrence, _texter = tomorrow
    with django_capture_on_commit_callbacks() as callbacks:
        series_services.change_occurrence(
            actor=clinic.admin,
            occurrence=occurrence,
            expected_version=occurrence.version,
            facilitator=clinic.clinician_elsewhere,
        )
    assert callbacks == []
