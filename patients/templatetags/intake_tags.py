"""The intake queue's step badges, written in Python: four per row, 100 on a page, where an
`{% include %}` each was a fifth of the queue's CPU (ADR 0009)."""

from django import template
from django.utils.html import format_html
from django.utils.text import capfirst

register = template.Library()

DONE = '<span class="badge text-bg-success me-1" title="{}: done"><i class="bi bi-check2"></i> {}{}</span>'
NOT_YET = '<span class="badge text-bg-light border text-secondary me-1" title="{}: not yet"> {}{}</span>'


@register.simple_tag
def step_badge(done, label: str, count=None) -> str:
    """A step of the intake: done (green, with a tick) or not yet; `count` after the label."""
    return format_html(DONE if done else NOT_YET, capfirst(label), label, f" ({count})" if count else "")
