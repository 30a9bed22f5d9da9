"""WCAG 2.1 AA: axe-core (from npm, read from node_modules, never a CDN) run in Debian's chromium
on each role's pages; no violation of impact serious or critical."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.test_journeys import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def serious_violations(page) -> list[str]:
    # page.evaluate runs through the DevTools protocol, so the strict CSP stays as it is.
    page.evaluate(AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def pages_for(clinic, persona):
    chart = reverse("patients:chart", args=[clinic.patient.public_id])
    pages = ["/", reverse("patients:list")]
    if persona != "peer_support":
        pages.append(chart)
        pages += [
            reverse("patients:chart_tab", args=[clinic.patient.public_id, t]) for t in ("phases", "plan")
        ]
    if persona in ("clinician_on_team", "admin"):
        pages.append(reverse("patients:intake_queue"))
    return pages


@pytest.mark.parametrize("persona", ["clinician_on_team", "case_manager", "medical", "peer_support", "admin"])
def test_each_roles_pages_have_no_serious_accessibility_violations(
    clinic, live_server, journey_page, persona
):
    page = journey_page
    sign_in(page, live_server.url, clinic.persona(persona).username)
    page.wait_for_url(re.compile(r"/$"))
    found = {}
    for path in pages_for(clinic, persona):
        page.goto(live_server.url + path)
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    assert not found, found


def test_axe_finds_a_violation_when_there_is_one(clinic, live_server, journey_page):
    """The check can fail: an image without a text alternative is a critical violation."""
    page = journey_page
    sign_in(page, live_server.url, clinic.admin.username)
    page.wait_for_url(re.compile(r"/$"))
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')")
    assert any(v.startswith("image-alt") for v in serious_violations(page))
