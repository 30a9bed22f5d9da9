class NoStoreForSignedInUsersMiddleware:
    """Pages for a signed-in user hold patient data: browsers must not cache them, so a chart
    does not come back from the cache after sign-out on a shared workstation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store, private"
        return response
