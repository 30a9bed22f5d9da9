"""Facts worked out once per request: the signed-in user's sites, their emergency-access grant on
the patient being read. Many functions of one page ask the same question (the access module, the
audit of the read, the filters); the first asks the database, the others reuse the answer.

Only inside a request (`RequestFactsMiddleware`): a Celery task, a shell or a test calling a
function directly gets a fresh answer every time. A write that changes a remembered fact (a
user's sites, a new grant) calls `forget()` so the rest of its request sees the change.
See docs/decisions/0009-performance-budget.md.
"""

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_facts: ContextVar[dict | None] = ContextVar("request_facts", default=None)


_SAFE = "request_facts.safe_method"


def remembered(key: Hashable, compute: Callable[[], T], *, reads_only: bool = False) -> T:
    """`compute()`'s answer, worked out once per request for `key` (every time outside one).

    `reads_only`: remember it only in a request that changes nothing (GET, HEAD, OPTIONS): for
    facts that many writes change (who is on which care team) and nothing calls `forget` for.
    """
    facts = _facts.get()
    if facts is None or (reads_only and not facts.get(_SAFE)):
        return compute()
    if key not in facts:
        facts[key] = compute()
    return facts[key]


def remember(key: Hashable, value, *, reads_only: bool = False) -> None:
    """Record a fact another query already answered (no-op outside a request; with `reads_only`,
    also in a request that may change something)."""
    facts = _facts.get()
    if facts is not None and (not reads_only or facts.get(_SAFE)):
        facts[key] = value


def forget() -> None:
    """Drop what this request remembered (after a write that changes it)."""
    facts = _facts.get()
    if facts is not None:
        safe = facts.get(_SAFE)
        facts.clear()
        facts[_SAFE] = safe


class RequestFactsMiddleware:
    """Gives each request its own, empty set of remembered facts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _facts.set({_SAFE: request.method in ("GET", "HEAD", "OPTIONS")})
        try:
            return self.get_response(request)
        finally:
            _facts.reset(token)
