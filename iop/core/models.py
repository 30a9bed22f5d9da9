"""Abstract base models shared by every app."""

import uuid

from django.db import models


class PublicRecord(models.Model):
    """A row with an external UUID (used in URLs and the API) and timestamps.

    Integer primary keys stay inside the database; the outside world sees `public_id`.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class VersionedRecord(PublicRecord):
    """A record edited by people: `version` grows with every change (optimistic locking).

    An edit carries the version it started from; `iop.core.concurrency.save_if_unchanged`
    refuses it when someone else saved in between, instead of silently overwriting.
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True
