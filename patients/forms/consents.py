"""Forms: consents."""
