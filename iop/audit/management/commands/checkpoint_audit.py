from django.core.management.base import BaseCommand, CommandError

from iop.audit.checkpoints import CheckpointKeyError
from iop.audit.services import ChainBrokenError, make_checkpoint
from iop.audit.sinks import CheckpointSinkError


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain's head now (outside sinks first, then the database)."

    def handle(self, *args, **options):
        try:
            result = make_checkpoint()
        except CheckpointKeyError as error:
            raise CommandError(f"No checkpoint: {error}") from None
        except CheckpointSinkError as error:
            raise CommandError(f"No checkpoint: could not write to an outside sink: {error}") from None
        except ChainBrokenError as error:
            raise CommandError(f"No checkpoint: the audit chain is broken at {error}.") from None
        if result.checkpoint is None:
            self.stdout.write("The audit trail is empty: nothing to checkpoint.")
        elif not result.created:
            self.stdout.write(
                f"No new entries since checkpoint #{result.checkpoint.sequence}: nothing to sign."
            )
        else:
            checkpoint = result.checkpoint
            self.stdout.write(
                self.style.SUCCESS(
                    f"Checkpoint #{checkpoint.sequence} signed with key {checkpoint.key_id}, "
                    f"written to {', '.join(result.sinks)} and the database."
                )
            )
