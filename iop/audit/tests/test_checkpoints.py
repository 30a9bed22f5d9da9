"""Signed checkpoints make the audit trail tamper-evident against whoever owns the database.

The rewrites below are done the way a database superuser would: raw SQL with the append-only
triggers disabled, every later hash recomputed and the chain head moved, so that the hash
chain alone verifies. Only the checkpoints, signed with a key that is not in the database and
copied to a log outside it, tell.
"""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse

from conftest import require_service
from iop.audit import checkpoints as signing
from iop.audit.chain import GENESIS_HASH, entry_hash
from iop.audit.models import AuditAction, AuditChainHead, AuditCheckpoint, AuditEntry
from iop.audit.services import (
    ChainBrokenError,
    _link_of,
    make_checkpoint,
    record_event,
    run_chain_verification,
    verify_chain,
)
from iop.audit.sinks import CheckpointSinkError
from iop.audit.tests.test_worker import database_url_for

AUDIT_TABLES = ["audit_auditentry", "audit_auditchainhead", "audit_auditcheckpoint"]


@pytest.fixture
def keys(settings, tmp_path):
    """A signing key and an outside checkpoint log of this test's own."""
    key_file = tmp_path / "keys" / "checkpoint-key.pem"
    signing.write_new_key(key_file)
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(key_file)
    settings.AUDIT_CHECKPOINT_GENERATE_KEY = False
    settings.AUDIT_CHECKPOINT_PUBLIC_KEYS = []
    settings.AUDIT_CHECKPOINT_SINKS = [f"file://{tmp_path / 'outside' / 'checkpoints.jsonl'}"]
    settings.AUDIT_CHECKPOINT_LOG = ""
    return key_file


def outside_log(settings) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_SINKS[0].removeprefix("file://"))


def write_trail(count: int) -> None:
    """A trail with break-the-glass entries among chart reads and updates."""
    for n in range(count):
        if n % 7 == 3:
            record_event(
                actor=None,
                action=AuditAction.BREAK_GLASS,
                object_type="patients.patient",
                object_id=f"p-{n}",
                reason="Imminent risk: the patient called in crisis and the on-call clinician is out.",
            )
        else:
            record_event(
                actor=None, action=AuditAction.READ, object_type="patients.chart", object_id=f"p-{n}"
            )


# --- A database superuser's rewrites -------------------------------------------------------------


