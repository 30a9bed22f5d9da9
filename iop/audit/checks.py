"""System checks for the audit trail's signed checkpoints.

Production (DEBUG off) must configure a signing key and a sink outside the database: the
deployment checks (`check --deploy`) and `manage.py setup_database` (the migrate service)
refuse to go on without them. A configured value that is wrong is an error everywhere.
"""

from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from iop.audit import checkpoints
from iop.audit.sinks import outside_log_path, parse_sink

TAG = "audit"


def _configuration_errors() -> list[checks.CheckMessage]:
    errors = []
    key_file = settings.AUDIT_CHECKPOINT_KEY_FILE
    if key_file and not (settings.AUDIT_CHECKPOINT_GENERATE_KEY and not Path(key_file).exists()):
        try:
            checkpoints.signing_key()
        except checkpoints.CheckpointKeyError as error:
            errors.append(checks.Error(str(error), id="audit.E002", hint="AUDIT_CHECKPOINT_KEY_FILE"))
    for url in settings.AUDIT_CHECKPOINT_SINKS:
        try:
            parse_sink(url)
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), id="audit.E004", hint="AUDIT_CHECKPOINT_SINKS"))
    for name in settings.AUDIT_CHECKPOINT_PUBLIC_KEYS:
        try:
            checkpoints.trusted_keys([name])
        except checkpoints.CheckpointKeyError as error:
            errors.append(checks.Error(str(error), id="audit.E005", hint="AUDIT_CHECKPOINT_PUBLIC_KEYS"))
    return errors


@checks.register(TAG)
def checkpoint_configuration(app_configs=None, **kwargs):
    return _configuration_errors()


@checks.register(TAG, deploy=True)
def checkpoints_configured_for_production(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    messages = []
    if not settings.AUDIT_CHECKPOINT_KEY_FILE:
        messages.append(
            checks.Error(
                "AUDIT_CHECKPOINT_KEY_FILE is not set: the audit trail would not be tamper-evident "
                "against whoever owns the database.",
                hint="manage.py audit_checkpoint_key --generate /run/secrets/audit-checkpoint-key.pem, "
                "then set AUDIT_CHECKPOINT_KEY_FILE (see .env.example).",
                id="audit.E001",
            )
        )
    if not settings.AUDIT_CHECKPOINT_SINKS:
        messages.append(
            checks.Error(
                "AUDIT_CHECKPOINT_SINKS is empty: signed checkpoints need a copy outside the database.",
                hint="file:///var/log/iop/audit-checkpoints.jsonl, syslog://host:514 or https://collector/path",
                id="audit.E003",
            )
        )
    else:
        try:
            log = outside_log_path()
        except ImproperlyConfigured:
            log = None
        if log is None:
            messages.append(
                checks.Warning(
                    "No outside checkpoint log for the nightly verification to read: checkpoints go to "
                    "syslog or HTTP only.",
                    hint="Set AUDIT_CHECKPOINT_LOG to a copy of what the sink receives, or run "
                    "verify_audit_chain --checkpoints FILE against an export of it.",
                    id="audit.W001",
                )
            )
    return messages
