"""Selected patients are notified exactly once through a real Celery worker (Redis in CI), even
when the task is delivered twice."""

import datetime
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from iop.accounts.tests.factories import SiteFactory
from iop.audit.tests.test_worker import database_url_for, forget_queue, stop
from iop.celery import app
from patients.tests.factories import PatientFactory, admit, default_program
from testing.models import DrawSelection
from testing.services import draws
from testing.tasks import notify_draw_selections_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 90


def last_operating_day(site) -> datetime.date:
    day = datetime.date.today()
    while day.isoweekday() not in site.operating_days:
        day -= datetime.timedelta(days=1)
    return day


def test_each_selected_patient_is_notified_once_by_a_real_worker(tmp_path):
    default_program()
    site = SiteFactory(name="Worker site", timezone="UTC")
    for n in range(3):
        patient = PatientFactory(site=site, email=f"patient{n}@example.test")
        admit(patient, admitted_on=datetime.date.today() - datetime.timedelta(days=20))  # p = 1
    draw = draws.run_daily_draw(site=site, day=last_operating_day(site), notify=False).draw
    assert draw.selected_count == 3

    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
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
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "iop",
                "worker",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--queues",
                queue,
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
    eager = app.conf.task_always_eager
    done = re.compile(r"notify_draw_selections_task\[[^\]]+\] succeeded in [0-9.]+s: (\d+)")
    try:
        app.conf.task_always_eager = False
        with app.connection_for_write(transport_options=transport_options) as broker:
            for _ in range(2):  # delivered twice, as a retry or a second beat could
                notify_draw_selections_task.apply_async(args=[draw.pk], queue=queue, connection=broker)
        deadline = time.monotonic() + WAIT_SECONDS
        while len(done.findall(log_path.read_text())) < 2:
            if worker.poll() is not None:
                pytest.fail(f"The worker exited with {worker.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The tasks did not finish in {WAIT_SECONDS} s. Worker log:\n{log_path.read_text()}"
                )
            time.sleep(0.2)
    finally:
        app.conf.task_always_eager = eager
        stop(worker)
        forget_queue(queue)

    output = log_path.read_text()
    assert sorted(int(sent) for sent in done.findall(output)) == [0, 3]
    assert output.count("Subject: Check-in request") == 3
    assert "Please check in at the front desk today by 14:00." in output
    assert not DrawSelection.objects.filter(draw=draw, notified_at__isnull=True).exists()
