"""Pages: intake."""
