"""`manage.py seed_demo`: a synthetic demo clinic with a login for every role.

Safe to run again: a second run creates nothing and prints the logins again. Progress goes to
stderr, so stdout (the summary and the logins) can be kept in a file.
"""

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from iop.demo.generator import MAX_DEMO_PATIENTS, DemoSetupError, SeedReport, seed_demo_clinic


class Command(BaseCommand):
    help = "Generate a synthetic IOP clinic (obviously fake people, MRNs DEMO...) and print its logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=60, help="How many patients (default 60).")
        parser.add_argument("--sites", type=int, default=2, help="How many sites (default 2).")
        parser.add_argument(
            "--weeks", type=int, default=8, help="How many weeks of admissions to spread over (default 8)."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed although DJANGO_DEBUG is false (a benchmark or test database; never a real clinic).",
        )

    def handle(self, *args, patients: int, sites: int, weeks: int, no_progress: bool, **options) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "seed_demo creates logins whose password is published in the README: it runs only "
                "with DJANGO_DEBUG=true (make run), or with --allow-without-debug for a benchmark or "
                "test database. Never on a real clinic's database."
            )
        if not 0 <= patients <= MAX_DEMO_PATIENTS:
            raise CommandError(f"--patients must be between 0 and {MAX_DEMO_PATIENTS}.")
        if sites < 1:
            raise CommandError("--sites must be at least 1.")
        if weeks < 1:
            raise CommandError("--weeks must be at least 1.")
        show_progress = not no_progress and options["verbosity"] > 0
        try:
            report = seed_demo_clinic(
                patients=patients,
                sites=sites,
                weeks=weeks,
                progress_stream=sys.stderr if show_progress else None,
            )
        except DemoSetupError as problem:
            raise CommandError(str(problem)) from problem
        if report.created_anything:
            created = ", ".join(f"{count} {what}" for what, count in report.created.items() if count)
            self.stdout.write(self.style.SUCCESS(f"Demo clinic seeded ({created})."))
        else:
            self.stdout.write(f"Demo data already exists ({report.summary()}); nothing was created.")
        self._print_logins(report)

    def _print_logins(self, report: SeedReport) -> None:
        rows = [("Role", "Username", "Password")] + [
            (login.label, login.username, report.password) for login in report.logins
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        self.stdout.write("")
        self.stdout.write(f"Demo clinic: {report.summary()}. Sign in at {sign_in_url()}")
        self.stdout.write("")
        for number, row in enumerate(rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(
            "Every patient is synthetic (MRNs start with DEMO). The admin works at every site; the others "
            "at the first site."
        )


def sign_in_url() -> str:
    """Where `make run` serves the clinic: bin/run-dev's PORT and RUN_DEV_HOST (8000, 127.0.0.1)."""
    host = os.environ.get("RUN_DEV_HOST") or "127.0.0.1"
    return f"http://{host}:{os.environ.get('PORT') or '8000'}/"
