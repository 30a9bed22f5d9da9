"""REST API: intake."""

ROUTES: list = []
