"""Pages: consents."""
