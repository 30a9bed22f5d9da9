"""List filters and pages for the API: a parameter that is sent must mean something.

`?patient=` or `?page=` with an empty (or malformed) value used to be taken as "no filter" or
"the first page" and listed every visible row; here it is a 400 with a JSON body naming the
parameter (DEFAULT_FILTER_BACKENDS and DEFAULT_PAGINATION_CLASS point at these classes).
"""

import re

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

EMPTY_FILTER = "Must not be empty: leave the parameter out to list everything."
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


class NonEmptyFilterBackend(DjangoFilterBackend):
    """django-filter's backend, but a declared filter sent with an empty value is a 400."""

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = {
                name: [EMPTY_FILTER]
                for name in filterset_class.base_filters
                if name in request.query_params and not request.query_params.get(name, "").strip()
            }
            if empty:
                raise ValidationError(empty)
        return super().get_filterset(request, queryset, view)


class StrictPageNumberPagination(PageNumberPagination):
    """Page numbers are 1, 2, ...: anything else sent as `page` is a 400 (past the end: 404)."""

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not PAGE_NUMBER.fullmatch(raw):
            raise ValidationError({self.page_query_param: ["A page number: 1, 2, 3, ..."]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
        return parameters
