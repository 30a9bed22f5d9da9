"""Factories for patients and episodes (obviously fake people)."""

import datetime

import factory

from patients.default_program import ensure_default_program
from patients.models import CareTeamMember, CareTeamRole, Episode, Patient, Phase, Program


def default_program() -> Program:
    """The seeded program (re-seeded if a transactional test flushed the database)."""
    return ensure_default_program(Program, Phase)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Sequence(lambda n: f"Testpatient{n}")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=70)
    mrn = factory.Sequence(lambda n: f"T{n:08d}")
    site = factory.SubFactory("iop.accounts.tests.factories.SiteFactory")


def admit(
    patient: Patient, *, site=None, team: dict | None = None, admitted_on: datetime.date | None = None
) -> Episode:
    """Admit directly (no service, no audit): test set-up only."""
    program = default_program()
    site = site or patient.site
    admitted_on = admitted_on or datetime.date.today() - datetime.timedelta(days=14)
    episode = Episode.objects.create(
        patient=patient,
        program=program,
        site=site,
        admitted_on=admitted_on,
        current_phase=program.phases.order_by("order").first(),
        phase_started_on=admitted_on,
    )
    for role, user in (team or {}).items():
        CareTeamMember.objects.create(episode=episode, user=user, role=role, assigned_on=admitted_on)
    patient.current_episode = episode
    patient.site = site
    patient.save(update_fields=["current_episode", "site"])
    return episode


__all__ = ["CareTeamRole", "PatientFactory", "admit", "default_program"]
