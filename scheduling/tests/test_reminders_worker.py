"""Reminders exactly once through real Celery workers (issue 8): two `celery worker` processes
on the same queue each run the reminder task twice at once; every patient gets one SMS.

Same set-up as iop/audit/tests/test_worker.py: the workers read the pytest test database and
the broker of the settings (Redis and PostgreSQL in CI; SQLite and the filesystem transport
on a developer's machine)."""

import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from iop.audit.tests.test_worker import database_url_for, forget_queue, stop
from iop.celery import app
from patients.models import CareTeamRole
from patients.tests.factories import PatientFactory, admit
from scheduling.models import Enrolment, Occurrence, Reminder
from scheduling.tasks import send_reminders_task
from scheduling.tests.factories import RoomFactory, SeriesFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 90
RUNS = 4


def test_two_racing_workers_send_each_reminder_once(clinic, tmp_path):
    import os

    series = SeriesFactory(
        site=clinic.site_a, room=RoomFactory(site=clinic.site_a), facilitator=clinic.clinician_on_team
    )
    starts = timezone.now() + timedelta(hours=2)
    occurrence = Occurrence.objects.create(
        series=series,
        original_start=starts,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        local_date=starts.astimezone(clinic.site_a.timezone).date(),
        room=series.room,
        facilitator=series.facilitator,
    )
    for number in range(3):
        patient = PatientFactory(
            site=clinic.site_a, phone=f"+1617555012{number}", preferred_contact_channel="sms"
        )
        episode = admit(patient, team={CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team})
        Enrolment.objects.create(
            series=series, episode=episode, joined_on=occurrence.local_date - timedelta(days=1)
        )

    queue = f"test-reminders-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
    }
    transport_options = None
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = tmp_path / "broker"
        env["CELERY_BROKER_FOLDER"] = str(folder)
        for subfolder in ("queue", "control"):
            (folder / subfolder).mkdir(parents=True)
        transport_options = {
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
        }
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    workers = []
    for number, log_path in enumerate(logs):
        with log_path.open("wb") as log:
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "iop",
                        "worker",
                        "--pool",
                        "solo",
                        "--queues",
                        queue,
                        "--hostname",
                        f"reminders{number}-{queue}@%h",
                        "--without-mingle",
                        "--without-gossip",
                        "--without-heartbeat",
                        "--loglevel",
                        "INFO",
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    eager = app.conf.task_always_eager
    try:
        app.conf.task_always_eager = False
        with app.connection_for_write(transport_options=transport_options) as broker:
            for _ in range(RUNS):
                send_reminders_task.apply_async(queue=queue, connection=broker)
        deadline = time.monotonic() + WAIT_SECONDS
        while sum(log.read_text().count("succeeded in") for log in logs) < RUNS:
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    pytest.fail(f"A worker exited with {worker.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    "The reminder tasks did not finish:\n" + "\n".join(log.read_text() for log in logs)
                )
            time.sleep(0.3)
    finally:
        app.conf.task_always_eager = eager
        for worker in workers:
            stop(worker)
        forget_queue(queue)

    output = "".join(log.read_text() for log in logs)
    assert output.count("SMS to ***") == 3, output
    assert (
        sorted(Reminder.objects.filter(occurrence=occurrence).values_list("status", flat=True))
        == ["sent"] * 3
    )
