"""Forms: intake."""
