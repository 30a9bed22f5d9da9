from django.core.management.base import BaseCommand, CommandError

from iop.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken entry."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain BROKEN at entry #{report.first_broken_sequence}: {report.problem} "
                f"({report.entries_checked} entries verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain OK: {report.entries_checked} entries verified."))
