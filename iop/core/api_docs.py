"""The API's schema and documentation pages (kept apart from `api_schema`, which DRF's settings
import while these views' module is loaded)."""

import threading

from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response


class CachedSchemaView(SpectacularAPIView):
    """The schema, generated once per process and version: it depends only on the code (the
    schema is public to every signed-in user, SERVE_PUBLIC), and generating it takes about a
    second, which the API docs page would otherwise wait for on every visit."""

    _cache: dict = {}
    _lock = threading.Lock()

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language())
        with self._lock:
            schema = self._cache.get(key)
            if schema is None:
                generator = self.generator_class(
                    urlconf=self.urlconf, api_version=version, patterns=self.patterns
                )
                schema = self._cache[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI inside the app's layout (templates/api/docs.html extends base.html: navigation,
    lang, a main landmark and an h1), under the strict CSP: no inline script or style, its
    start-up script served by this view itself (?script)."""

    template_name = "api/docs.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("script") is None:
            response.data["nav"] = "api"
        return response
