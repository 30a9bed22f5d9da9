"""Forms: screening."""
