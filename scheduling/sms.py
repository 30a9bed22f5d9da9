"""Pluggable SMS backends for reminders (settings.SCHEDULING_SMS_BACKEND, a dotted path). The
default writes to the console, as Django's console e-mail backend does; a provider's backend
implements `send(to: str, body: str) -> None` and raises on failure."""

import sys

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "scheduling.sms.ConsoleSMSBackend"


class ConsoleSMSBackend:
    """Development: print the message (the number masked to its last four digits)."""

    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to ***{str(to)[-4:]}: {body}\n")
        sys.stdout.flush()


def backend():
    return import_string(getattr(settings, "SCHEDULING_SMS_BACKEND", DEFAULT_BACKEND))()
