from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from iop.audit.checkpoints import CheckpointKeyError, key_id_of, public_pem, signing_key, write_new_key


class Command(BaseCommand):
    help = (
        "Generate an Ed25519 key for signing audit checkpoints (--generate PATH), or print the "
        "configured key's id and public key (--public) to hand to auditors and keep after rotation."
    )
    requires_system_checks = []  # it is how the key the checks ask for gets made

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--generate", metavar="PATH", help="write a new private key (0600) and PATH.pub")
        group.add_argument("--public", action="store_true", help="print the configured key's public key")

    def handle(self, *args, **options):
        if options["generate"]:
            path = Path(options["generate"])
            try:
                key = write_new_key(path)
            except FileExistsError:
                raise CommandError(f"{path} exists: a key is never overwritten.") from None
            self.stdout.write(f"Wrote {path} (private, keep outside the database and its backups)")
            self.stdout.write(f"and {path}.pub (public). Key id {key_id_of(key.public_key())}.")
            return
        try:
            key = signing_key()
        except CheckpointKeyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"# audit checkpoint key id {key_id_of(key.public_key())}")
        self.stdout.write(public_pem(key.public_key()).decode("ascii"), ending="")
