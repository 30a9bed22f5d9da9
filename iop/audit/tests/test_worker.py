"""A Celery task through a real worker process, not the eager shortcut.

The worker is a separate `celery -A iop worker` process reading the pytest test database and
the same broker as this test: by default SQLite (a file, see settings) and the filesystem
transport in a temporary folder; in CI PostgreSQL and Redis. A queue of its own keeps any other
worker on the same broker from taking the task.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from iop.audit.models import ChainVerification
from iop.audit.services import record_event
from iop.audit.tasks import verify_audit_chain_task
from iop.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 60


def database_url_for(settings_dict: dict) -> str:
    """The DATABASE_URL of the database this test is connected to (the test database)."""
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(name).resolve()}"
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        raise NotImplementedError(settings_dict["ENGINE"])
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(name, safe='')}"


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def forget_queue(queue: str) -> None:
    """Redis keeps a queue's bindings after the queue empties: remove this test's."""
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        import redis

        with redis.Redis.from_url(settings.CELERY_BROKER_URL) as client:
            client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def test_verification_task_runs_in_a_real_worker_and_writes_its_result(tmp_path):
    record_event(actor=None, action="create", object_type="worker-test")
    assert not ChainVerification.objects.exists()

    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
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
        # The worker derives the same folders from CELERY_BROKER_FOLDER in the settings.
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
    try:
        app.conf.task_always_eager = False
        with app.connection_for_write(transport_options=transport_options) as broker:
            verify_audit_chain_task.apply_async(queue=queue, connection=broker)

        deadline = time.monotonic() + WAIT_SECONDS
        while not ChainVerification.objects.exists():
            if worker.poll() is not None:
                pytest.fail(f"The worker exited with {worker.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"No ChainVerification after {WAIT_SECONDS} s. Worker log:\n{log_path.read_text()}"
                )
            time.sleep(0.2)
    finally:
        app.conf.task_always_eager = eager
        stop(worker)
        forget_queue(queue)

    verification = ChainVerification.objects.get()
    assert verification.ok
    assert verification.entries_checked == 1
