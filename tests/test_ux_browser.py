"""Issue 7, item 5 in a real browser: the intake queue on a phone, a readable score chart, and the
API docs inside the app's layout under the strict CSP."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.test_accessibility import serious_violations
from tests.test_journeys import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _refer(clinic, last_name="Person"):
    from datetime import date

    from patients.services.intake import record_referral

    return record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Intake",
            "legal_last_name": last_name,
            "date_of_birth": date(1990, 1, 1),
        },
        source="self",
        urgency="urgent",
        reason="Drinking more since losing work.",
    )


def test_the_intake_queue_shows_each_person_on_a_390_px_phone(clinic, live_server, journey_page):
    _refer(clinic)
    page = journey_page
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + reverse("patients:intake_queue"))
    person = page.get_by_role("link", name="Person, Intake")
    expect(person).to_be_visible()
    box = person.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box  # no sideways scrolling
    labels = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=queue-row] td')]"
        ".map(td => getComputedStyle(td, '::before').content)"
    )
    # Each cell says what it is once the header row is hidden (a card per referral).
    assert labels[:3] == ['"Person"', '"Waiting"', '"Urgency"'] and '"Done so far"' in labels
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not serious_violations(page)


def test_the_score_chart_is_readable_with_ticks_at_the_bands(clinic, live_server, journey_page):
    from patients.services.screening import administer_instrument

    for answers in ({str(n): 1 for n in range(1, 10)}, {str(n): 2 for n in range(1, 10)}):
        administer_instrument(
            actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=answers
        )
    page = journey_page
    sign_in(page, live_server.url, clinic.clinician_on_team.username)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(
        live_server.url + reverse("patients:instrument_history", args=[clinic.patient.public_id, "phq-9"])
    )
    canvas = page.locator("canvas[data-score-chart]")
    expect(canvas).to_have_attribute("data-drawn", "1")
    assert canvas.bounding_box()["height"] >= 200
    y = page.evaluate(
        "() => { const s = Chart.getChart(document.querySelector('canvas[data-score-chart]')).scales.y;"
        " return {ticks: s.ticks.map(t => t.value), title: s.options.title.text}; }"
    )
    assert y == {"ticks": [0, 5, 10, 15, 20, 27], "title": "Total score"}


def test_the_api_docs_open_inside_the_app_under_the_strict_csp(clinic, live_server, journey_page):
    page = journey_page
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("response", lambda response: response.status >= 400 and problems.append(response.url))
    sign_in(page, live_server.url, clinic.admin.username)
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API").click()
    expect(page.get_by_role("heading", level=1, name="API documentation")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)  # the operations are there
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("main").count() == 1
    assert page.locator("meta[http-equiv]").count() == 0  # the policy is the server's header
    csp = page.evaluate("async () => (await fetch(location.href)).headers.get('content-security-policy')")
    assert "'unsafe-inline'" not in csp
    assert not problems, problems  # a blocked script or style would be reported here
    assert not serious_violations(page)
