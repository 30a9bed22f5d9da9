"""Every link a role is shown works for that role: crawl each persona's pages (GET only,
same site, bounded) and fail on any 4xx or 5xx behind a link the page offered."""

from collections import deque
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from iop.accounts.models import Role
from patients.models import ReferralSource, Urgency
from patients.services import intake as intake_services
from treatment_plans import services as plan_services
from treatment_plans.tests.factories import active_plan

MAX_PAGES = 150
SKIP_PREFIXES = ("/static/", "/django-admin/", "/accounts/logout/", "/api/schema/")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href") and attributes.get("aria-disabled") != "true":
            classes = (attributes.get("class") or "").split()
            if "disabled" not in classes:
                self.links.append(attributes["href"])


def crawl(client, start="/"):
    """Breadth-first over same-site links; returns {url: status} and {url: page it was on}."""
    seen, found_on, statuses = {start}, {start: None}, {}
    queue = deque([start])
    while queue and len(statuses) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.links:
            target = urldefrag(urljoin(url, href))[0]
            parts = urlsplit(target)
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(SKIP_PREFIXES) or path in seen:
                continue
            seen.add(path)
            found_on[path] = url
            queue.append(path)
    return statuses, found_on


@pytest.fixture
def clinic_with_intake(clinic):
    """The conftest clinic plus a pre-admission person with an open referral at site A."""
    intake_services.record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Intake",
            "legal_last_name": "Person",
            "date_of_birth": date(1990, 1, 1),
        },
        source=ReferralSource.SELF,
        urgency=Urgency.ROUTINE,
        reason="Drinking more since losing work.",
    )
    # A signed plan and a draft revision: the Plan tab's pages and the editor's links.
    plan, _active = active_plan(clinic)
    plan_services.start_revision(actor=clinic.clinician_on_team, plan=plan, change_summary="Revision")
    return clinic


@pytest.mark.parametrize(
    "persona",
    [
        "clinician_on_team",
        "clinician_elsewhere",
        "case_manager",
        "medical",
        "peer_support",
        "supervisor",
        "admin",
    ],
)
def test_every_link_shown_to_a_role_works_for_it(clinic_with_intake, client, persona):
    user = clinic_with_intake.persona(persona)
    client.force_login(user)
    statuses, found_on = crawl(client)
    broken = {url: (status, found_on[url]) for url, status in statuses.items() if status >= 400}
    assert len(statuses) > 5, statuses  # the crawl really went somewhere
    assert not broken, f"{user.get_role_display()} is shown links that fail: {broken}"


def test_the_crawl_finds_a_broken_link(clinic, client, monkeypatch):
    """The crawl can fail: a page linking to a missing page is reported."""
    client.force_login(clinic.admin)
    statuses, _found_on = crawl(client, start="/no-such-page/")
    assert statuses == {"/no-such-page/": 404}
    assert Role.ADMIN  # the personas' roles are real
