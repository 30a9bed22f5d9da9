"""Role rules for scheduling. Which *patients* a user reaches is `patients.access`; this module
adds who may run the clinic's timetable and one reach of its own (ADR 0010): a group's
facilitator takes attendance for everyone enrolled in the occurrence they facilitate, care team
or not (they run the room), and reads that roster (names and attendance, not charts).
"""

from iop.accounts.models import Role
from patients.access import may_write_clinical

CATALOGUE_ROLES = frozenset({Role.ADMIN})  # rooms and session types
SERIES_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})  # series, occurrences
FACILITATOR_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL})
ENROLMENT_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN, Role.CASE_MANAGER})
ATTENDANCE_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN, Role.MEDICAL})
SCHEDULE_READERS = frozenset({Role.ADMIN, Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.PEER_SUPPORT})


def _has_role(user, roles) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in roles))


def works_at(user, site_id: int) -> bool:
    return user.is_superuser or user.sites.filter(pk=site_id).exists()


def may_manage_catalogue(user) -> bool:
    return _has_role(user, CATALOGUE_ROLES)


def may_manage_series(user) -> bool:
    return _has_role(user, SERIES_ROLES)


def may_enrol(user) -> bool:
    return _has_role(user, ENROLMENT_ROLES)


def may_take_attendance(user) -> bool:
    return _has_role(user, ATTENDANCE_ROLES)


def may_read_schedules(user) -> bool:
    return _has_role(user, SCHEDULE_READERS)


def sees_whole_roster(user, occurrence) -> bool:
    """The facilitator of the occurrence, and whole-site roles at its site, see every name on it;
    both only while they work at that site (a facilitator moved elsewhere keeps no reach)."""
    if user.is_superuser:
        return True
    if not (occurrence.facilitator_id == user.pk or user.sees_whole_site):
        return False
    return works_at(user, occurrence.series.site_id)


def may_change_facilitator(user, *, current_facilitator_id: int | None, new_facilitator_id: int) -> bool:
    """Naming a facilitator gives them the whole roster (above), so nobody names themselves to
    read a group: an admin or a whole-site role at the site decides, or the current facilitator
    hands their group over to someone else."""
    if user.is_superuser or user.role == Role.ADMIN or user.sees_whole_site:
        return True
    return current_facilitator_id == user.pk and new_facilitator_id != user.pk


def may_record_attendance_for(user, occurrence, patient) -> bool:
    """Attendance of `patient` at `occurrence`: the facilitator or a whole-site role at the site
    (they run the room), or anyone with a clinical write on the patient (their care team)."""
    if not may_take_attendance(user):
        return False
    if sees_whole_roster(user, occurrence):
        return True
    return may_write_clinical(user, patient, allow_break_glass=False)


def require(predicate: bool, what: str) -> None:
    if not predicate:
        raise PermissionError(f"You may not {what}.")
