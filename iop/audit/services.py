"""Writes to the audit trail. Call `record_event` inside the transaction of the change."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from iop.audit.chain import GENESIS_HASH, ChainLink, entry_hash
from iop.audit.context import current_ip_address
from iop.audit.models import AuditAction, AuditChainHead, AuditEntry, ChainVerification

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


@transaction.atomic
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
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_HASH}
    )
    entry = AuditEntry(
        sequence=head.last_sequence + 1,
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "system",
        action=str(action),
        object_type=object_type,
        object_id=str(object_id or ""),
        patient_public_id=patient_public_id,
        ip_address=current_ip_address.get(),
        reason=reason,
        changed_fields=sorted(changed_fields),
        prev_hash=head.last_hash,
    )
    entry.entry_hash = entry_hash(_link_of(entry))
    entry.save()
    AuditChainHead.objects.filter(pk=1).update(last_sequence=entry.sequence, last_hash=entry.entry_hash)
    return entry


@transaction.atomic
def record_events(*, actor, action: AuditAction | str, events: list[dict]) -> list[AuditEntry]:
    """Append several entries at once (one lock, one insert): e.g. one read per patient on an
    API list page. Each event: object_type, object_id, patient_public_id, reason (optional)."""
    if not events:
        return []
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_HASH}
    )
    now = timezone.now()
    sequence, previous_hash = head.last_sequence, head.last_hash
    entries = []
    for event in events:
        sequence += 1
        entry = AuditEntry(
            sequence=sequence,
            occurred_at=now,
            actor=actor if actor is not None and actor.pk else None,
            actor_username=getattr(actor, "username", "") or "system",
            action=str(action),
            object_type=event["object_type"],
            object_id=str(event.get("object_id") or ""),
            patient_public_id=event.get("patient_public_id"),
            ip_address=current_ip_address.get(),
            reason=event.get("reason", ""),
            changed_fields=sorted(event.get("changed_fields", ())),
            prev_hash=previous_hash,
        )
        entry.entry_hash = entry_hash(_link_of(entry))
        previous_hash = entry.entry_hash
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries)
    AuditChainHead.objects.filter(pk=1).update(last_sequence=sequence, last_hash=previous_hash)
    return entries


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries_checked: int
    first_broken_sequence: int | None = None
    problem: str = ""


def verify_chain() -> ChainReport:
    """Walk the chain in order; report the first entry that was edited, removed or moved.

    Verifies up to the head as read at the start, so entries appended while it runs (every
    chart read appends one) are left for the next run instead of looking like a gap.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    last_sequence = head.last_sequence if head is not None else 0
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    entries = AuditEntry.objects.filter(sequence__lte=last_sequence).order_by("sequence")
    for entry in entries.iterator(chunk_size=2000):
        if entry.sequence != expected_sequence:
            return ChainReport(False, checked, expected_sequence, f"entry #{expected_sequence} is missing")
        if entry.prev_hash != previous_hash:
            return ChainReport(
                False, checked, entry.sequence, "does not follow the entry before it (moved or reordered)"
            )
        if entry_hash(_link_of(entry)) != entry.entry_hash:
            return ChainReport(False, checked, entry.sequence, "its content was changed after writing")
        previous_hash = entry.entry_hash
        expected_sequence += 1
        checked += 1
    if head is not None and (checked != last_sequence or head.last_hash != previous_hash):
        return ChainReport(
            False, checked, checked + 1, f"entries after #{checked} are missing (head says #{last_sequence})"
        )
    return ChainReport(True, checked)


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
            "problem": report.problem,
        },
    )
    if not report.ok:
        logger.error("Audit chain broken at entry %s: %s", report.first_broken_sequence, report.problem)
    return verification
