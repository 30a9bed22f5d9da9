def navigation(request):
    """Placeholder; replaced below."""
    return {}
