"""Pagination for list pages: the page and the query string that keeps the filters."""

from django.core.paginator import Page, Paginator

DEFAULT_PAGE_SIZE = 25


def paginate(request, items, per_page: int = DEFAULT_PAGE_SIZE, *, pks_first: bool = False) -> dict:
    """{"page": the requested page (clamped), "query_string": the filters without `page`}.

    `pks_first` (a queryset whose rows are costly: joins, subquery annotations): past page 1,
    the page's pks are read first (a pk-only query, ordered, from an index), then the rows of
    those pks with everything they show, so the rows skipped before page 50 cost an index
    entry each, not their joins and subqueries. Two queries rather than one subquery: given
    the pks themselves, PostgreSQL reads those rows by pk instead of planning against the whole
    table (docs/decisions/0009-performance-budget.md).
    """
    page: Page = Paginator(items, per_page).get_page(request.GET.get("page"))
    if pks_first and page.number > 1:
        start = page.start_index() - 1
        pks = list(items.values_list("pk", flat=True)[start : start + per_page])
        page.object_list = items.filter(pk__in=pks)
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "query_string": query.urlencode()}
