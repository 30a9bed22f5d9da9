"""`manage.py simulate_draws`: run the real draw rule over a synthetic calendar (policy preview)."""

import json

from django.core.management.base import BaseCommand, CommandError

from testing.draw_rule import PolicyError, weekday_lock_warning
from testing.draw_simulation import preview, simulate


class Command(BaseCommand):
    help = "Simulate the random draw for a policy over a synthetic calendar."

    def add_arguments(self, parser):
        parser.add_argument("--tests-per-week", type=float, required=True)
        parser.add_argument("--eligible-days-per-week", type=int, required=True)
        parser.add_argument("--max-gap", type=int, required=True, help="Maximum eligible days untested (N)")
        parser.add_argument("--ramp", type=int, default=2, help="L (default 2)")
        parser.add_argument("--patients", type=int, default=100)
        parser.add_argument("--weeks", type=int, default=12)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="Print the selections as JSON")

    def handle(self, *args, **options):
        if options["patients"] < 1 or options["weeks"] < 1:
            raise CommandError("--patients and --weeks must be at least 1.")
        eligible = options["eligible_days_per_week"]
        try:
            simulation = simulate(
                tests_per_week=options["tests_per_week"],
                eligible_days_per_week=eligible,
                max_gap=options["max_gap"],
                ramp=options["ramp"],
                patients=options["patients"],
                weeks=options["weeks"],
                seed=options["seed"],
            )
        except PolicyError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(simulation.as_json(), separators=(",", ":")))
            return
        summary = preview(simulation, eligible_days_per_week=eligible)
        self.stdout.write(f"q = {summary.q:.4f}")
        self.stdout.write(f"mean tests per week: {summary.mean_tests_per_week:.3f}")
        self.stdout.write(f"longest gap: {summary.longest_gap} eligible days")
        self.stdout.write(
            "gaps: " + ", ".join(f"{gap}: {count}" for gap, count in summary.gap_distribution.items())
        )
        self.stdout.write(
            "share per weekday: " + ", ".join(f"{share:.1%}" for share in summary.weekday_share)
        )
        warning = weekday_lock_warning(
            eligible_days_per_week=eligible, max_gap=options["max_gap"], ramp=options["ramp"]
        )
        if warning:
            self.stdout.write(self.style.WARNING(warning))
