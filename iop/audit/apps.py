from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "iop.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from iop.audit import checks  # noqa: F401 (registers the system checks)
