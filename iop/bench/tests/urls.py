"""The app's URLs plus the bare view, as `BENCH_BARE_VIEW=true` routes them (for the harness test)."""

from django.urls import path

from iop.bench.views import bare
from iop.urls import urlpatterns as app_urlpatterns

urlpatterns = [*app_urlpatterns, path("bench/bare/", bare, name="bench-bare")]
