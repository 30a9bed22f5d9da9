"""Business events: intake."""
