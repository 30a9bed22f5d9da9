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


# Structure rules the issue names (empty table headers, heading order, one main landmark and an
# h1, a lang): axe files them under best practice with a lower impact; they count here whatever
# their impact.
STRUCTURE_RULES = ["empty-table-header", "heading-order", "landmark-one-main", "page-has-heading-one"]


def serious_violations(page) -> list[str]:
    # page.evaluate runs through the DevTools protocol, so the strict CSP stays as it is.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", [*WCAG_AA, "best-practice"]
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        + (f" {v['nodes'][0].get('failureSummary', '')[:160]!r}" if v["id"] == "color-contrast" else "")
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] in STRUCTURE_RULES
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


# --- Every page type each role can reach (issue 7, item 4) ------------------------------------
# The pages come from the link crawl (tests/test_link_crawl.py) over a clinic with something on
# every page (an open referral, instrument results, an ASAM assessment, a consent, availability,
# a medication, an alert), so a page added later is checked without listing it here. One page per
# type (the view, and the tab, instrument or consent kind it shows) goes through axe-core.

# Pages the crawl does not reach by a link but every role that may use them should have checked.
EXTRA_PAGES = {
    "clinician_on_team": ["patients:break_glass", "account:two_factor_setup", "patients:referral_create"],
    "medical": ["patients:break_glass", "account:two_factor_setup"],
    "case_manager": ["account:two_factor_setup", "patients:referral_create"],
    "peer_support": ["account:two_factor_setup"],
    "admin": [
        "patients:break_glass_log",
        "accounts:staff_list",
        "accounts:site_list",
        "accounts:staff_create",
        "accounts:site_create",
        "account:two_factor_setup",
        "api-docs",
    ],
}
# GETs with a side effect on the signed-in user (new backup codes), or not a page.
NOT_CHECKED = {"backup_codes", "live_score", "score_instrument", "asam_recommend", "api-schema"}


@pytest.fixture
def clinic_with_everything(clinic):
    import datetime

    from django.utils import timezone

    from patients.models import Consent, ConsentKind
    from patients.services import medications, schedule_constraints
    from patients.services import screening as screening_services
    from patients.services.intake import record_referral
    from patients.services.records import raise_alert

    referral = record_referral(
        actor=clinic.clinician_on_team,
        site=clinic.site_a,
        new_patient={
            "legal_first_name": "Intake",
            "legal_last_name": "Person",
            "date_of_birth": datetime.date(1990, 1, 1),
        },
        source="self",
        urgency="routine",
        reason="Drinking more since losing work.",
    )
    patient, actor = clinic.patient, clinic.clinician_on_team
    for code, answers in (
        ("phq-9", {str(n): 1 for n in range(1, 10)}),
        ("phq-9", {str(n): 2 for n in range(1, 10)}),
        ("c-ssrs", {"1": True, "2": False, "6": False}),
    ):
        screening_services.administer_instrument(actor=actor, patient=patient, code=code, answers=answers)
    screening_services.assess_asam(
        actor=actor, patient=patient, edition="3", ratings={str(d): 1 for d in range(1, 7)}
    )
    Consent.objects.create(  # the person in intake may be admitted (the admit page is reached)
        patient=referral.patient,
        kind=ConsentKind.TREATMENT,
        text_presented="I consent to treatment.",
        signed_by_name="Intake Person",
        signed_at=timezone.now(),
        witnessed_by=actor,
    )
    Consent.objects.create(
        patient=patient,
        kind=ConsentKind.TREATMENT,
        text_presented="I consent to treatment.",
        signed_by_name="Testy McTestface",
        signed_at=timezone.now(),
        witnessed_by=actor,
    )
    schedule_constraints.add_availability_window(
        actor=actor,
        patient=patient,
        kind="work",
        weekday=1,
        starts_at=datetime.time(9),
        ends_at=datetime.time(17),
    )
    medications.add_medication(
        actor=actor, patient=patient, name="Buprenorphine", medication_class="buprenorphine"
    )
    raise_alert(
        actor=actor, patient=patient, kind="suicide_risk", message="Same-day C-SSRS needed", severity="high"
    )
    return clinic


def page_type(url: str) -> str | None:
    """What kind of page `url` is: its view's name and the non-id arguments (tab, instrument, kind)."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(url.split("?")[0])
    except Resolver404:
        return None
    if match.url_name in NOT_CHECKED:
        return None
    shown = sorted(f"{key}={value}" for key, value in match.kwargs.items() if not key.endswith("id"))
    return ":".join([match.view_name, *shown])


def page_types_for(clinic, persona) -> dict[str, str]:
    from django.test import Client

    from tests.test_link_crawl import crawl

    client = Client()
    client.force_login(clinic.persona(persona))
    statuses, _found_on = crawl(client)
    urls = [url for url, status in statuses.items() if status == 200]
    urls += [reverse(name) for name in EXTRA_PAGES.get(persona, [])]
    types = {}
    for url in urls:
        kind = page_type(url)
        if kind is not None:
            types.setdefault(kind, url)
    return types


@pytest.mark.parametrize("persona", ["clinician_on_team", "case_manager", "medical", "peer_support", "admin"])
def test_every_page_type_a_role_reaches_has_no_serious_accessibility_violations(
    clinic_with_everything, live_server, journey_page, persona
):
    clinic = clinic_with_everything
    types = page_types_for(clinic, persona)
    assert len(types) >= (12 if persona == "peer_support" else 30), sorted(types)  # the crawl went far
    if persona in ("clinician_on_team", "admin"):
        assert "patients:admit" in types
    page = journey_page
    sign_in(page, live_server.url, clinic.persona(persona).username)
    page.wait_for_url(re.compile(r"/$"))
    found = {}
    for kind, path in sorted(types.items()):
        page.goto(live_server.url + path)
        if kind == "api-docs":
            page.locator(".opblock").first.wait_for()
        violations = serious_violations(page)
        if violations:
            found[f"{kind} {path}"] = violations
    assert not found, "\n".join(f"{where}: {violations}" for where, violations in found.items())
