"""Every write link the chart's Intake tab shows is one the view behind it lets the user use, and
every such page the user may use is offered (issue 7, item 3): the templates ask the views' own
predicates (`patients.views.records.ChartPermissions`) instead of copying role checks."""

import pytest
from django.urls import reverse

from patients.services.records import break_the_glass

pytestmark = pytest.mark.django_db

WRITE_PAGES = {
    "administer": ("patients:administer_instrument", ("phq-9",)),
    "new_asam": ("patients:new_asam", ()),
    "consent": ("patients:consent_create", ("treatment",)),
    "availability": ("patients:availability_create", ()),
    "medication": ("patients:medication_create", ()),
}


def _offered_and_usable(client, patient) -> dict[str, tuple[bool, bool]]:
    page = client.get(reverse("patients:chart_tab", args=[patient.public_id, "intake"])).content.decode()
    found = {}
    for name, (route, args) in WRITE_PAGES.items():
        url = reverse(route, args=[patient.public_id, *args])
        offered = f'href="{url}"' in page
        usable = client.get(url).status_code == 200  # a refusal is a 403/404 or a redirect with why
        found[name] = (offered, usable)
    return found


@pytest.mark.parametrize(
    "persona", ["clinician_on_team", "case_manager", "medical", "peer_support", "supervisor", "admin"]
)
def test_the_intake_tab_offers_exactly_the_write_pages_the_user_may_open(clinic, client, persona):
    client.force_login(clinic.persona(persona))
    found = _offered_and_usable(client, clinic.patient)
    disagreements = {name: pair for name, pair in found.items() if pair[0] != pair[1]}
    assert not disagreements, disagreements
    if persona == "clinician_on_team":
        assert all(offered for offered, _usable in found.values())


def test_emergency_access_offers_the_emergency_assessments_but_no_record_changes(clinic, client):
    """Through a break-the-glass grant a clinician may give an instrument or an ASAM assessment
    (an emergency assessment) but not record consents, availability or medications."""
    episode = clinic.episode
    episode.status = "discharged"
    episode.discharged_on = episode.admitted_on
    episode.save(update_fields=["status", "discharged_on"])
    break_the_glass(
        actor=clinic.clinician_elsewhere,
        mrn=clinic.patient.mrn,
        category="imminent_risk",
        reason="Patient called the crisis line and named this program.",
    )
    client.force_login(clinic.clinician_elsewhere)
    found = _offered_and_usable(client, clinic.patient)
    assert found["administer"] == (True, True) and found["new_asam"] == (True, True)
    for name in ("consent", "availability", "medication"):
        assert found[name] == (False, False), name
