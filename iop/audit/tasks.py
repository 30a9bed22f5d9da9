from celery import shared_task

from iop.audit.services import make_checkpoint, run_chain_verification
from iop.audit.sinks import CheckpointSinkError


@shared_task(acks_late=True, max_retries=3)
def verify_audit_chain_task() -> int:
    """Nightly: verify the audit chain and keep the result (raises an admin alert if broken)."""
    return run_chain_verification().pk


@shared_task(
    acks_late=True,
    autoretry_for=(CheckpointSinkError,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=3,
)
def checkpoint_audit_task() -> int | None:
    """Every few minutes: sign the chain head, outside the database and in it (nothing new
    while the head has not moved; two runs at once make one checkpoint)."""
    checkpoint = make_checkpoint().checkpoint
    return checkpoint.sequence if checkpoint is not None else None
