"""Pagination for list pages: the page and the query string that keeps the filters."""

from django.core.paginator import Page, Paginator

DEFAULT_PAGE_SIZE = 25


def paginate(request, items, per_page: int = DEFAULT_PAGE_SIZE) -> dict:
    """{"page": the requested page (clamped), "query_string": the filters without `page`}."""
    page: Page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "query_string": query.urlencode()}
