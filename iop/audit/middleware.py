from axes.helpers import get_client_ip_address

from iop.audit.context import current_ip_address


class AuditContextMiddleware:
    """Remember the client address of this request for the audit trail (the same address
    login throttling uses, so both see through a trusted reverse proxy alike)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip_address.set(get_client_ip_address(request) or None)
        try:
            return self.get_response(request)
        finally:
            current_ip_address.reset(token)
