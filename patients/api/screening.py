"""REST API: screening."""

ROUTES: list = []