def as_superuser(statements: list[tuple[str, list]]) -> None:
    """Run raw SQL with the audit tables' triggers switched off, as a database superuser can."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending foreign-key checks block TRUNCATE
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def rehash_from(first_sequence: int) -> list[tuple[str, list]]:
    """Recompute prev_hash and entry_hash of every entry from `first_sequence` on, and the head."""
    statements = []
    previous = (
        AuditEntry.objects.filter(sequence=first_sequence - 1).values_list("entry_hash", flat=True).first()
    )
    previous = previous or GENESIS_HASH
    last_sequence = first_sequence - 1
    for entry in AuditEntry.objects.filter(sequence__gte=first_sequence).order_by("sequence"):
        entry.prev_hash = previous
        previous = entry_hash(_link_of(entry))
        statements.append(
            (
                "UPDATE audit_auditentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
                [entry.prev_hash, previous, entry.pk],
            )
        )
        last_sequence = entry.sequence
    statements.append(
        (
            "UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s WHERE id = 1",
            [last_sequence, previous],
        )
    )
    return statements


def rewrite_a_break_the_glass_reason() -> None:
    target = AuditEntry.objects.filter(action=AuditAction.BREAK_GLASS).order_by("sequence").first()
    as_superuser([("UPDATE audit_auditentry SET reason = %s WHERE id = %s", ["Routine check.", target.pk])])
    as_superuser(rehash_from(target.sequence))


def drop_the_last_20_entries_and_move_the_head_back() -> None:
    last = AuditChainHead.objects.get().last_sequence
    keep = AuditEntry.objects.get(sequence=last - 20)
    as_superuser(
        [
            ("DELETE FROM audit_auditentry WHERE sequence > %s", [keep.sequence]),
            (
                "UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s",
                [keep.sequence, keep.entry_hash],
            ),
        ]
    )


def truncate_and_reset_the_head() -> None:
    truncate = "TRUNCATE {}" if connection.vendor == "postgresql" else "DELETE FROM {}"
    as_superuser(
        [
            (truncate.format("audit_auditentry"), []),
            (truncate.format("audit_auditcheckpoint"), []),
            ("UPDATE audit_auditchainhead SET last_sequence = 0, last_hash = %s", [GENESIS_HASH]),
        ]
    )


def delete_entries_renumber_and_rehash() -> None:
    target = AuditEntry.objects.filter(action=AuditAction.BREAK_GLASS).order_by("sequence").first()
    as_superuser(
        [
            ("DELETE FROM audit_auditentry WHERE sequence = %s", [target.sequence]),
            # Through free numbers: PostgreSQL checks the unique sequence row by row.
            (
                "UPDATE audit_auditentry SET sequence = sequence + 1000000 WHERE sequence > %s",
                [target.sequence],
            ),
            ("UPDATE audit_auditentry SET sequence = sequence - 1000001 WHERE sequence > 1000000", []),
        ]
    )
    as_superuser(rehash_from(target.sequence))


REWRITES = {
    "rewrite a break-the-glass reason, rehash, move the head": rewrite_a_break_the_glass_reason,
    "drop the last 20 entries, move the head back": drop_the_last_20_entries_and_move_the_head_back,
    "truncate, reset the head": truncate_and_reset_the_head,
    "delete an entry, renumber, rehash, move the head": delete_entries_renumber_and_rehash,
}


def wipe_database_checkpoints() -> None:
    as_superuser([("DELETE FROM audit_auditcheckpoint", [])])


# --- The trail as written ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_untouched_trail_verifies_against_its_checkpoints(keys, settings):
    write_trail(30)
    assert make_checkpoint().created
    write_trail(5)
    report = verify_chain()
    assert report.ok, report.problem
    assert report.entries_checked == 35 and report.checkpoints_checked == 1
    assert report.latest_checkpoint_sequence == 30
    line = json.loads(outside_log(settings).read_text().strip())
    assert line["sequence"] == 30 and line["head_hash"] == AuditEntry.objects.get(sequence=30).entry_hash
    assert AuditCheckpoint.objects.get().signature == line["signature"]


@pytest.mark.django_db
def test_a_checkpoint_is_made_only_when_the_head_has_moved(keys, settings):
    assert make_checkpoint().checkpoint is None  # empty trail
    write_trail(3)
    assert make_checkpoint().created
    again = make_checkpoint()
    assert not again.created and again.checkpoint.sequence == 3
    write_trail(1)
    assert make_checkpoint().checkpoint.sequence == 4
    assert AuditCheckpoint.objects.count() == 2
    assert len(outside_log(settings).read_text().splitlines()) == 2


@pytest.mark.django_db
def test_a_failed_outside_write_records_no_checkpoint(keys, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.AUDIT_CHECKPOINT_SINKS = [f"file://{blocker / 'checkpoints.jsonl'}"]
    write_trail(2)
    with pytest.raises(CheckpointSinkError):
        make_checkpoint()
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.django_db
def test_no_checkpoint_is_signed_over_a_rewritten_chain(keys):
    write_trail(10)
    make_checkpoint()
    write_trail(10)
    as_superuser([("UPDATE audit_auditentry SET object_id = 'forged' WHERE sequence = 15", [])])
    with pytest.raises(ChainBrokenError, match="#15"):
        make_checkpoint()
    assert AuditCheckpoint.objects.count() == 1


# --- A database superuser's rewrites are caught --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "wipe_checkpoints_in_the_database", [False, True], ids=["db-checkpoints-kept", "wiped"]
)
@pytest.mark.parametrize("rewrite", list(REWRITES), ids=list(REWRITES))
def test_a_rewrite_by_the_database_owner_fails_verification(
    keys, settings, rewrite, wipe_checkpoints_in_the_database
):
    write_trail(40)
    make_checkpoint()
    write_trail(2)
    REWRITES[rewrite]()
    if wipe_checkpoints_in_the_database:
        wipe_database_checkpoints()

    # The rewrite is perfect as far as the hash chain goes: without the checkpoints it passes.
    with override_settings(AUDIT_CHECKPOINT_SINKS=[], AUDIT_CHECKPOINT_LOG=""):
        if wipe_checkpoints_in_the_database or rewrite.startswith("truncate"):
            assert verify_chain().ok

    report = verify_chain()
    assert not report.ok
    assert "checkpoint" in report.problem or "signed" in report.problem
    with pytest.raises(CommandError, match="Audit chain BROKEN") as failure:
        call_command("verify_audit_chain")
    assert failure.value.returncode == 1


@pytest.mark.django_db
def test_the_rewritten_reason_is_named_at_the_checkpointed_entry(keys):
    write_trail(40)
    make_checkpoint()
    rewrite_a_break_the_glass_reason()
    wipe_database_checkpoints()
    report = verify_chain()
    assert report.first_broken_sequence == 40
    assert (
        "differs from the signed checkpoint" in report.problem and "outside checkpoint log" in report.problem
    )


@pytest.mark.django_db
def test_a_truncation_names_the_signed_entries_that_are_gone(keys):
    write_trail(25)
    make_checkpoint()
    truncate_and_reset_the_head()
    report = verify_chain()
    assert report.first_broken_sequence == 1
    assert "chain head is at #0 but entry #25 was signed" in report.problem


@pytest.mark.django_db
def test_the_nightly_verification_and_the_admin_home_show_a_rolled_back_head(keys, clinic, client):
    write_trail(30)
    make_checkpoint()
    drop_the_last_20_entries_and_move_the_head_back()
    verification = run_chain_verification()
    assert not verification.ok and verification.latest_checkpoint_sequence == 30
    client.force_login(clinic.admin)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="audit-chain-alert"' in page and "rolled back" in page


# --- Signatures and keys -------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_altered_outside_checkpoint_fails_its_signature(keys, settings):
    write_trail(5)
    make_checkpoint()
    log = outside_log(settings)
    line = json.loads(log.read_text())
    line["sequence"] = 3  # claim less was checkpointed, to hide the last two entries
    line["head_hash"] = AuditEntry.objects.get(sequence=3).entry_hash
    log.write_text(json.dumps(line) + "\n")
    report = verify_chain()
    assert not report.ok and "signature does not verify" in report.problem


@pytest.mark.django_db
def test_a_forged_checkpoint_in_the_database_fails_its_signature(keys):
    write_trail(5)
    make_checkpoint()
    as_superuser(
        [("UPDATE audit_auditcheckpoint SET signature = %s", [base64.b64encode(b"\0" * 64).decode()])]
    )
    report = verify_chain()
    assert (
        not report.ok and "database checkpoint #5" in report.problem and "does not verify" in report.problem
    )


@pytest.mark.django_db
def test_a_checkpoint_signed_with_another_key_is_refused(keys, settings, tmp_path):
    write_trail(5)
    make_checkpoint()
    intruder_key = signing.write_new_key(tmp_path / "intruder.pem")
    head = AuditChainHead.objects.get()
    forged = signing.sign(
        intruder_key, sequence=head.last_sequence, head_hash=head.last_hash, made_at=head_time()
    )
    with outside_log(settings).open("a") as log:
        log.write(forged.to_line() + "\n")
    report = verify_chain()
    assert not report.ok and "not a trusted checkpoint key" in report.problem


def head_time():
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
def test_an_auditor_verifies_with_the_public_key_alone_and_a_wrong_one_fails(keys, settings, tmp_path):
    write_trail(5)
    make_checkpoint()
    public_key = f"{keys}.pub"
    settings.AUDIT_CHECKPOINT_KEY_FILE = ""  # the auditor has no private key
    assert verify_chain(public_key_files=[public_key]).ok
    call_command(
        "verify_audit_chain", "--public-key", public_key, "--checkpoints", str(outside_log(settings))
    )
    signing.write_new_key(tmp_path / "other.pem")
    report = verify_chain(public_key_files=[str(tmp_path / "other.pem.pub")])
    assert not report.ok and "not a trusted checkpoint key" in report.problem


@pytest.mark.django_db
def test_after_a_key_rotation_old_checkpoints_verify_with_the_retired_public_key(keys, settings, tmp_path):
    write_trail(5)
    make_checkpoint()
    new_key = tmp_path / "keys" / "checkpoint-key-2.pem"
    call_command("audit_checkpoint_key", "--generate", str(new_key))
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(new_key)
    settings.AUDIT_CHECKPOINT_PUBLIC_KEYS = [f"{keys}.pub"]  # the retired key's public half
    write_trail(5)
    make_checkpoint()
    report = verify_chain()
    assert report.ok and report.checkpoints_checked == 2
    settings.AUDIT_CHECKPOINT_PUBLIC_KEYS = []  # forgetting it: the old checkpoints no longer verify
    report = verify_chain()
    assert not report.ok and "not a trusted checkpoint key" in report.problem
    key_ids = set(AuditCheckpoint.objects.values_list("key_id", flat=True))
    assert len(key_ids) == 2


@pytest.mark.django_db
def test_a_missing_outside_log_fails_when_the_database_has_checkpoints(keys, settings):
    write_trail(3)
    make_checkpoint()
    outside_log(settings).unlink()
    report = verify_chain()
    assert not report.ok and "is missing" in report.problem


@pytest.mark.django_db
def test_the_embedded_clinic_makes_its_key_once(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(tmp_path / ".audit" / "checkpoint-key.pem")
    settings.AUDIT_CHECKPOINT_GENERATE_KEY = True
    first = signing.signing_key()
    assert oct(os.stat(settings.AUDIT_CHECKPOINT_KEY_FILE).st_mode & 0o777) == "0o600"
    assert signing.key_id_of(signing.signing_key().public_key()) == signing.key_id_of(first.public_key())


# --- Commands, exit codes, checks ----------------------------------------------------------------


@pytest.mark.django_db
def test_checkpoint_command_says_what_it_did(keys, capsys):
    call_command("checkpoint_audit")
    assert "empty" in capsys.readouterr().out
    write_trail(2)
    call_command("checkpoint_audit")
    assert "Checkpoint #2 signed with key" in capsys.readouterr().out
    call_command("checkpoint_audit")
    assert "No new entries since checkpoint #2" in capsys.readouterr().out


@pytest.mark.django_db
def test_checkpoint_command_without_a_key_fails(settings):
    settings.AUDIT_CHECKPOINT_KEY_FILE = ""
    write_trail(1)
    with pytest.raises(CommandError, match="AUDIT_CHECKPOINT_KEY_FILE") as failure:
        call_command("checkpoint_audit")
    assert failure.value.returncode == 1


@pytest.mark.django_db(transaction=True)
def test_verify_command_exit_status(keys, settings):
    write_trail(25)
    make_checkpoint()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "AUDIT_CHECKPOINT_KEY_FILE": str(keys),
        "AUDIT_CHECKPOINT_SINKS": settings.AUDIT_CHECKPOINT_SINKS[0],
    }
    manage = [sys.executable, "manage.py", "verify_audit_chain"]
    base = Path(__file__).resolve().parents[3]
    passed = subprocess.run(manage, env=env, cwd=base, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert passed.returncode == 0, passed.stderr
    assert "Audit chain OK: 25 entries verified, against 1 signed checkpoints" in passed.stdout
    drop_the_last_20_entries_and_move_the_head_back()
    failed = subprocess.run(manage, env=env, cwd=base, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert failed.returncode == 1
    assert "Audit chain BROKEN" in failed.stderr and "rolled back" in failed.stderr


def test_production_must_configure_a_checkpoint_key_and_sink(settings):
    settings.DEBUG = False
    settings.AUDIT_CHECKPOINT_KEY_FILE = ""
    settings.AUDIT_CHECKPOINT_SINKS = []
    ids = {message.id for message in checks.run_checks(tags=["audit"], include_deployment_checks=True)}
    assert {"audit.E001", "audit.E003"} <= ids
    with pytest.raises(CommandError, match="audit.E001"):
        call_command("setup_database")


def test_a_wrong_key_file_or_sink_is_an_error(settings, tmp_path):
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("hello")
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(not_a_key)
    settings.AUDIT_CHECKPOINT_GENERATE_KEY = False
    settings.AUDIT_CHECKPOINT_SINKS = ["ftp://example.org/x"]
    ids = {message.id for message in checks.run_checks(tags=["audit"])}
    assert {"audit.E002", "audit.E004"} <= ids


def test_beat_makes_checkpoints_every_few_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["checkpoint-audit-trail"]
    assert entry["task"] == "iop.audit.tasks.checkpoint_audit_task"
    assert entry["schedule"].total_seconds() == settings.AUDIT_CHECKPOINT_EVERY_SECONDS == 300


@pytest.mark.django_db
def test_checkpoint_task_makes_one_checkpoint(keys):
    from iop.audit.tasks import checkpoint_audit_task

    write_trail(4)
    assert checkpoint_audit_task() == 4
    assert checkpoint_audit_task() == 4
    assert AuditCheckpoint.objects.count() == 1


# --- PostgreSQL: triggers -------------------------------------------------------------------------


def refused(sql: str, params=()) -> str:
    with pytest.raises(Exception) as error, transaction.atomic(), connection.cursor() as cursor:  # noqa: PT011
        cursor.execute("SET LOCAL iop.audit_truncate_allowed = 'off'")
        cursor.execute(sql, params)
    return str(error.value)


@pytest.mark.django_db
def test_postgresql_refuses_truncate_of_the_audit_tables(keys):
    require_service("PostgreSQL", connection.vendor == "postgresql", "the triggers exist on PostgreSQL only")
    write_trail(3)
    make_checkpoint()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in AUDIT_TABLES:
        assert "TRUNCATE of" in refused(f"TRUNCATE {table}") and "refused" in refused(f"TRUNCATE {table}")
    assert AuditEntry.objects.count() == 3 and AuditCheckpoint.objects.count() == 1


@pytest.mark.django_db
def test_postgresql_lets_the_chain_head_only_move_forward(keys):
    require_service("PostgreSQL", connection.vendor == "postgresql", "the triggers exist on PostgreSQL only")
    write_trail(5)
    make_checkpoint()
    third = AuditEntry.objects.get(sequence=3)
    assert "only moves forward" in refused(
        "UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s", [3, third.entry_hash]
    )
    assert "only moves forward" in refused(
        "UPDATE audit_auditchainhead SET last_sequence = 6, last_hash = 'x'"
    )
    assert "cannot be deleted" in refused("DELETE FROM audit_auditchainhead")
    assert "append-only" in refused("UPDATE audit_auditcheckpoint SET head_hash = 'x'")
    assert "append-only" in refused("DELETE FROM audit_auditcheckpoint")
    write_trail(1)  # the application still moves it forward
    assert AuditChainHead.objects.get().last_sequence == 6 and verify_chain().ok


# --- Sinks ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_checkpoints_go_to_syslog_and_the_received_copy_verifies(keys, settings, tmp_path):
    import socket

    address = str(tmp_path / "syslog.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(5)
    settings.AUDIT_CHECKPOINT_SINKS = [f"syslog://{address}"]
    write_trail(3)
    make_checkpoint()
    message = server.recv(4096).decode()
    server.close()
    assert message.startswith("<") and "iop-audit-checkpoint: " in message and '"sequence":3' in message
    received = tmp_path / "syslog-copy.log"
    received.write_text(f"Dec  1 21:00:00 clinic {message[message.index('>') + 1 :]}\n")
    report = verify_chain(checkpoint_log=received)
    assert report.ok and report.latest_checkpoint_sequence == 3
    settings.AUDIT_CHECKPOINT_LOG = ""
    assert verify_chain().notes  # nothing outside to read: said so


@pytest.mark.django_db
def test_checkpoints_are_posted_to_an_http_sink_with_its_token(keys, settings):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            received.append((self.headers["Authorization"], self.rfile.read(length).decode()))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.AUDIT_CHECKPOINT_SINKS = [f"http://127.0.0.1:{server.server_port}/checkpoints"]
        settings.AUDIT_CHECKPOINT_HTTP_TOKEN = "sink-token"
        write_trail(2)
        assert make_checkpoint().created
    finally:
        server.shutdown()
    assert received[0][0] == "Bearer sink-token"
    assert signing.parse_line(received[0][1]).sequence == 2
