"""`manage.py verify_draw --site <slug> --date <YYYY-MM-DD>`: recompute a past draw and check
its key, commitment, snapshot and audit entries; exit 0 only if everything matches."""

import datetime
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from iop.accounts.models import Site
from testing.models import Draw
from testing.verification import verify_draw


def find_site(value: str) -> Site:
    """A site by the slug of its name (e.g. "northside") or by its public id."""
    try:
        return Site.objects.get(public_id=uuid.UUID(value))
    except (ValueError, Site.DoesNotExist):
        pass
    matches = [site for site in Site.objects.all() if slugify(site.name) == slugify(value)]
    if len(matches) != 1:
        names = ", ".join(slugify(site.name) for site in Site.objects.all())
        raise CommandError(f"No site {value!r}. Sites: {names}")
    return matches[0]


class Command(BaseCommand):
    help = "Verify one site's random draw for one day (exit status 0 only if everything matches)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--site", required=True, help="The site's slug (its name, slugified) or public id"
        )
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--skip-chain",
            action="store_true",
            help="Do not verify the whole audit chain (only this draw's entries)",
        )

    def handle(self, *args, site, date, skip_chain, **options):
        try:
            day = datetime.date.fromisoformat(date)
        except ValueError:
            raise CommandError(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
        found = find_site(site)
        draw = Draw.objects.select_related("site", "key").filter(site=found, date=day).first()
        if draw is None:
            raise CommandError(f"No draw at {found} on {day.isoformat()}.")
        report = verify_draw(draw, whole_chain=not skip_chain)
        for check in report.checks:
            mark = "ok  " if check.ok else "FAIL"
            self.stdout.write(f"{mark} {check.name}: {check.detail}")
        if not report.ok:
            raise CommandError(f"The draw at {found} on {day.isoformat()} does NOT verify.")
        self.stdout.write(self.style.SUCCESS(f"The draw at {found} on {day.isoformat()} verifies."))
