"""REST API: consents."""

ROUTES: list = []
