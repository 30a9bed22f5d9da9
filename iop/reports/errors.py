"""Error pages that never show patient data or internals. Under /api/ they are JSON."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


@csrf_exempt  # it changes nothing; a POST without a CSRF token must get this 404, not a 403 page
def api_not_found(request, path=""):
    """Any /api/ path no route matches: a JSON 404 even with DEBUG on (whose 404 page is HTML)."""
    return JsonResponse({"detail": "Not found."}, status=404)


def bad_request(request, exception=None):
    """E.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE, or a disallowed host."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request: the request is too large or malformed."}, status=400)
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return render(request, "403.html", status=403)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error. Nothing already saved was lost."}, status=500)
    return render(request, "500.html", status=500)
