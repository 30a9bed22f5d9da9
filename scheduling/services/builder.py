"""Apply a schedule-builder week to a patient: join and leave series from a day on, through the
enrolment services (each audited), plus one audit entry for the decision. Choosing other
series than the builder proposed is an override and needs a reason (audited)."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from iop.audit.models import AuditAction
from patients.models import Episode
from patients.services.auditing import audit_patient_change
from scheduling import builder, permissions, selectors
from scheduling.services import enrolments as enrolment_services


@transaction.atomic
def apply_week(
    *, actor, episode: Episode, keys: list[str], starting_on: date, reason: str = ""
) -> builder.Proposal:
    """Make the episode's series from `starting_on` exactly `keys` (series public ids)."""
    permissions.require(permissions.may_enrol(actor), "build patients' schedules")
    inputs = selectors.builder_inputs(episode, starting_on=starting_on)
    proposal = builder.propose(
        need=inputs.need, candidates=inputs.candidates, busy=inputs.busy, current=inputs.current
    )
    unknown = [key for key in keys if key not in inputs.series]
    if unknown:
        raise ValidationError({"series": "Choose series that run at the patient's site."})
    chosen = set(keys)
    reason = (reason or "").strip()
    override = chosen != set(proposal.keys)
    if override and not reason:
        raise ValidationError(
            {"reason": "These are not the series the builder proposed: say why (it is recorded)."}
        )
    by_key = {c.key: c for c in inputs.candidates}
    if builder.has_conflict([by_key[key] for key in chosen], inputs.busy) and not reason:
        raise ValidationError({"reason": "This week has a conflict: say why it is accepted anyway."})
    for key in sorted(inputs.current - chosen):
        enrolment = inputs.enrolments[key]
        left_on = max(enrolment.joined_on, starting_on - timedelta(days=1))
        enrolment_services.leave(actor=actor, enrolment=enrolment, left_on=left_on, reason="Schedule builder")
    for key in sorted(chosen - inputs.current):
        enrolment_services.enrol(
            actor=actor,
            series=inputs.series[key],
            episode=episode,
            joined_on=starting_on,
            phase_override_reason=reason,
        )
    audit_patient_change(
        actor,
        AuditAction.UPDATE,
        episode,
        episode.patient,
        changed_fields=["enrolments"],
        reason=f"Schedule builder override: {reason}" if override else "Schedule builder proposal accepted",
    )
    return proposal
