"""Audit entries for scheduling writes that touch no single patient (rooms, series, occurrences)."""

from collections.abc import Iterable

from iop.audit.models import AuditAction
from iop.audit.services import record_event


def audit_change(
    actor, action: AuditAction | str, obj, *, changed_fields: Iterable[str] = (), reason: str = ""
):
    record_event(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.public_id,
        changed_fields=changed_fields,
        reason=reason,
    )
