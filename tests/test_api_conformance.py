"""The API answers as its OpenAPI schema says: schemathesis 4 against a live server.

On a fresh PostgreSQL database of its own (not pytest's): migrate, seed the demo clinic, start
gunicorn as docker-compose.yml does, sign in through POST /api/v1/auth/token/ as a clinician and
as an admin, and run `schemathesis run --checks all` (settings in schemathesis.toml) for each.
Every check must pass: documented statuses, content types and bodies, valid data accepted,
invalid data rejected, Allow headers, and never a server error. Skipped on a developer's machine
without DATABASE_URL on PostgreSQL; a failure in CI.

SCHEMATHESIS_EXAMPLES (default 10 per operation) and SCHEMATHESIS_SEED (default fixed, so a CI
failure reproduces) tune the run; the figures are printed (`pytest -s`) and on failure.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_production_processes import (  # noqa: F401 (smoke_database is a fixture)
    BASE_DIR,
    VENV_BIN,
    Processes,
    compose_command,
    free_port,
    smoke_database,
    wait_for_healthz,
)

DEMO_PASSWORD = "demo-clinic-pass"
# The clinician runs every phase; the admin (who sees both sites) skips the coverage phase, the
# same deterministic cases again, to keep the test within a few minutes.
ROLES = {"clinician": "examples,coverage,fuzzing,stateful", "admin": "examples,fuzzing,stateful"}
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261201")
RUN_TIMEOUT = 300  # seconds per role


def api_token(base_url: str, username: str) -> str:
    """A token through the public token endpoint (DRF's or knox's: both answer {"token": ...})."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


def demo_ids(database: dict) -> dict:
    """Real ids for the references schemathesis.toml fills in (a random UUID names nothing)."""
    import psycopg2

    queries = {
        "IOP_ST_SITE": "SELECT public_id FROM accounts_site ORDER BY id LIMIT 1",
        "IOP_ST_PROGRAM": "SELECT public_id FROM patients_program ORDER BY id LIMIT 1",
        "IOP_ST_PHASE": "SELECT public_id FROM patients_phase ORDER BY id LIMIT 1",
        "IOP_ST_CLINICIAN": "SELECT public_id FROM accounts_user WHERE username = 'clinician'",
        "IOP_ST_SUPERVISOR": "SELECT public_id FROM accounts_user WHERE username = 'supervisor'",
        "IOP_ST_CASE_MANAGER": "SELECT public_id FROM accounts_user WHERE username = 'casemanager'",
        "IOP_ST_MEDICAL": "SELECT public_id FROM accounts_user WHERE username = 'medical'",
        "IOP_ST_PEER_SUPPORT": "SELECT public_id FROM accounts_user WHERE username = 'peersupport'",
    }
    ids = {}
    with psycopg2.connect(**database) as connection, connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            row = cursor.fetchone()
            assert row, f"the demo clinic has no row for {name}"
            ids[name] = str(row[0])
    return ids


def summary(output: str) -> dict:
    """Operations tested, cases generated and failures found, from schemathesis's summary."""
    tested = re.search(r"Tested:\s*(\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    failures = re.search(r"found (\d+) unique failures?", output)
    return {
        "operations": int(tested.group(1)) if tested else None,
        "cases": int(cases.group(1)) if cases else None,
        "failures": int(failures.group(1)) if failures else 0,
        "server_errors": len(re.findall(r"ST100|Server error", output)),
    }


def run_schemathesis(
    base_url: str, token: str, phases: str, env: dict, report_dir: Path
) -> tuple[int, str, float]:
    command = [
        str(VENV_BIN / "schemathesis"),
        "run",
        f"{base_url}/api/schema/?format=json",
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "2",
        "--no-color",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


@pytest.mark.services
def test_schemathesis_finds_no_failure_as_clinician_or_admin(smoke_database, tmp_path):  # noqa: F811
    database_url, database = smoke_database
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST_", "REDIS_")) and key != "STATIC_MANIFEST"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="iop.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_FOLDER=str(tmp_path / "broker"),  # no Redis needed: nothing is consumed
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        STATIC_MANIFEST="false",
        PYTHONUNBUFFERED="1",
    )
    processes = Processes(env, tmp_path)
    figures = {}
    try:
        processes.run("migrate", [sys.executable, "manage.py", "migrate", "--noinput", "-v0"])
        processes.run(
            "seed the demo clinic", [sys.executable, "manage.py", "seed_demo", "--allow-without-debug"]
        )
        processes.start("web", compose_command("web", **{"--bind": f"127.0.0.1:{port}", "--workers": "2"}))
        base_url = f"http://127.0.0.1:{port}"
        wait_for_healthz(processes, base_url)
        run_env = {**env, **demo_ids(database)}
        for role, phases in ROLES.items():
            status, output, seconds = run_schemathesis(
                base_url, api_token(base_url, role), phases, run_env, tmp_path / f"report-{role}"
            )
            figures[role] = {**summary(output), "seconds": round(seconds, 1), "exit": status}
            print(f"schemathesis as {role}: {figures[role]}")
            assert figures[role]["operations"], f"schemathesis tested no operation:\n{output[-4000:]}"
            assert figures[role]["server_errors"] == 0, output[-20000:]
            assert status == 0 and figures[role]["failures"] == 0, (
                f"schemathesis as {role}: {figures[role]}\n{output[-20000:]}"
            )
        server_errors = [line for line in processes.started[0].output().splitlines() if '" 500 ' in line]
        assert not server_errors, server_errors
    except BaseException:
        processes.stop_all()
        print(processes.report()[-5000:])
        raise
    finally:
        processes.stop_all()
        print(f"schemathesis figures (examples per operation {EXAMPLES}, seed {SEED}): {figures}")
