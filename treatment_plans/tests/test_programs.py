"""Admins edit programs, their phases and plan settings in pages (issue 10, item 8)."""

import pytest
from django.urls import reverse

from iop.audit.models import AuditEntry
from patients.models import Phase, Program
from treatment_plans import selectors, services
from treatment_plans.models import PlanSettings

pytestmark = pytest.mark.django_db

PHASE = {
    "order": 3,
    "name": "Continuing care",
    "description": "",
    "min_weeks": 12,
    "sessions_per_week": 1,
    "min_hours_per_week": "1.0",
    "tests_per_week": "0.5",
    "max_days_untested": 20,
    "attendance_threshold_percent": 75,
    "advancement_criteria": "",
}


def settings_post(**overrides):
    return {
        "initial_plan_due_days": 5,
        "review_interval_days": 14,
        "requires_patient_signature": "on",
        "requires_primary_clinician_signature": "on",
        "note_format": "soap",
        "unsigned_note_alert_hours": 48,
        **overrides,
    }


def test_admin_creates_a_program_with_plan_settings_and_phases(clinic, login):
    client = login(clinic.admin)
    assert b"Programs" in client.get(reverse("home")).content
    response = client.post(
        reverse("programs:create"),
        {"name": "Adolescent IOP", "level_of_care": "2.1", "is_active": "on", **settings_post()},
    )
    program = Program.objects.get(name="Adolescent IOP")
    assert response["Location"] == reverse("programs:edit", args=[program.public_id])
    settings = PlanSettings.objects.get(program=program)
    assert (settings.initial_plan_due_days, settings.review_interval_days) == (5, 14)
    assert settings.required_signers == ["patient", "primary_clinician"]
    response = client.post(reverse("programs:phase_create", args=[program.public_id]), {**PHASE, "order": 1})
    assert response.status_code == 302 and program.phases.get().name == "Continuing care"
    clash = client.post(reverse("programs:phase_create", args=[program.public_id]), {**PHASE, "order": 1})
    assert clash.status_code == 200 and b"has that place" in clash.content
    assert AuditEntry.objects.filter(object_type="patients.phase").count() == 1
    listing = client.get(reverse("programs:list"))
    assert b"Adolescent IOP" in listing.content and b"every 14 days" in listing.content


def test_editing_the_default_program_changes_new_plans_due_dates(clinic, login):
    program = clinic.episode.program
    client = login(clinic.admin)
    url = reverse("programs:edit", args=[program.public_id])
    page = client.get(url)
    assert page.status_code == 200 and b"Intensive" in page.content
    response = client.post(
        url,
        {
            "name": program.name,
            "level_of_care": "2.1",
            "is_active": "on",
            "version": program.version,
            **settings_post(initial_plan_due_days=3, requires_supervisor_signature="on"),
        },
    )
    assert response.status_code == 302
    assert selectors.plan_settings_for(program).initial_plan_due_days == 3
    plan = services.start_plan(actor=clinic.clinician_on_team, episode=clinic.episode)
    assert (plan.initial_due_on - clinic.episode.admitted_on).days == 3


def test_a_program_needs_a_signer_and_a_stale_form_is_refused(clinic, login):
    program = clinic.episode.program
    client = login(clinic.admin)
    url = reverse("programs:edit", args=[program.public_id])
    data = {"name": program.name, "level_of_care": "2.1", "version": program.version, **settings_post()}
    data.pop("requires_patient_signature")
    data.pop("requires_primary_clinician_signature")
    refused = client.post(url, data)
    assert refused.status_code == 200 and b"at least one signer" in refused.content
    stale = client.post(url, {**settings_post(), "name": program.name, "level_of_care": "2.1", "version": 99})
    assert stale.status_code == 200
    program.refresh_from_db()
    assert program.is_active  # nothing saved


def test_phase_edit_changes_the_phase(clinic, login):
    phase = Phase.objects.get(program=clinic.episode.program, order=2)
    client = login(clinic.admin)
    url = reverse("programs:phase_edit", args=[clinic.episode.program.public_id, phase.public_id])
    data = {name: getattr(phase, name) for name in PHASE}
    response = client.post(url, {**data, "min_weeks": 8})
    assert response.status_code == 302
    phase.refresh_from_db()
    assert phase.min_weeks == 8


@pytest.mark.parametrize("persona", ["clinician_on_team", "supervisor", "case_manager", "peer_support"])
def test_only_admins_manage_programs(clinic, login, persona):
    client = login(clinic.persona(persona))
    assert client.get(reverse("programs:list")).status_code == 404
    assert client.post(reverse("programs:create"), {"name": "X"}).status_code == 404
    assert b"diagram-3" not in client.get(reverse("home")).content


def test_program_list_makes_a_constant_number_of_queries(clinic, login, django_assert_max_num_queries):
    for index in range(5):
        Program.objects.create(name=f"Program {index}")
    client = login(clinic.admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("programs:list")).status_code == 200
