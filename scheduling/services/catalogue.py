"""Rooms and session types: kept by admins (rooms at their own sites)."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from iop.accounts.models import Site
from iop.audit.models import AuditAction
from iop.core.concurrency import save_if_unchanged
from scheduling import permissions
from scheduling.models import Room, SessionKind, SessionType
from scheduling.models.catalogue import MAX_SESSION_MINUTES
from scheduling.services.auditing import audit_change

ROOM_FIELDS = ("name", "capacity", "is_active")
SESSION_TYPE_FIELDS = ("name", "kind", "default_minutes", "counts_toward_clinical_hours", "is_active")


def _require_admin_at(actor, site: Site) -> None:
    permissions.require(permissions.may_manage_catalogue(actor), "manage rooms and session types")
    if not permissions.works_at(actor, site.pk):
        raise PermissionError("You may not manage rooms at a site where you do not work.")


def _validate_room(values: Mapping) -> None:
    errors = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = "Give the room a name."
    capacity = values.get("capacity")
    if not isinstance(capacity, int) or not 1 <= capacity <= 500:
        errors["capacity"] = "Capacity is a number of seats from 1 to 500."
    if errors:
        raise ValidationError(errors)


def _save(instance, *, fields=None, expected_version=None, duplicate_field: str, message: str) -> None:
    try:
        with transaction.atomic():
            if fields is None:
                instance.save()
            else:
                save_if_unchanged(instance, expected_version=expected_version, fields=fields)
    except IntegrityError as error:
        raise ValidationError({duplicate_field: message}) from error


@transaction.atomic
def create_room(*, actor, site: Site, name: str, capacity: int) -> Room:
    _require_admin_at(actor, site)
    _validate_room({"name": name, "capacity": capacity})
    room = Room(site=site, name=name.strip(), capacity=capacity)
    _save(room, duplicate_field="name", message="This site already has a room with that name.")
    audit_change(actor, AuditAction.CREATE, room, changed_fields=ROOM_FIELDS)
    return room


@transaction.atomic
def update_room(*, actor, room: Room, expected_version: int | None, changes: Mapping[str, object]) -> Room:
    _require_admin_at(actor, room.site)
    unknown = set(changes) - set(ROOM_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    values = {name: changes.get(name, getattr(room, name)) for name in ROOM_FIELDS}
    _validate_room(values)
    values["name"] = str(values["name"]).strip()
    largest = (
        room.series.filter(is_active=True).order_by("-capacity").values_list("capacity", flat=True).first()
    )
    if largest and values["capacity"] < largest:
        raise ValidationError(
            {"capacity": f"A series in this room takes {largest} people: lower its capacity first."}
        )
    changed = [name for name in ROOM_FIELDS if getattr(room, name) != values[name]]
    for name in changed:
        setattr(room, name, values[name])
    if changed:
        _save(
            room,
            fields=changed,
            expected_version=expected_version,
            duplicate_field="name",
            message="This site already has a room with that name.",
        )
        audit_change(actor, AuditAction.UPDATE, room, changed_fields=changed)
    return room


def _validate_session_type(values: Mapping) -> None:
    errors = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = "Give the session type a name."
    if values.get("kind") not in SessionKind.values:
        errors["kind"] = f"Choose one of {', '.join(SessionKind.values)}."
    minutes = values.get("default_minutes")
    if not isinstance(minutes, int) or not 5 <= minutes <= MAX_SESSION_MINUTES:
        errors["default_minutes"] = f"A session lasts 5 to {MAX_SESSION_MINUTES} minutes."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_session_type(
    *, actor, name: str, kind: str, default_minutes: int, counts_toward_clinical_hours: bool = True
) -> SessionType:
    permissions.require(permissions.may_manage_catalogue(actor), "manage session types")
    values = {"name": name, "kind": kind, "default_minutes": default_minutes}
    _validate_session_type(values)
    session_type = SessionType(
        name=name.strip(),
        kind=kind,
        default_minutes=default_minutes,
        counts_toward_clinical_hours=counts_toward_clinical_hours,
    )
    _save(session_type, duplicate_field="name", message="A session type with that name exists.")
    audit_change(actor, AuditAction.CREATE, session_type, changed_fields=SESSION_TYPE_FIELDS)
    return session_type


@transaction.atomic
def update_session_type(
    *, actor, session_type: SessionType, expected_version: int | None, changes: Mapping[str, object]
) -> SessionType:
    permissions.require(permissions.may_manage_catalogue(actor), "manage session types")
    unknown = set(changes) - set(SESSION_TYPE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    values = {name: changes.get(name, getattr(session_type, name)) for name in SESSION_TYPE_FIELDS}
    _validate_session_type(values)
    values["name"] = str(values["name"]).strip()
    if values["kind"] != session_type.kind and (
        session_type.series.exists() or session_type.appointments.exists()
    ):
        raise ValidationError({"kind": "Sessions of this type exist: its kind can no longer change."})
    changed = [name for name in SESSION_TYPE_FIELDS if getattr(session_type, name) != values[name]]
    for name in changed:
        setattr(session_type, name, values[name])
    if changed:
        _save(
            session_type,
            fields=changed,
            expected_version=expected_version,
            duplicate_field="name",
            message="A session type with that name exists.",
        )
        audit_change(actor, AuditAction.UPDATE, session_type, changed_fields=changed)
    return session_type
