"""Programs and their phases are configuration (CLINICAL.md section 1): admins edit them in pages.

Programs are organisation-wide (every site admits to them), so any admin edits them. Phases are
added and changed, never deleted (episodes point at them). Audited without patient data.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from iop.accounts.permissions import may_manage_clinic
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from iop.core.concurrency import save_if_unchanged
from patients.models import Phase, Program

PROGRAM_FIELDS = ("name", "level_of_care", "description", "is_active")
PHASE_FIELDS = (
    "order",
    "name",
    "description",
    "min_weeks",
    "sessions_per_week",
    "min_hours_per_week",
    "tests_per_week",
    "max_days_untested",
    "attendance_threshold_percent",
    "advancement_criteria",
)


def require_program_admin(actor) -> None:
    if not may_manage_clinic(actor):
        raise PermissionError("Only admins manage programs and their phases.")


def _audit(actor, action, obj, changed_fields) -> None:
    record_event(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.public_id,
        changed_fields=changed_fields,
    )


def _check_program(fields: dict, program: Program | None = None) -> None:
    name = (fields.get("name") or "").strip()
    if "name" in fields and not name:
        raise ValidationError({"name": "Name the program."})
    others = Program.objects.filter(name__iexact=name)
    if program is not None:
        others = others.exclude(pk=program.pk)
    if name and others.exists():
        raise ValidationError({"name": "Another program has that name."})


@transaction.atomic
def create_program(*, actor, **fields) -> Program:
    require_program_admin(actor)
    _check_program(fields)
    program = Program.objects.create(**{name: fields[name] for name in PROGRAM_FIELDS if name in fields})
    _audit(actor, AuditAction.CREATE, program, [name for name in PROGRAM_FIELDS if name in fields])
    return program


@transaction.atomic
def update_program(*, actor, program: Program, expected_version: int | None, changes: dict) -> Program:
    require_program_admin(actor)
    _check_program(changes, program)
    changed = [name for name in PROGRAM_FIELDS if name in changes and getattr(program, name) != changes[name]]
    for name in changed:
        setattr(program, name, changes[name])
    save_if_unchanged(program, expected_version=expected_version, fields=changed)
    if changed:
        _audit(actor, AuditAction.UPDATE, program, changed)
    return program


def _check_phase(program: Program, fields: dict, phase: Phase | None) -> None:
    errors = {}
    if not (fields.get("name") or "").strip():
        errors["name"] = "Name the phase."
    if fields.get("order") is not None:
        clash = Phase.objects.filter(program=program, order=fields["order"])
        if phase is not None:
            clash = clash.exclude(pk=phase.pk)
        if clash.exists():
            errors["order"] = "Another phase of this program has that place; choose another number."
    if not 0 <= int(fields.get("attendance_threshold_percent") or 0) <= 100:
        errors["attendance_threshold_percent"] = "A percentage, 0 to 100."
    if Decimal(str(fields.get("min_hours_per_week") or 0)) < 0:
        errors["min_hours_per_week"] = "Hours cannot be negative."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_phase(*, actor, program: Program, fields: dict, phase: Phase | None = None) -> Phase:
    """Add a phase to `program`, or change `phase` (one of its phases)."""
    require_program_admin(actor)
    program = Program.objects.select_for_update().get(pk=program.pk)
    if phase is not None and phase.program_id != program.pk:
        raise ValidationError("That phase belongs to another program.")
    _check_phase(program, fields, phase)
    values = {name: fields[name] for name in PHASE_FIELDS if name in fields}
    if phase is None:
        phase = Phase.objects.create(program=program, **values)
        _audit(actor, AuditAction.CREATE, phase, sorted(values))
        return phase
    changed = [name for name, value in values.items() if getattr(phase, name) != value]
    for name in changed:
        setattr(phase, name, values[name])
    if changed:
        phase.save(update_fields=[*changed, "updated_at"])
        _audit(actor, AuditAction.UPDATE, phase, changed)
    return phase
