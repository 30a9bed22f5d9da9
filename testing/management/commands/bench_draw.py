"""`manage.py bench_draw --patients 5000`: time the daily draw for one site of N active
patients (with its audit entries), the audit checkpoint over them, and the draw's verification;
then the verification of a month of the reference workload's real draws at one site.

It writes: a site of its own with N synthetic patients (MRNs BENCH...), the draw and its audit
entries, a signed checkpoint. Run it on a benchmark database only (refused unless DEBUG or
BENCH_BARE_VIEW is on). Prints one JSON object of timings in milliseconds.
"""

import json
import time
from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from iop.accounts.models import Site
from iop.audit.services import make_checkpoint
from patients.models import Episode, Patient, Program
from testing.models import Draw, DrawTrigger
from testing.services import draws
from testing.verification import verify_draw


class Command(BaseCommand):
    help = "Benchmark the daily draw for one site of N active patients (writes to the database)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=5000)

    def handle(self, *args, patients, **options):
        if not (settings.DEBUG or settings.BENCH_BARE_VIEW):
            raise CommandError("bench_draw writes synthetic data: only with DEBUG or BENCH_BARE_VIEW on.")
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        program = Program.objects.filter(phases__isnull=False).order_by("pk").first()
        if program is None:
            raise CommandError("No program with phases: run the migrations.")
        site = self._site(program, patients)
        today = timezone.localdate(timezone=site.timezone)
        day = today
        while day.isoweekday() not in site.operating_days:
            day -= timedelta(days=1)
        started = time.perf_counter()
        outcome = draws.run_daily_draw(site=site, day=day, notify=False)
        draw_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        checkpoint_error = ""
        try:
            make_checkpoint()
        except Exception as error:  # noqa: BLE001 - reported, not hidden: no sink configured, ...
            checkpoint_error = str(error)
        checkpoint_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        report = verify_draw(outcome.draw)
        verify_ms = (time.perf_counter() - started) * 1000
        month_ms, month_draws, month_verified = self._verify_a_month(exclude=site)
        result = {
            "patients": outcome.draw.pool_size,
            "selected": outcome.draw.selected_count,
            "created": outcome.created,
            "draw_ms": round(draw_ms, 1),
            "checkpoint_ms": round(checkpoint_ms, 1),
            "checkpoint_error": checkpoint_error,
            "draw_and_checkpoint_ms": round(draw_ms + checkpoint_ms, 1),
            "verify_ms": round(verify_ms, 1),
            "verified": report.ok
            or [c.name for c in report.checks if not c.ok] == ["Month key and commitment"],
            "verify_month_draws": month_draws,
            "verify_month_ms": month_ms,
            "verify_month_all_recomputed": month_verified,
        }
        self.stdout.write(json.dumps(result))

    def _verify_a_month(self, *, exclude: Site) -> tuple[float, int, bool]:
        """Verify every real draw of the last 31 days at the site with the most of them (the
        reference workload's; generated history is not verifiable and is left out)."""
        since = timezone.localdate() - timedelta(days=31)
        real = (
            Draw.objects.filter(date__gte=since).exclude(trigger=DrawTrigger.GENERATED).exclude(site=exclude)
        )
        busiest = real.values("site").annotate(n=Count("pk")).order_by("-n", "site").first()
        if busiest is None:
            return 0.0, 0, False
        month = list(real.filter(site_id=busiest["site"]).select_related("key", "site").order_by("date"))
        started = time.perf_counter()
        reports = [verify_draw(draw) for draw in month]
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        # the seeded past's keys were committed when it was seeded: only that check may fail
        recomputed = all(
            {c.name for c in report.checks if not c.ok} <= {"Month key and commitment"} for report in reports
        )
        return elapsed, len(month), recomputed

    @transaction.atomic
    def _site(self, program, patients: int) -> Site:
        site = Site.objects.create(name=f"Bench draw site {timezone.now():%Y-%m-%d %H:%M:%S.%f}")
        existing = 0
        phase = program.phases.order_by("order").first()
        new = [
            Patient(
                legal_first_name="Bench",
                legal_last_name=f"Patient {n}",
                date_of_birth=date(1980, 1, 1),
                mrn=f"B{site.pk:05d}{n:07d}",
                site=site,
            )
            for n in range(existing, patients)
        ]
        Patient.objects.bulk_create(new, batch_size=2000)
        episodes = Episode.objects.bulk_create(
            [
                # admitted over the last week: each patient a few eligible days from a baseline
                Episode(
                    patient=p,
                    program=program,
                    site=site,
                    admitted_on=date.today() - timedelta(days=n % 7 + 1),
                    current_phase=phase,
                    phase_started_on=date.today() - timedelta(days=n % 7 + 1),
                )
                for n, p in enumerate(new)
            ],
            batch_size=2000,
        )
        for patient, episode in zip(new, episodes, strict=True):
            patient.current_episode = episode
        Patient.objects.bulk_update(new, ["current_episode"], batch_size=2000)
        return site
