"""View guards. A page a role may not use does not exist for it (404), like a hidden patient."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def role_required(predicate):
    """Require login (else redirect to the login page) and `predicate(user)` (else 404)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(request, *args, **kwargs):
            if not predicate(request.user):
                raise Http404("No such page.")
            return view(request, *args, **kwargs)

        return guarded

    return decorator
