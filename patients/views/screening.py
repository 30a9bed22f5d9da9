"""Pages: screening."""
