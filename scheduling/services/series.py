"""Group series and their occurrences: create and change a series, generate occurrences ahead
(idempotent), cancel, move or reassign one occurrence (only that one)."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from iop.accounts.models import Site, User
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from iop.core.concurrency import save_if_unchanged
from scheduling import conflicts, hours, permissions, recurrence
from scheduling.models import (
    Attendance,
    GroupSeries,
    Occurrence,
    OccurrenceStatus,
    Room,
    SessionKind,
    SessionType,
    TopicCycle,
)
from scheduling.services.auditing import audit_change

DEFAULT_AHEAD_WEEKS = 8
SERIES_FIELDS = (
    "name",
    "session_type",
    "room",
    "facilitator",
    "capacity",
    "recurrence_rule",
    "start_time",
    "duration_minutes",
    "starts_on",
    "ends_on",
    "topic_cycle",
)
# What an edit may change. The rule, its time and first day make the occurrences' natural keys:
# to change them, end the series and start a new one (ADR 0010).
EDITABLE_SERIES_FIELDS = ("name", "room", "facilitator", "capacity", "ends_on", "topic_cycle", "is_active")


def _require_series_writer(actor, site: Site, what: str) -> None:
    permissions.require(permissions.may_manage_series(actor), what)
    if not permissions.works_at(actor, site.pk):
        raise PermissionError(f"You may not {what} at a site where you do not work.")


def _validate_series(series: GroupSeries, *, exclude_pk: int | None = None) -> None:
    errors: dict[str, str] = {}
    if series.session_type.kind != SessionKind.GROUP:
        errors["session_type"] = (
            "A group series needs a group session type (appointments are for the others)."
        )
    if series.room.site_id != series.site_id:
        errors["room"] = "Choose a room at the series' site."
    elif not series.room.is_active:
        errors["room"] = "This room is no longer in use."
    elif series.capacity and series.capacity > series.room.capacity:
        errors["capacity"] = (
            f"{series.room.name} seats {series.room.capacity}: lower the capacity or choose a larger room."
        )
    if series.capacity is None or series.capacity < 1:
        errors["capacity"] = "Capacity is at least 1."
    facilitator = series.facilitator
    if facilitator.role not in permissions.FACILITATOR_ROLES or not facilitator.is_active:
        errors["facilitator"] = "The facilitator must be an active clinician or medical staff member."
    elif not facilitator.sites.filter(pk=series.site_id).exists():
        errors["facilitator"] = "The facilitator does not work at this site."
    if not (series.name or "").strip():
        errors["name"] = "Give the series a name."
    elif (
        GroupSeries.objects.filter(site_id=series.site_id, name=series.name.strip())
        .exclude(pk=exclude_pk)
        .exists()
    ):
        errors["name"] = "Another series at this site has that name."
    if not all(hours.FIRST_DAY <= day <= hours.LAST_DAY for day in (series.starts_on, series.ends_on) if day):
        errors["starts_on"] = hours.OUT_OF_RANGE
        raise ValidationError(errors)
    try:
        recurrence.validate(
            series.recurrence_rule,
            start_time=series.start_time,
            duration_minutes=series.duration_minutes or 0,
            starts_on=series.starts_on,
            ends_on=series.ends_on,
            tz=series.site.timezone,
        )
    except recurrence.RecurrenceError as error:
        errors.setdefault(error.field, str(error))
    if errors:
        raise ValidationError(errors)
    clash = conflicts.series_room_clash(series, exclude_series_id=exclude_pk)
    if clash is not None:
        raise ValidationError(
            {"room": f"{series.room.name} is already used then by {clash}. Choose another room or time."}
        )


@transaction.atomic
def create_series(
    *,
    actor,
    site: Site,
    name: str,
    session_type: SessionType,
    room: Room,
    facilitator: User,
    capacity: int,
    recurrence_rule: str,
    start_time: time,
    duration_minutes: int,
    starts_on: date,
    ends_on: date | None = None,
    phases: Iterable = (),
    topic_cycle: TopicCycle | None = None,
    generate: bool = True,
) -> GroupSeries:
    """A new recurring group; refuses a room already used then, a capacity above the room's, a
    rule that never occurs. Generates its first weeks of occurrences (`generate`)."""
    _require_series_writer(actor, site, "create group series")
    Room.objects.select_for_update().filter(pk=room.pk).first()  # one writer per room at a time
    series = GroupSeries(
        site=site,
        name=(name or "").strip(),
        session_type=session_type,
        room=room,
        facilitator=facilitator,
        capacity=capacity,
        recurrence_rule=(recurrence_rule or "").strip().removeprefix("RRULE:"),
        start_time=start_time,
        duration_minutes=duration_minutes,
        starts_on=starts_on,
        ends_on=ends_on,
        topic_cycle=topic_cycle,
    )
    _validate_series(series)
    series.save()
    series.phases.set(list(phases))
    audit_change(actor, AuditAction.CREATE, series, changed_fields=[*SERIES_FIELDS, "phases"])
    if generate:
        today = timezone.localdate(timezone=site.timezone)
        generate_for_series(series, first=today, last=today + timedelta(weeks=DEFAULT_AHEAD_WEEKS))
    return series


@transaction.atomic
def update_series(
    *, actor, series: GroupSeries, expected_version: int | None, changes: Mapping[str, object], phases=None
) -> GroupSeries:
    """Change a series from today on: a new room or facilitator moves the occurrences still to
    come that had the old one (one-off changes stay); an earlier last day cancels the occurrences
    after it that have no attendance. Past occurrences are never touched."""
    _require_series_writer(actor, series.site, "change group series")
    unknown = set(changes) - set(EDITABLE_SERIES_FIELDS)
    if unknown:
        raise ValidationError(
            {name: "This cannot be changed: end the series and start a new one." for name in sorted(unknown)}
        )
    series = (
        GroupSeries.objects.select_for_update()
        .select_related("site", "room", "facilitator", "session_type")
        .get(pk=series.pk)
    )
    old = {name: getattr(series, name) for name in EDITABLE_SERIES_FIELDS}
    for name, value in changes.items():
        setattr(series, name, value.strip() if isinstance(value, str) else value)
    changed = [name for name in EDITABLE_SERIES_FIELDS if getattr(series, name) != old[name]]
    if "facilitator" in changed:
        permissions.require(
            permissions.may_change_facilitator(
                actor, current_facilitator_id=old["facilitator"].pk, new_facilitator_id=series.facilitator.pk
            ),
            "change who facilitates this group (an admin or a clinical supervisor does, or the "
            "facilitator hands it over)",
        )
    if changed:
        _validate_series(series, exclude_pk=series.pk)
        save_if_unchanged(series, expected_version=expected_version, fields=changed)
    now = timezone.now()
    upcoming = Occurrence.objects.filter(series=series, starts_at__gte=now)
    if "room" in changed:
        upcoming.filter(room=old["room"]).update(room=series.room, updated_at=now)
    if "facilitator" in changed:
        upcoming.filter(facilitator=old["facilitator"]).update(facilitator=series.facilitator, updated_at=now)
    if ("ends_on" in changed and series.ends_on is not None) or (
        "is_active" in changed and not series.is_active
    ):
        cut = (
            series.ends_on
            if series.is_active
            else timezone.localdate(timezone=series.site.timezone) - timedelta(days=1)
        )
        upcoming.filter(local_date__gt=cut, status=OccurrenceStatus.SCHEDULED).exclude(
            pk__in=Attendance.objects.filter(occurrence__series=series).values("occurrence_id")
        ).update(status=OccurrenceStatus.CANCELLED, change_reason="The series ended.", updated_at=now)
    if phases is not None:
        before = set(series.phases.values_list("pk", flat=True))
        after = {phase.pk for phase in phases}
        if before != after:
            series.phases.set(list(phases))
            changed.append("phases")
    if changed:
        audit_change(actor, AuditAction.UPDATE, series, changed_fields=changed)
    return series


def _slot_ordinals(series: GroupSeries, first: date) -> int:
    """How many occurrences the rule makes before `first` (the topic cycle counts from them)."""
    if first <= series.starts_on:
        return 0
    return sum(1 for _ in conflicts._series_slots(series, series.starts_on, first - timedelta(days=1)))


def generate_for_series(series: GroupSeries, *, first: date, last: date) -> int:
    """Insert the series' missing occurrences with a local date in [first, last] (no audit: the
    callers record it, e.g. `generate_occurrences` or the demo's one seeding event)."""
    first = max(first, series.starts_on)
    slots = list(conflicts._series_slots(series, first, last))
    if not slots:
        return 0
    cycle_length = series.topic_cycle.topics.count() if series.topic_cycle_id else 0
    offset = _slot_ordinals(series, first) if cycle_length else 0
    existing = set(
        Occurrence.objects.filter(
            series=series, original_start__in=[s.original_start for s in slots]
        ).values_list("original_start", flat=True)
    )
    new = [
        Occurrence(
            series=series,
            original_start=slot.original_start,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            local_date=slot.local_date,
            room_id=series.room_id,
            facilitator_id=series.facilitator_id,
            topic_index=(offset + index) % cycle_length if cycle_length else None,
        )
        for index, slot in enumerate(slots)
        if slot.original_start not in existing
    ]
    # ON CONFLICT DO NOTHING: a second run, or two workers at once, insert nothing twice.
    Occurrence.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def generate_occurrences(
    *, series: GroupSeries | None = None, ahead_weeks: int = DEFAULT_AHEAD_WEEKS, since: date | None = None
) -> int:
    """Make the occurrences of every active series (or one) from today to `ahead_weeks` ahead,
    in each site's time zone. Idempotent: rows exist once per (series, original start); moved,
    cancelled or reassigned occurrences are left as they are. Returns how many were new.
    `since` (a past day) also makes the ones from then on: back-filled history (the demo)."""
    queryset = GroupSeries.objects.filter(is_active=True).select_related("site", "topic_cycle")
    if series is not None:
        queryset = queryset.filter(pk=series.pk)
    created = 0
    for each in queryset:
        today = timezone.localdate(timezone=each.site.timezone)
        made = generate_for_series(
            each, first=min(since or today, today), last=today + timedelta(weeks=ahead_weeks)
        )
        if made:
            record_event(
                actor=None,
                action=AuditAction.CREATE,
                object_type="scheduling.occurrence",
                object_id=each.public_id,
                reason=f"Generated {made} occurrences of the series",
            )
        created += made
    return created


