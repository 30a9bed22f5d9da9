"""The message a selected patient receives: no clinical detail, only where and by when.

Scheduling's reminder channels (SMS, email, per the patient's preferred channel) are being
built on another branch; until they land, email is the one channel (ADR 0011).
"""

import logging

from django.conf import settings
from django.core.mail import send_mail

from testing.models import DrawSelection

logger = logging.getLogger(__name__)

DEFAULT_CHECK_IN_BY = "14:00"


def check_in_message(selection: DrawSelection) -> str:
    policy = getattr(selection.episode.current_phase, "testing_policy", None)
    by = policy.check_in_by.strftime("%H:%M") if policy and policy.check_in_by else DEFAULT_CHECK_IN_BY
    return f"Please check in at the front desk today by {by}."


def send_check_in_request(selection: DrawSelection) -> bool:
    """Send the request through the patient's channel; False when they have none we can use."""
    patient = selection.patient
    if not patient.email:
        logger.info("Selection %s: no notification channel", selection.pk)
        return False
    send_mail(
        subject="Check-in request",
        message=check_in_message(selection),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[patient.email],
    )
    logger.info("Selection %s: check-in request sent", selection.pk)
    return True
