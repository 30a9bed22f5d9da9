"""Celery tasks: thin and idempotent by database state. Arguments are ids, never PHI."""

from celery import shared_task
from django.db import OperationalError

from testing.models import DrawSelection
from testing.notifications import send_check_in_request
from testing.services import draws


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def draw_if_due_task() -> list[int]:
    """Every few minutes: draw for each site whose draw time has passed today and that has no
    draw yet. A doubled tick, a second beat or a retry finds the draw made and does nothing."""
    return draws.run_due_draws()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def commit_next_month_keys_task() -> int:
    """Daily: commit next month's draw key for every site (long before the month starts)."""
    return draws.commit_next_month_keys()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def reveal_ended_month_keys_task() -> int:
    """Daily: reveal the keys of months that have ended."""
    return draws.reveal_ended_month_keys()


@shared_task(acks_late=True, max_retries=3)
def notify_draw_selections_task(draw_id: int) -> int:
    """Ask each selected patient to check in. Each selection is claimed with a compare-and-set
    before sending, so a re-delivered task sends nothing twice."""
    ids = list(DrawSelection.objects.filter(draw_id=draw_id).values_list("pk", flat=True))
    sent = 0
    for selection in DrawSelection.objects.filter(pk__in=draws.mark_notified(ids)).select_related(
        "patient", "episode__current_phase__testing_policy"
    ):
        sent += send_check_in_request(selection)
    return sent
