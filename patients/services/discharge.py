"""Discharge: the end of an episode of care, with its TEDS-D reason (CLINICAL.md section 6).

The episode lives here; what is written about it (continuing-care plan, discharge summary) is
the treatment plan's (`treatment_plans.services.discharge_patient` calls this inside its own
transaction). Clinicians who may write the patient's record discharge (never through
break-the-glass). The care team stays on the episode, so the team that treated the patient
keeps seeing the chart; the patient comes back through a new referral and a new episode.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from iop.accounts.models import Role
from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from iop.core.concurrency import save_if_unchanged
from patients.access import require_clinical_write
from patients.models import DischargeReason, Episode, EpisodeStatus
from patients.services.auditing import audit_patient_change

DISCHARGING_ROLES = frozenset({Role.CLINICIAN})


def may_discharge(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in DISCHARGING_ROLES)


@transaction.atomic
def discharge_episode(*, actor, episode: Episode, discharged_on: date, reason: str) -> Episode:
    """Close an active episode on `discharged_on` for a TEDS-D `reason` (compare-and-set: once)."""
    require_role(actor, DISCHARGING_ROLES, "discharge patients")
    episode = Episode.objects.select_for_update().select_related("patient").get(pk=episode.pk)
    require_clinical_write(actor, episode.patient, allow_break_glass=False, what="discharge a patient")
    errors = {}
    if episode.status != EpisodeStatus.ACTIVE:
        raise ValidationError("This episode has already ended.")
    if reason not in DischargeReason.values:
        errors["reason"] = "Choose a discharge reason."
    if discharged_on is None or discharged_on > timezone.localdate():
        errors["discharged_on"] = "The discharge date cannot be in the future."
    elif discharged_on < episode.admitted_on:
        errors["discharged_on"] = "The discharge date cannot be before the admission."
    if errors:
        raise ValidationError(errors)
    episode.status = EpisodeStatus.DISCHARGED
    episode.discharged_on = discharged_on
    episode.discharge_reason = reason
    save_if_unchanged(episode, expected_version=None, fields=["status", "discharged_on", "discharge_reason"])
    audit_patient_change(
        actor,
        AuditAction.UPDATE,
        episode,
        episode.patient,
        changed_fields=["status", "discharged_on", "discharge_reason"],
    )
    return episode
