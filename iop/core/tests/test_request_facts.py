"""Per-request facts (iop/core/request_facts.py, ADR 0009): remembered within one request only."""

from django.http import HttpResponse
from django.test import RequestFactory

from iop.core.request_facts import RequestFactsMiddleware, forget, remembered


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return compute, calls


def in_request(method: str, view):
    request = getattr(RequestFactory(), method.lower())("/")
    return RequestFactsMiddleware(lambda request: view())(request)


def test_outside_a_request_every_call_computes():
    compute, calls = counter()
    assert remembered("fact", compute) == 1
    assert remembered("fact", compute) == 2
    assert len(calls) == 2


def test_within_a_request_a_fact_is_computed_once_and_forgotten_after_it():
    compute, calls = counter()

    def view():
        first = remembered("fact", compute)
        assert remembered("fact", compute) == first == len(calls)
        return HttpResponse()

    in_request("GET", view)
    in_request("GET", view)  # a new request asks again
    assert len(calls) == 2


def test_forget_drops_what_the_request_remembered():
    compute, calls = counter()

    def view():
        remembered("fact", compute)
        forget()
        assert remembered("fact", compute) == 2
        return HttpResponse()

    in_request("POST", view)
    assert len(calls) == 2


def test_reads_only_facts_are_remembered_only_in_requests_that_change_nothing():
    compute, calls = counter()

    def view():
        remembered("reach", compute, reads_only=True)
        remembered("reach", compute, reads_only=True)
        return HttpResponse()

    in_request("GET", view)
    assert len(calls) == 1
    in_request("POST", view)
    assert len(calls) == 3
    forget_then_read = counter()

    def view_after_forget():
        remembered("reach", forget_then_read[0], reads_only=True)
        forget()  # keeps knowing the request is a GET
        remembered("reach", forget_then_read[0], reads_only=True)
        remembered("reach", forget_then_read[0], reads_only=True)
        return HttpResponse()

    in_request("GET", view_after_forget)
    assert len(forget_then_read[1]) == 2
