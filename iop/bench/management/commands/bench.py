"""`manage.py bench` (`make bench`): build or reuse the reference workload, start gunicorn, measure.

Runs only on a benchmark database: it seeds demo logins whose password is published."""

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from iop.bench import harness


def ensure_database(database: dict) -> None:
    """Create the benchmark database when it does not exist yet (a fresh machine)."""
    import psycopg2
    from psycopg2 import sql

    params = {key.lower(): database[key] for key in ("HOST", "PORT", "USER", "PASSWORD") if database[key]}
    connection = psycopg2.connect(dbname="postgres", **params)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database["NAME"])))
    finally:
        connection.close()


class Command(BaseCommand):
    help = "Benchmark every page against the bare view on the reference workload (see README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="Workload scale (1 = 26,000 patients).")
        parser.add_argument(
            "--requests", type=int, default=0, help="Requests per page (default 200, 100 below 1)."
        )
        parser.add_argument("--throughput-seconds", type=float, default=8.0)
        parser.add_argument("--only", default="", help="Only pages whose role and name contain this.")
        parser.add_argument("--output", default="bench/results.json")
        parser.add_argument("--seed-only", action="store_true", help="Build the workload and stop.")

    def handle(self, *args, scale, requests, throughput_seconds, only, output, seed_only, **options):
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("make bench runs on PostgreSQL: set DATABASE_URL (see README, Benchmark).")
        if not 0 < scale <= 1:
            raise CommandError("--scale must be in (0, 1].")
        ensure_database(settings.DATABASES["default"])
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        started = time.monotonic()
        patients = harness.seed_reference(scale, progress=sys.stderr)
        self.stderr.write(f"Reference workload: {patients} patients ({time.monotonic() - started:.0f} s).")
        if seed_only:
            return
        requests = requests or (200 if scale >= 1 else 100)
        with harness.production_server() as base_url:
            self.stdout.write(harness.HEADER)
            figures, throughputs = harness.run(
                base_url,
                on_figure=lambda figures: harness.write_results(
                    Path(output), scale=scale, patients=patients, figures=figures, throughputs=[]
                ),
                requests_each=requests,
                throughput_seconds=throughput_seconds,
                only=only,
                out=self.stdout._out,
            )
        harness.write_results(
            Path(output), scale=scale, patients=patients, figures=figures, throughputs=throughputs
        )
        self.stdout.write(f"Wrote {output}.")
