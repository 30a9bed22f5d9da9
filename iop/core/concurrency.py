"""Optimistic concurrency: an edit must start from the version it overwrites."""

from collections.abc import Iterable

from django.db import models
from django.db.models import F

STALE_EDIT_MESSAGE = (
    "Someone else changed this record while you were editing it. "
    "Your changes were not saved: reload the page to see the latest version, then edit again."
)


class StaleEdit(Exception):
    """The record changed since the editor loaded it."""

    def __init__(self, message: str = STALE_EDIT_MESSAGE):
        super().__init__(message)
        self.message = message


def save_if_unchanged(instance: models.Model, *, expected_version: int | None, fields: Iterable[str]) -> None:
    """Write `fields` of `instance` only if its stored version is still `expected_version`.

    A compare-and-set UPDATE ... WHERE version = expected: one statement, safe across
    processes. `expected_version=None` means the caller has no version to compare (it
    loaded and saved in one request under a row lock) and always writes.
    """
    model = type(instance)
    field_names = list(fields)
    values = {name: getattr(instance, name) for name in field_names}
    if "updated_at" in {f.name for f in model._meta.get_fields()}:
        from django.utils import timezone

        instance.updated_at = timezone.now()
        values["updated_at"] = instance.updated_at
    queryset = model._default_manager.filter(pk=instance.pk)
    if expected_version is not None:
        queryset = queryset.filter(version=expected_version)
    updated = queryset.update(version=F("version") + 1, **values)
    if updated != 1:
        raise StaleEdit()
    instance.refresh_from_db(fields=["version"])
