"""Template helpers of the plan pages."""

from django import template
from django.utils import timezone

from treatment_plans.selectors import plans_due_for

register = template.Library()


@register.filter
def lookup(mapping, key):
    """`mapping|lookup:key`: a dict value in a template (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag(takes_context=True)
def plans_due(context):
    """The home page's due/overdue plans card (its own data, so the home view stays untouched):
    initial plans and reviews of the patients whose primary clinician the user is."""
    request = context.get("request")
    if request is None:
        return []
    return plans_due_for(request.user, today=timezone.localdate())
