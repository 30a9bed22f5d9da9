"""Periodic plan work: thin wrappers over services, idempotent (DESIGN.md, Celery)."""

from datetime import date

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from treatment_plans.services import record_due_notices


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def record_plan_due_notices_task(day: str | None = None) -> dict[str, int]:
    """Hourly: record initial plans and reviews due or overdue (one notice per episode, kind and
    due date; a second run the same day changes nothing). They show on the primary clinician's
    home page until the plan is signed or the review recorded."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    return record_due_notices(today=today)
