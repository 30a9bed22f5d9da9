"""Who and where the current request comes from, for audit entries written deep in services."""

from contextvars import ContextVar

current_ip_address: ContextVar[str | None] = ContextVar("current_ip_address", default=None)