def _announce(occurrence: Occurrence) -> None:
    """After the commit, tell the enrolled patients (scheduling.tasks, one notice per version)."""

    def enqueue():
        from scheduling.tasks import notify_occurrence_change_task

        notify_occurrence_change_task.delay(occurrence.pk)

    transaction.on_commit(enqueue)


def _lock_occurrence(actor, occurrence: Occurrence, what: str) -> Occurrence:
    occurrence = (
        Occurrence.objects.select_for_update(of=("self",))
        .select_related("series__site", "room", "facilitator")
        .get(pk=occurrence.pk)
    )
    _require_series_writer(actor, occurrence.series.site, what)
    return occurrence


@transaction.atomic
def cancel_occurrence(
    *, actor, occurrence: Occurrence, expected_version: int | None, reason: str
) -> Occurrence:
    """Cancel one occurrence (the rest of the series stays)."""
    occurrence = _lock_occurrence(actor, occurrence, "cancel sessions")
    if occurrence.is_cancelled:
        raise ValidationError("This session is already cancelled.")
    if occurrence.attendance.exists():
        raise ValidationError(
            "Attendance is recorded for this session: it took place and cannot be cancelled."
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the session is cancelled (patients are told)."})
    occurrence.status = OccurrenceStatus.CANCELLED
    occurrence.change_reason = reason.strip()[:200]
    save_if_unchanged(occurrence, expected_version=expected_version, fields=["status", "change_reason"])
    audit_change(actor, AuditAction.UPDATE, occurrence, changed_fields=["status", "change_reason"])
    _announce(occurrence)
    return occurrence


@transaction.atomic
def change_occurrence(
    *,
    actor,
    occurrence: Occurrence,
    expected_version: int | None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    room: Room | None = None,
    facilitator: User | None = None,
    reason: str = "",
) -> Occurrence:
    """Move one occurrence (time and/or room) or give it another facilitator; refuses a room or
    person busy then. Its natural key (`original_start`) stays, so regeneration never re-adds it."""
    occurrence = _lock_occurrence(actor, occurrence, "change sessions")
    if occurrence.is_cancelled:
        raise ValidationError("This session is cancelled.")
    new_start = starts_at or occurrence.starts_at
    if not all(
        hours.FIRST_DAY <= moment.date() <= hours.LAST_DAY for moment in (new_start, ends_at or new_start)
    ):
        raise ValidationError({"starts_at": hours.OUT_OF_RANGE})
    if ends_at is None:
        ends_at = new_start + (occurrence.ends_at - occurrence.starts_at)
    errors = {}
    if timezone.is_naive(new_start) or timezone.is_naive(ends_at):
        errors["starts_at"] = "Give times with a time zone."
    elif ends_at <= new_start:
        errors["ends_at"] = "The session must end after it starts."
    site = occurrence.series.site
    if room is not None and (room.site_id != site.pk or not room.is_active):
        errors["room"] = "Choose an active room at the series' site."
    if facilitator is not None and (
        facilitator.role not in permissions.FACILITATOR_ROLES
        or not facilitator.sites.filter(pk=site.pk).exists()
    ):
        errors["facilitator"] = "The facilitator must be a clinician or medical staff member at this site."
    if errors:
        raise ValidationError(errors)
    room = room or occurrence.room
    if facilitator is not None and facilitator.pk != occurrence.facilitator_id:
        permissions.require(
            permissions.may_change_facilitator(
                actor, current_facilitator_id=occurrence.facilitator_id, new_facilitator_id=facilitator.pk
            ),
            "change who facilitates this session (an admin or a clinical supervisor does, or the "
            "facilitator hands it over)",
        )
    facilitator = facilitator or occurrence.facilitator
    changes = {"starts_at": new_start, "ends_at": ends_at, "room": room, "facilitator": facilitator}
    changed = [name for name, value in changes.items() if getattr(occurrence, name) != value]
    if not changed:
        return occurrence
    local_start = new_start.astimezone(site.timezone)
    if ends_at.astimezone(site.timezone).date() != local_start.date():
        raise ValidationError({"ends_at": "A session must end on the day it starts."})
    if occurrence.attendance.exists() and {"starts_at", "ends_at"} & set(changed):
        raise ValidationError("Attendance is recorded for this session: its time can no longer change.")
    room_clashes = conflicts.busy_clashes(
        starts_at=new_start, ends_at=ends_at, room_id=room.pk, exclude_occurrence_id=occurrence.pk
    )
    if room_clashes:
        raise ValidationError({"room": f"{room.name} is in use then by {room_clashes[0]}."})
    person_clashes = conflicts.busy_clashes(
        starts_at=new_start, ends_at=ends_at, person_id=facilitator.pk, exclude_occurrence_id=occurrence.pk
    )
    if person_clashes:
        raise ValidationError({"facilitator": f"{facilitator} is busy then with {person_clashes[0]}."})
    for name, value in changes.items():
        setattr(occurrence, name, value)
    occurrence.local_date = local_start.date()
    occurrence.change_reason = (reason or "").strip()[:200]
    fields = [*changed, "local_date", "change_reason"]
    save_if_unchanged(occurrence, expected_version=expected_version, fields=fields)
    audit_change(
        actor, AuditAction.UPDATE, occurrence, changed_fields=changed, reason=occurrence.change_reason
    )
    if {"starts_at", "ends_at", "room"} & set(changed):  # a new facilitator is not the patients' news
        _announce(occurrence)
    return occurrence
