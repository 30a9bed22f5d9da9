"""Writes to the audit trail. Call `record_event` inside the transaction of the change."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from iop.audit import checkpoints as signing
from iop.audit.chain import GENESIS_HASH, ChainLink, entry_hash
from iop.audit.context import current_ip_address
from iop.audit.models import AuditAction, AuditChainHead, AuditCheckpoint, AuditEntry, ChainVerification
from iop.audit.sinks import configured_sinks, outside_log_path

logger = logging.getLogger(__name__)


def _link_of(entry: AuditEntry) -> ChainLink:
    return ChainLink(
        sequence=entry.sequence,
        occurred_at=entry.occurred_at,
        actor_id=entry.actor_id,
        actor_username=entry.actor_username,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        patient_public_id=str(entry.patient_public_id or ""),
        ip_address=entry.ip_address or "",
        reason=entry.reason,
        changed_fields=list(entry.changed_fields or []),
        prev_hash=entry.prev_hash,
    )


def _lock_head() -> tuple[int, str]:
    """Lock the chain head for this transaction; its last sequence number and hash."""
    if connection.vendor == "postgresql":  # one plain statement (this runs on every chart read)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_sequence, last_hash FROM {_HEAD_TABLE} WHERE id = 1 FOR UPDATE")  # noqa: S608 - a model's table name
            row = cursor.fetchone()
        if row is not None:
            return row[0], row[1]
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_HASH}
    )
    return head.last_sequence, head.last_hash


_HEAD_TABLE = AuditChainHead._meta.db_table
_ENTRY_FIELDS = [field for field in AuditEntry._meta.concrete_fields if not field.primary_key]
# Set only once the head is locked: the entry's place in the chain and its time.
_LINK_FIELDS = ("sequence", "occurred_at", "prev_hash", "entry_hash")
_BODY_FIELDS = [field for field in _ENTRY_FIELDS if field.attname not in _LINK_FIELDS]


def _append(entries: list[AuditEntry], body_params: list[list]) -> None:
    """Insert `entries` (already linked) and move the head to the last: on PostgreSQL one
    statement (the head's UPDATE as a data-modifying WITH), elsewhere an insert and an update.
    `body_params`: each entry's `_BODY_FIELDS` values, prepared before the head was locked."""
    last = entries[-1]
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(entries)
        AuditChainHead.objects.filter(pk=1).update(last_sequence=last.sequence, last_hash=last.entry_hash)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _BODY_FIELDS)
    columns += ", " + ", ".join(quote(AuditEntry._meta.get_field(name).column) for name in _LINK_FIELDS)
    row = "(" + ", ".join(["%s"] * (len(_BODY_FIELDS) + len(_LINK_FIELDS))) + ")"
    params = [last.sequence, last.entry_hash]
    for entry, body in zip(entries, body_params, strict=True):
        params += body
        params += [entry.sequence, entry.occurred_at, entry.prev_hash, entry.entry_hash]
    # Table and column names come from the models; every value is a parameter.
    sql = (
        f"WITH head AS (UPDATE {_HEAD_TABLE} SET last_sequence = %s, last_hash = %s WHERE id = 1) "  # noqa: S608
        f"INSERT INTO {AuditEntry._meta.db_table} ({columns}) VALUES {', '.join([row] * len(entries))} "
        "RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for entry, (pk,) in zip(entries, cursor.fetchall(), strict=True):
            entry.pk = pk
            entry._state.adding = False


def _unlinked_entry(actor, action, event: dict) -> AuditEntry:
    """An entry without its place in the chain (sequence, time, hashes): see `_link`."""
    return AuditEntry(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "system",
        action=str(action),
        object_type=event["object_type"],
        object_id=str(event.get("object_id") or ""),
        patient_public_id=event.get("patient_public_id"),
        ip_address=current_ip_address.get(),
        reason=event.get("reason", ""),
        changed_fields=sorted(event.get("changed_fields", ())),
    )


def _link(entry: AuditEntry, *, sequence: int, previous_hash: str, occurred_at) -> AuditEntry:
    entry.sequence = sequence
    entry.occurred_at = occurred_at
    entry.prev_hash = previous_hash
    entry.entry_hash = entry_hash(_link_of(entry))
    return entry


def entry_is_intact(entry: AuditEntry) -> bool:
    """Whether one entry's stored hash still matches its content (e.g. for a verifier that
    checks the entries it relies on; `verify_chain` checks the whole chain)."""
    return entry_hash(_link_of(entry)) == entry.entry_hash


@transaction.atomic(savepoint=False)  # part of the caller's transaction: no savepoint round trips
def record_event(
    *,
    actor,
    action: AuditAction | str,
    object_type: str,
    object_id: object = "",
    patient_public_id=None,
    reason: str = "",
    changed_fields: Iterable[str] = (),
) -> AuditEntry:
    """Append one entry to the chain. Joins the caller's transaction (rolls back with it)."""
    return record_events(
        actor=actor,
        action=action,
        events=[
            {
                "object_type": object_type,
                "object_id": object_id,
                "patient_public_id": patient_public_id,
                "reason": reason,
                "changed_fields": changed_fields,
            }
        ],
    )[0]


@transaction.atomic(savepoint=False)
def record_events(*, actor, action: AuditAction | str, events: list[dict]) -> list[AuditEntry]:
    """Append several entries at once (one lock, one insert): e.g. one read per patient on an
    API list page. Each event: object_type, object_id, patient_public_id, reason (optional).

    Two round trips whatever the number of entries: lock and read the head, then insert the
    entries and move the head (see `_append`)."""
    if not events:
        return []
    # Everything but the links is built before the head is locked: every audited request
    # waits for that lock, and it is held until the caller's transaction commits (ADR 0009).
    entries = [_unlinked_entry(actor, action, event) for event in events]
    body_params = [
        [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in _BODY_FIELDS]
        for entry in entries
    ]
    sequence, previous_hash = _lock_head()
    now = timezone.now()
    for entry in entries:
        sequence += 1
        _link(entry, sequence=sequence, previous_hash=previous_hash, occurred_at=now)
        previous_hash = entry.entry_hash
    _append(entries, body_params)
    return entries


# --- Signed checkpoints ---------------------------------------------------------------------


class ChainBrokenError(Exception):
    """The chain does not extend the last checkpoint: no new checkpoint is signed over it."""


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: AuditCheckpoint | None
    created: bool
    sinks: tuple[str, ...] = ()


def _signed(row: AuditCheckpoint) -> signing.SignedCheckpoint:
    return signing.SignedCheckpoint(row.sequence, row.head_hash, row.made_at, row.key_id, row.signature)


def _segment_problem(from_sequence: int, from_hash: str, to_sequence: int, to_hash: str) -> tuple[int, str]:
    """Whether entries from_sequence+1..to_sequence link up from from_hash to to_hash."""
    if from_sequence:
        anchor = (
            AuditEntry.objects.filter(sequence=from_sequence).values_list("entry_hash", flat=True).first()
        )
        if anchor != from_hash:
            return from_sequence, f"entry #{from_sequence} no longer has the hash its signed checkpoint holds"
    expected, previous = from_sequence + 1, from_hash
    entries = AuditEntry.objects.filter(sequence__gt=from_sequence, sequence__lte=to_sequence).order_by(
        "sequence"
    )
    for entry in entries.iterator(chunk_size=2000):
        if entry.sequence != expected:
            return expected, f"entry #{expected} is missing"
        if entry.prev_hash != previous or entry_hash(_link_of(entry)) != entry.entry_hash:
            return entry.sequence, "changed or moved after writing"
        previous, expected = entry.entry_hash, expected + 1
    if expected - 1 != to_sequence or previous != to_hash:
        return expected, f"entries after #{expected - 1} are missing (head says #{to_sequence})"
    return 0, ""


def make_checkpoint() -> CheckpointResult:
    """Sign the chain head and write the checkpoint outside the database, then into it.

    Idempotent: nothing new while the head has not moved since the last checkpoint. Checks
    that the entries since the last checkpoint extend it before signing, so a checkpoint never
    vouches for a rewritten chain. The outside sinks are written first: if one fails, nothing
    is recorded and the next run (or the task's retry) tries again. Takes no lock that audited
    requests wait for.
    """
    key = signing.signing_key()
    sinks = configured_sinks()
    if not sinks:
        raise signing.CheckpointKeyError(
            "AUDIT_CHECKPOINT_SINKS is empty: checkpoints need a sink outside the database."
        )
    head = AuditChainHead.objects.filter(pk=1).first()
    latest = AuditCheckpoint.objects.order_by("-sequence").first()
    if head is None or head.last_sequence == 0 or (latest and latest.sequence >= head.last_sequence):
        return CheckpointResult(latest, created=False)
    base_sequence, base_hash = 0, GENESIS_HASH
    if latest is not None:
        problem = signing.signature_problem(_signed(latest), signing.trusted_keys())
        if problem:
            raise ChainBrokenError(f"the last checkpoint (#{latest.sequence}) is not valid: {problem}")
        base_sequence, base_hash = latest.sequence, latest.head_hash
    broken_at, problem = _segment_problem(base_sequence, base_hash, head.last_sequence, head.last_hash)
    if problem:
        logger.error("Audit chain broken at entry %s: %s; no checkpoint signed", broken_at, problem)
        raise ChainBrokenError(f"entry #{broken_at}: {problem}")
    signed = signing.sign(key, sequence=head.last_sequence, head_hash=head.last_hash, made_at=timezone.now())
    line = signed.to_line()
    for sink in sinks:
        sink.write(line)
    try:
        with transaction.atomic():
            row = AuditCheckpoint.objects.create(
                sequence=signed.sequence,
                head_hash=signed.head_hash,
                made_at=signed.made_at,
                key_id=signed.key_id,
                signature=signed.signature,
            )
    except IntegrityError:  # another process checkpointed the same head meanwhile
        return CheckpointResult(AuditCheckpoint.objects.get(sequence=signed.sequence), created=False)
    logger.info("Audit checkpoint at entry %s signed with key %s", row.sequence, row.key_id)
    return CheckpointResult(row, created=True, sinks=tuple(str(sink) for sink in sinks))


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries_checked: int
    first_broken_sequence: int | None = None
    problem: str = ""
    checkpoints_checked: int = 0
    latest_checkpoint_sequence: int | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass
class _Checkpoints:
    by_sequence: dict = field(default_factory=dict)  # sequence -> (head_hash, where)
    notes: list = field(default_factory=list)


def _collect_checkpoints(
    *, log_path: Path | None, public_key_files: list[str] | None
) -> tuple[_Checkpoints, ChainReport | None]:
    """Read and check the signatures of every checkpoint, outside the database and in it."""
    found = _Checkpoints()
    db_rows = list(AuditCheckpoint.objects.order_by("sequence"))
    outside: list[tuple[str, signing.SignedCheckpoint | None]] = []
    if log_path is None:
        found.notes.append(
            "no outside checkpoint log to read (AUDIT_CHECKPOINT_LOG): truncation and a rolled-back "
            "head are checked against the database's checkpoints only"
        )
    elif log_path.exists():
        outside = [(f"line {n} of the outside checkpoint log", cp) for n, cp in signing.read_log(log_path)]
    elif db_rows:
        return found, ChainReport(
            False,
            0,
            db_rows[-1].sequence,
            f"the outside checkpoint log {log_path} is missing, "
            f"but the database holds {len(db_rows)} checkpoints",
        )
    if not outside and not db_rows:
        return found, None
    trusted = signing.trusted_keys(public_key_files)
    candidates = outside + [(f"database checkpoint #{row.sequence}", _signed(row)) for row in db_rows]
    for where, checkpoint in candidates:
        if checkpoint is None:
            return found, ChainReport(False, 0, None, f"{where} is not a readable checkpoint")
        problem = signing.signature_problem(checkpoint, trusted)
        if problem:
            return found, ChainReport(
                False, 0, checkpoint.sequence, f"checkpoint #{checkpoint.sequence} ({where}): {problem}"
            )
        known = found.by_sequence.get(checkpoint.sequence)
        if known and known[0] != checkpoint.head_hash:
            return found, ChainReport(
                False,
                0,
                checkpoint.sequence,
                f"two signed checkpoints disagree about entry #{checkpoint.sequence} ({known[1]}; {where})",
            )
        found.by_sequence[checkpoint.sequence] = (checkpoint.head_hash, where)
    return found, None


def verify_chain(
    *, checkpoint_log: Path | str | None = None, public_key_files: list[str] | None = None
) -> ChainReport:
    """Walk the chain in order and check it against the signed checkpoints.

    Reports the first entry that was edited, removed or moved; a checkpointed entry whose hash
    differs from its signed checkpoint (the chain was rewritten and rehashed before it); and a
    head behind the latest checkpoint (entries truncated, or the head rolled back). The
    checkpoints are read first, from the outside log (`AUDIT_CHECKPOINT_LOG` or the first file
    sink, or `checkpoint_log`) and from the database, then the head: entries appended while it
    runs (every chart read appends one) are left for the next run instead of looking like a gap.
    `public_key_files` replaces the configured keys (an auditor's own copy of the public keys).
    """
    log_path = Path(checkpoint_log) if checkpoint_log else outside_log_path()
    found, failure = _collect_checkpoints(log_path=log_path, public_key_files=public_key_files)
    if failure is not None:
        return failure
    latest_signed = max(found.by_sequence, default=None)
    extra = {
        "checkpoints_checked": len(found.by_sequence),
        "latest_checkpoint_sequence": latest_signed,
        "notes": tuple(found.notes),
    }

    head = AuditChainHead.objects.filter(pk=1).first()
    last_sequence = head.last_sequence if head is not None else 0
    if latest_signed is not None and last_sequence < latest_signed:
        where = found.by_sequence[latest_signed][1]
        return ChainReport(
            False,
            0,
            last_sequence + 1,
            f"the chain head is at #{last_sequence} but entry #{latest_signed} was signed ({where}): "
            "entries were truncated or the head was rolled back",
            **extra,
        )
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    entries = AuditEntry.objects.filter(sequence__lte=last_sequence).order_by("sequence")
    for entry in entries.iterator(chunk_size=2000):
        if entry.sequence != expected_sequence:
            return ChainReport(
                False, checked, expected_sequence, f"entry #{expected_sequence} is missing", **extra
            )
        if entry.prev_hash != previous_hash:
            return ChainReport(
                False,
                checked,
                entry.sequence,
                "does not follow the entry before it (moved or reordered)",
                **extra,
            )
        if entry_hash(_link_of(entry)) != entry.entry_hash:
            return ChainReport(
                False, checked, entry.sequence, "its content was changed after writing", **extra
            )
        signed = found.by_sequence.get(entry.sequence)
        if signed is not None and signed[0] != entry.entry_hash:
            return ChainReport(
                False,
                checked,
                entry.sequence,
                f"its hash differs from the signed checkpoint ({signed[1]}): the chain up to it was "
                "rewritten and rehashed",
                **extra,
            )
        previous_hash = entry.entry_hash
        expected_sequence += 1
        checked += 1
    if head is not None and (checked != last_sequence or head.last_hash != previous_hash):
        return ChainReport(
            False,
            checked,
            checked + 1,
            f"entries after #{checked} are missing (head says #{last_sequence})",
            **extra,
        )
    return ChainReport(True, checked, **extra)


def run_chain_verification() -> ChainVerification:
    """Verify the chain and keep today's result; admins see a broken chain on their home page.

    Idempotent per day: a second run the same day replaces that day's result.
    """
    report = verify_chain()
    verification, _ = ChainVerification.objects.update_or_create(
        verified_on=timezone.localdate(),
        defaults={
            "run_at": timezone.now(),
            "ok": report.ok,
            "entries_checked": report.entries_checked,
            "first_broken_sequence": report.first_broken_sequence,
            "problem": report.problem[:255],
            "checkpoints_checked": report.checkpoints_checked,
            "latest_checkpoint_sequence": report.latest_checkpoint_sequence,
            "note": "; ".join(report.notes)[:255],
        },
    )
    if not report.ok:
        logger.error("Audit chain broken at entry %s: %s", report.first_broken_sequence, report.problem)
    return verification
