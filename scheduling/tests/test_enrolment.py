"""Rolling admission: joining and leaving a running series on any date."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from iop.audit.models import AuditEntry
from patients.models import CareTeamRole, Phase
from patients.tests.factories import PatientFactory, admit
from scheduling import selectors
from scheduling.models import Enrolment, Occurrence
from scheduling.services import enrolments as services

TODAY = timezone.localdate


def new_patient(clinic, days_ago=3):
    patient = PatientFactory(site=clinic.site_a)
    return admit(
        patient,
        team={
            CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team,
            CareTeamRole.CASE_MANAGER: clinic.case_manager,
        },
        admitted_on=TODAY() - timedelta(days=days_ago),
    )


def test_a_patient_joins_a_running_series_without_touching_its_occurrences_or_other_enrolments(
    clinic, morning
):
    first = services.enrol(
        actor=clinic.case_manager,
        series=morning,
        episode=clinic.episode,
        joined_on=TODAY() - timedelta(days=10),
    )
    occurrences = list(Occurrence.objects.filter(series=morning).values_list("pk", "starts_at", "version"))
    newcomer = new_patient(clinic)
    joined = services.enrol(actor=clinic.case_manager, series=morning, episode=newcomer, joined_on=TODAY())
    assert (
        list(Occurrence.objects.filter(series=morning).values_list("pk", "starts_at", "version"))
        == occurrences
    )
    first.refresh_from_db()
    assert (first.joined_on, first.left_on) == (TODAY() - timedelta(days=10), None)
    today = Occurrence.objects.get(series=morning, local_date=TODAY())
    yesterday = Occurrence.objects.get(series=morning, local_date=TODAY() - timedelta(days=1))
    assert {r.episode.pk for r in selectors.roster(today, clinic.clinician_on_team)} == {
        clinic.episode.pk,
        newcomer.pk,
    }
    assert {r.episode.pk for r in selectors.roster(yesterday, clinic.clinician_on_team)} == {
        clinic.episode.pk
    }
    assert AuditEntry.objects.filter(
        object_id=str(joined.public_id), patient_public_id=newcomer.patient.public_id
    ).exists()


def test_leaving_takes_the_patient_off_later_rosters_only(clinic, morning):
    enrolment = services.enrol(
        actor=clinic.case_manager,
        series=morning,
        episode=clinic.episode,
        joined_on=TODAY() - timedelta(days=10),
    )
    services.leave(actor=clinic.case_manager, enrolment=enrolment, left_on=TODAY())
    tomorrow = Occurrence.objects.get(series=morning, local_date=TODAY() + timedelta(days=1))
    today = Occurrence.objects.get(series=morning, local_date=TODAY())
    assert selectors.roster(tomorrow, clinic.clinician_on_team) == []
    assert len(selectors.roster(today, clinic.clinician_on_team)) == 1
    # and may come back later: a second, non-overlapping enrolment
    services.enrol(
        actor=clinic.case_manager,
        series=morning,
        episode=clinic.episode,
        joined_on=TODAY() + timedelta(days=3),
    )
    with pytest.raises(ValidationError, match="joined on"):
        services.leave(actor=clinic.case_manager, enrolment=enrolment, left_on=TODAY() - timedelta(days=30))


def test_an_overlapping_enrolment_is_refused(clinic, morning):
    services.enrol(actor=clinic.case_manager, series=morning, episode=clinic.episode, joined_on=TODAY())
    with pytest.raises(ValidationError, match="already enrolled"):
        services.enrol(
            actor=clinic.case_manager,
            series=morning,
            episode=clinic.episode,
            joined_on=TODAY() + timedelta(days=5),
        )
    assert Enrolment.objects.count() == 1


def test_an_enrolment_over_capacity_is_refused_but_a_place_freed_later_can_be_taken(clinic, morning):
    morning.capacity = 2
    morning.save()
    a, b, c = new_patient(clinic), new_patient(clinic), new_patient(clinic)
    services.enrol(actor=clinic.case_manager, series=morning, episode=a, joined_on=TODAY())
    leaving = services.enrol(
        actor=clinic.case_manager,
        series=morning,
        episode=b,
        joined_on=TODAY(),
        left_on=TODAY() + timedelta(days=6),
    )
    with pytest.raises(ValidationError, match="is full"):
        services.enrol(actor=clinic.case_manager, series=morning, episode=c, joined_on=TODAY())
    services.enrol(
        actor=clinic.case_manager, series=morning, episode=c, joined_on=leaving.left_on + timedelta(days=1)
    )


def test_a_series_for_another_phase_needs_a_reason(clinic, morning):
    morning.phases.set(Phase.objects.filter(order=2))
    with pytest.raises(ValidationError, match="give a reason"):
        services.enrol(actor=clinic.case_manager, series=morning, episode=clinic.episode, joined_on=TODAY())
    enrolment = services.enrol(
        actor=clinic.case_manager,
        series=morning,
        episode=clinic.episode,
        joined_on=TODAY(),
        phase_override_reason="Works days; aftercare meanwhile",
    )
    assert AuditEntry.objects.get(object_id=str(enrolment.public_id)).reason.startswith("Enrolled outside")


def test_joining_before_admission_is_refused(clinic, morning):
    with pytest.raises(ValidationError) as refused:
        services.enrol(
            actor=clinic.case_manager,
            series=morning,
            episode=clinic.episode,
            joined_on=clinic.episode.admitted_on - timedelta(days=1),
        )
    assert "joined_on" in refused.value.message_dict


@pytest.mark.parametrize("persona", ["clinician_elsewhere", "peer_support", "medical", "admin_other_site"])
def test_only_the_care_team_and_site_admins_enrol(clinic, morning, persona):
    with pytest.raises(PermissionError):
        services.enrol(
            actor=clinic.persona(persona), series=morning, episode=clinic.episode, joined_on=TODAY()
        )
