"""Business events: consents."""
