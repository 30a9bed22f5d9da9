"""Discharge: TEDS-D reasons, transfers, continuing care, the summary, its print view."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from conftest import require_service
from patients.models import DischargeReason, EpisodeStatus
from treatment_plans import services
from treatment_plans.models import DischargeSummary, PlanDueNotice
from treatment_plans.tests.factories import active_plan

pytestmark = pytest.mark.django_db


def discharge(clinic, actor=None, **overrides):
    fields = {
        "discharged_on": timezone.localdate(),
        "reason": DischargeReason.COMPLETED,
        "summary": "Completed both phases; negative tests since week 2.",
        "aftercare_group": "Tuesday alumni group",
        "mutual_help": "SMART Recovery twice a week",
        "follow_up_on": timezone.localdate() + datetime.timedelta(days=14),
        "follow_up_with": "Primary clinician",
        "continuing_care_months": 6,
        **overrides,
    }
    return services.discharge_patient(
        actor=actor or clinic.clinician_on_team, episode=clinic.episode, **fields
    )


def test_every_teds_d_reason_is_a_discharge_reason():
    assert {code: str(label) for code, label in DischargeReason.choices} == {
        "1": "Treatment completed",
        "2": "Dropped out / left against professional advice",
        "3": "Terminated by facility (administrative)",
        "4": "Transferred to another level of care",
        "5": "Incarcerated",
        "6": "Death",
        "7": "Other",
    }


def test_discharge_ends_the_episode_and_keeps_the_summary(clinic):
    services.record_due_notices(today=timezone.localdate())
    record = discharge(clinic)
    clinic.episode.refresh_from_db()
    assert clinic.episode.status == EpisodeStatus.DISCHARGED
    assert clinic.episode.discharge_reason == "1" and clinic.episode.discharged_on == timezone.localdate()
    assert record.aftercare_group == "Tuesday alumni group"
    assert not PlanDueNotice.objects.filter(resolved_at__isnull=True).exists()
    with pytest.raises(ValidationError, match="already ended"):
        discharge(clinic)


def test_a_transfer_names_its_direction_and_receiving_level(clinic):
    with pytest.raises(ValidationError) as refused:
        discharge(clinic, reason=DischargeReason.TRANSFERRED)
    assert {"transfer_direction", "receiving_level"} <= set(refused.value.message_dict)
    record = discharge(
        clinic, reason=DischargeReason.TRANSFERRED, transfer_direction="higher", receiving_level="2.5"
    )
    assert (record.transfer_direction, record.receiving_level) == ("higher", "2.5")


def test_only_a_transfer_has_a_transfer(clinic):
    with pytest.raises(ValidationError, match="Only a transfer"):
        discharge(clinic, reason=DischargeReason.LEFT_AGAINST_ADVICE, transfer_direction="lower")


@pytest.mark.parametrize(
    "field,value", [("discharged_on", "future"), ("summary", ""), ("continuing_care_months", 13)]
)
def test_bad_discharges_are_refused_and_change_nothing(clinic, field, value):
    if value == "future":
        value = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        discharge(clinic, **{field: value})
    clinic.episode.refresh_from_db()
    assert clinic.episode.status == EpisodeStatus.ACTIVE and not DischargeSummary.objects.exists()


@pytest.mark.parametrize("persona", ["clinician_elsewhere", "case_manager", "peer_support", "admin"])
def test_only_clinicians_who_write_the_record_discharge(clinic, persona):
    with pytest.raises(PermissionError):
        discharge(clinic, actor=clinic.persona(persona))
    clinic.episode.refresh_from_db()
    assert clinic.episode.status == EpisodeStatus.ACTIVE


def test_the_summary_is_never_changed_in_the_database(clinic):
    require_service("PostgreSQL", connection.vendor == "postgresql", "the triggers exist on PostgreSQL only")
    discharge(clinic)
    with pytest.raises(DatabaseError), transaction.atomic():
        DischargeSummary.objects.update(summary="Rewritten")


def test_discharge_page_print_and_plan_tab(clinic, login):
    active_plan(clinic)
    client = login(clinic.clinician_on_team)
    url = reverse("treatment_plans:discharge", args=[clinic.patient.public_id])
    tab = reverse("treatment_plans:plan", args=[clinic.patient.public_id])
    assert b'data-testid="plan-discharge"' in client.get(tab).content
    bad = client.post(
        url,
        {
            "discharged_on": timezone.localdate().isoformat(),
            "reason": "4",
            "summary": "x",
            "continuing_care_months": 6,
        },
    )
    assert bad.status_code == 200 and b"receiving ASAM level" in bad.content
    response = client.post(
        url,
        {
            "discharged_on": timezone.localdate().isoformat(),
            "reason": "1",
            "summary": "Completed the program.",
            "aftercare_group": "Alumni group",
            "continuing_care_months": 6,
        },
    )
    assert response.status_code == 302 and response["Location"] == tab
    page = client.get(tab)
    assert b'data-testid="discharge-summary"' in page.content and b"Alumni group" in page.content
    assert (
        b'data-testid="plan-discharge"' not in page.content
        and b'data-testid="plan-revise"' not in page.content
    )
    printed = login(clinic.peer_support).get(
        reverse("treatment_plans:discharge_print", args=[clinic.patient.public_id])
    )
    assert (
        printed.status_code == 200
        and b"42 CFR part 2" in printed.content
        and b"TEDS-D reason 1" in printed.content
    )
    assert login(clinic.clinician_on_team).get(url).status_code == 302  # already discharged
