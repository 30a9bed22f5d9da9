"""The message a selected patient receives: no clinical detail, only where and by when.

Sent through scheduling's reminder channels (ADR 0011): the patient's preferred channel where we
can use it (`scheduling.services.reminders.channel_for`), email through Django's email backend,
SMS through scheduling's pluggable backend (`scheduling.sms`). A patient who opted out of
reminders gets no automated message from the clinic, this one included: the front desk sees the
selection on the worklist and reaches them as the programme does. The caller claims each
selection once (`testing.services.draws.mark_notified`) before this runs.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail

from scheduling import sms
from scheduling.models import ReminderChannel, ReminderOptOut
from scheduling.services.reminders import channel_for
from testing.models import DrawSelection

logger = logging.getLogger(__name__)

DEFAULT_CHECK_IN_BY = "14:00"


def check_in_message(selection: DrawSelection) -> str:
    policy = getattr(selection.episode.current_phase, "testing_policy", None)
    by = policy.check_in_by.strftime("%H:%M") if policy and policy.check_in_by else DEFAULT_CHECK_IN_BY
    return f"Please check in at the front desk today by {by}."


def send_check_in_request(selection: DrawSelection) -> bool:
    """Send the request through the patient's channel; False when they opted out of reminders,
    have no channel we can use, or the provider failed (never retried: a second message is
    worse than none, as for scheduling's reminders)."""
    patient = selection.patient
    if ReminderOptOut.objects.filter(patient_id=patient.pk).exists():
        logger.info("Selection %s: patient opted out of reminders", selection.public_id)
        return False
    channel = channel_for(patient)
    if channel is None:
        logger.info("Selection %s: no notification channel", selection.public_id)
        return False
    text = check_in_message(selection)
    try:
        if channel == ReminderChannel.EMAIL:
            send_mail("Check-in request", text, settings.DEFAULT_FROM_EMAIL, [patient.email])
        else:
            sms.backend().send(str(patient.phone), text)
    except Exception:  # noqa: BLE001 - any provider error: logged, never resent
        logger.exception("Selection %s: check-in request failed", selection.public_id)
        return False
    logger.info("Selection %s: check-in request sent by %s", selection.public_id, channel)
    return True
