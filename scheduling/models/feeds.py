"""A staff member's private iCalendar feed: a secret URL, stored only as a hash, revocable."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from iop.core.models import PublicRecord


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(PublicRecord):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="one_live_calendar_feed_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"
