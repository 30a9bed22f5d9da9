from celery import shared_task

from iop.audit.services import run_chain_verification


@shared_task(acks_late=True, max_retries=3)
def verify_audit_chain_task() -> int:
    """Nightly: verify the audit chain and keep the result (raises an admin alert if broken)."""
    return run_chain_verification().pk
