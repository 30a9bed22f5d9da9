"""Read queries over the audit trail."""

from django.db.models import QuerySet

from iop.audit.models import AuditEntry, ChainVerification


def audit_history_of_patient(patient_public_id) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(patient_public_id=patient_public_id).select_related("actor")


def latest_chain_verification() -> ChainVerification | None:
    return ChainVerification.objects.first()
