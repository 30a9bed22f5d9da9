"""The benchmark's yardstick: the cheapest page a signed-in user can get (`make bench`).

Routed only when `BENCH_BARE_VIEW` is on, so it never exists in a real installation."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def bare(request):
    return HttpResponse("ok", content_type="text/plain")
