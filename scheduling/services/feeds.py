"""Private iCalendar feeds for staff: a secret URL per person, shown once, stored as a hash;
a new link revokes the old one. The feed names no patient beyond initials (ADR 0010)."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from iop.audit.models import AuditAction
from iop.audit.services import record_event
from scheduling.models import Appointment, AppointmentStatus, CalendarFeed, Occurrence, OccurrenceStatus
from scheduling.models.feeds import token_digest
from scheduling.selectors import initials

PAST_DAYS = 14
AHEAD_DAYS = 56


@transaction.atomic
def new_feed_link(*, actor) -> str:
    """Revoke the actor's live feed (if any) and make a new one; returns the token (shown once)."""
    now = timezone.now()
    CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=now, updated_at=now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=actor, token_hash=token_digest(token))
    record_event(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="scheduling.calendarfeed",
        object_id=feed.public_id,
    )
    return token


@transaction.atomic
def revoke_feed(*, actor) -> bool:
    now = timezone.now()
    revoked = CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    )
    if revoked:
        record_event(
            actor=actor, action=AuditAction.UPDATE, object_type="scheduling.calendarfeed", reason="revoked"
        )
    return bool(revoked)


def feed_for_token(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=token_digest(token or ""), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def render_feed(feed: CalendarFeed) -> bytes:
    """The person's group sessions and appointments from two weeks ago to eight weeks ahead."""
    user = feed.user
    today = timezone.localdate()
    first, last = today - timedelta(days=PAST_DAYS), today + timedelta(days=AHEAD_DAYS)
    calendar = Calendar()
    calendar.add("prodid", "-//IOP clinic//schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "IOP sessions")
    for occurrence in Occurrence.objects.filter(
        facilitator=user, local_date__range=(first, last), status=OccurrenceStatus.SCHEDULED
    ).select_related("series__site", "room"):
        event = Event()
        event.add("uid", f"{occurrence.public_id}@iop")
        event.add("summary", occurrence.series.name)
        event.add("dtstart", occurrence.starts_at)
        event.add("dtend", occurrence.ends_at)
        event.add("location", f"{occurrence.series.site.name}, {occurrence.room.name}")
        calendar.add_component(event)
    for appointment in Appointment.objects.filter(
        staff=user, local_date__range=(first, last), status=AppointmentStatus.SCHEDULED
    ).select_related("session_type", "site", "room", "episode__patient"):
        event = Event()
        event.add("uid", f"{appointment.public_id}@iop")
        event.add("summary", f"{appointment.session_type.name}: {initials(appointment.episode.patient)}")
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        room = f", {appointment.room.name}" if appointment.room_id else ""
        event.add("location", f"{appointment.site.name}{room}")
        calendar.add_component(event)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
    record_event(
        actor=user, action=AuditAction.READ, object_type="scheduling.calendarfeed", object_id=feed.public_id
    )
    return calendar.to_ical()
