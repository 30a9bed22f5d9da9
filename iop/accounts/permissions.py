"""Role rules: what each role may do. Which *patients* they see is `patients.access`."""

from iop.accounts.models import Role

BREAK_GLASS_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL})


def may_manage_clinic(user) -> bool:
    """Sites, staff and the access log are for admins (and superusers)."""
    return user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN)


def may_break_glass(user) -> bool:
    return user.is_authenticated and user.role in BREAK_GLASS_ROLES


def may_see_audit_history(user) -> bool:
    return may_manage_clinic(user)


PATIENT_WRITER_ROLES = frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN})


def may_register_patients(user) -> bool:
    """Intake staff and admins register and edit patient demographics; peer support does not."""
    return user.is_authenticated and (user.is_superuser or user.role in PATIENT_WRITER_ROLES)


def require_role(actor, roles, what: str) -> None:
    """Refuse (PermissionError, shown on the form or as a 403) unless `actor` has one of `roles`."""
    if not (actor.is_superuser or actor.role in roles):
        raise PermissionError(f"Your role may not {what}.")


ADMITTING_ROLES = frozenset({Role.CLINICIAN, Role.ADMIN})


def may_admit(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in ADMITTING_ROLES)
