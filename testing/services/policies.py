"""Business events: an admin sets a phase's testing policy (after previewing it)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from iop.accounts.models import Site
from iop.accounts.permissions import may_manage_clinic
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from patients.models import Phase
from testing import draw_rule
from testing.draw_simulation import Preview, preview, simulate
from testing.models import Consequence, Panel, SpecimenType, TestingPolicy

POLICY_FIELDS = (
    "ramp",
    "panel",
    "specimen_type",
    "include_etg",
    "observed_collection",
    "refusal_counts_as",
    "no_show_counts_as",
    "check_in_by",
)
PREVIEW_PATIENTS, PREVIEW_WEEKS, PREVIEW_SEED = 200, 26, 20260101


def eligible_days_in_use() -> list[int]:
    """The distinct numbers of operating days a week among active sites (usually one)."""
    return sorted({len(site.operating_days) for site in Site.objects.filter(is_active=True)}) or [5]


def problems_for(phase: Phase, ramp: int) -> list[str]:
    problems = []
    for eligible in eligible_days_in_use():
        try:
            draw_rule.check_policy(
                tests_per_week=float(phase.tests_per_week),
                eligible_days_per_week=eligible,
                max_gap=phase.max_days_untested,
                ramp=ramp,
            )
        except draw_rule.PolicyError as error:
            problems.append(str(error))
    return problems


def preview_policy(phase: Phase, ramp: int) -> list[tuple[int, Preview, str]]:
    """The real rule over a synthetic half year, for each eligible-days count in use:
    (eligible days per week, summary, weekday warning). Raises PolicyError when impossible."""
    results = []
    for eligible in eligible_days_in_use():
        simulation = simulate(
            tests_per_week=float(phase.tests_per_week),
            eligible_days_per_week=eligible,
            max_gap=phase.max_days_untested,
            ramp=ramp,
            patients=PREVIEW_PATIENTS,
            weeks=PREVIEW_WEEKS,
            seed=PREVIEW_SEED,
        )
        warning = draw_rule.weekday_lock_warning(
            eligible_days_per_week=eligible, max_gap=phase.max_days_untested, ramp=ramp
        )
        results.append((eligible, preview(simulation, eligible_days_per_week=eligible), warning))
    return results


@transaction.atomic
def save_policy(*, actor, phase: Phase, values: dict) -> TestingPolicy:
    if not may_manage_clinic(actor):
        raise PermissionError("Only admins set testing policies.")
    errors = {}
    ramp = values.get("ramp")
    if not isinstance(ramp, int) or ramp < 1 or ramp > phase.max_days_untested:
        errors["ramp"] = f"Between 1 and the phase's maximum of {phase.max_days_untested} days untested."
    elif problems := problems_for(phase, ramp):
        errors["ramp"] = " ".join(problems)
    if not isinstance(values.get("panel"), Panel):
        errors["panel"] = "Choose a panel."
    if values.get("specimen_type") not in SpecimenType.values:
        errors["specimen_type"] = "Choose a specimen type."
    for name in ("refusal_counts_as", "no_show_counts_as"):
        if values.get(name) not in Consequence.values:
            errors[name] = "Choose how it counts."
    if errors:
        raise ValidationError(errors)
    policy = TestingPolicy.objects.select_for_update().filter(phase=phase).first()
    created = policy is None
    if created:
        policy = TestingPolicy(phase=phase)
    changed = [name for name in POLICY_FIELDS if getattr(policy, name, None) != values.get(name)]
    for name in POLICY_FIELDS:
        setattr(policy, name, values.get(name))
    if not created:
        policy.version += 1
    policy.save()
    record_event(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="testing.testingpolicy",
        object_id=policy.public_id,
        changed_fields=changed,
        reason=(
            f"rate {Decimal(phase.tests_per_week)}/week, max {phase.max_days_untested} days, "
            f"ramp {policy.ramp}"
        ),
    )
    return policy
