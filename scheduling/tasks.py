"""Celery tasks: thin, idempotent wrappers over the services."""

from celery import shared_task
from django.db import OperationalError

from scheduling.services import series as series_services


@shared_task(
    acks_late=True,  # safe to re-run: occurrences are unique per (series, original start)
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def generate_occurrences_task(ahead_weeks: int = series_services.DEFAULT_AHEAD_WEEKS) -> int:
    """Keep every active series' occurrences generated `ahead_weeks` ahead (beat: hourly)."""
    return series_services.generate_occurrences(ahead_weeks=ahead_weeks)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def send_reminders_task() -> dict:
    """Session reminders due within the lead time, and today's staff agendas (beat: every 15
    minutes). Each message is claimed by a unique row first: running twice sends nothing twice."""
    from scheduling.services import reminders

    return {"sessions": reminders.send_session_reminders(), "agendas": reminders.send_staff_agendas()}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def notify_occurrence_change_task(occurrence_id: int) -> int:
    """Tell the enrolled patients that one occurrence was cancelled or moved (once per version)."""
    from scheduling.services import reminders

    return reminders.notify_occurrence_change(occurrence_id=occurrence_id)
