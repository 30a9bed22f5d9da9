"""Business events: screening."""
