from django.core.management.base import BaseCommand, CommandError

from iop.audit.checkpoints import CheckpointKeyError
from iop.audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit trail: every entry's hash chain, and the chain against the signed "
        "checkpoints read from the outside log and the database. Exits non-zero if anything fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            metavar="FILE",
            help="the outside checkpoint log to read (default: AUDIT_CHECKPOINT_LOG, else the file sink)",
        )
        parser.add_argument(
            "--public-key",
            action="append",
            dest="public_keys",
            metavar="PEM",
            help="trust only these public keys (repeat for retired keys); default: the configured ones",
        )

    def handle(self, *args, **options):
        try:
            report = verify_chain(
                checkpoint_log=options["checkpoints"], public_key_files=options["public_keys"]
            )
        except CheckpointKeyError as error:
            raise CommandError(f"Audit trail NOT verified: {error}") from None
        for note in report.notes:
            self.stderr.write(self.style.WARNING(f"Note: {note}."))
        if not report.ok:
            where = f" at entry #{report.first_broken_sequence}" if report.first_broken_sequence else ""
            raise CommandError(
                f"Audit chain BROKEN{where}: {report.problem} "
                f"({report.entries_checked} entries verified before it)."
            )
        against = (
            f", against {report.checkpoints_checked} signed checkpoints "
            f"(latest #{report.latest_checkpoint_sequence})"
            if report.checkpoints_checked
            else ", no signed checkpoint yet"
        )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain OK: {report.entries_checked} entries verified{against}.")
        )
