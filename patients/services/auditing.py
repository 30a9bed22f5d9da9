"""The audit entry every patient-data write makes (inside the write's transaction)."""

from collections.abc import Iterable

from iop.audit.models import AuditAction
from iop.audit.services import record_event


def audit_patient_change(
    actor, action: AuditAction | str, obj, patient, *, changed_fields: Iterable[str] = (), reason: str = ""
) -> None:
    """Record that `actor` did `action` to `obj` (a model with a public_id) in `patient`'s chart."""
    record_event(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.public_id,
        patient_public_id=patient.public_id,
        changed_fields=changed_fields,
        reason=reason,
    )
