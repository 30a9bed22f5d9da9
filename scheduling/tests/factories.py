"""Factories for scheduling (set-up only: no services, no audit)."""

from datetime import time, timedelta

import factory
from django.utils import timezone

from iop.accounts.tests.factories import SiteFactory, UserFactory
from scheduling.models import GroupSeries, Room, SessionType


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    capacity = 14


def group_therapy() -> SessionType:
    return SessionType.objects.get_or_create(
        name="Group therapy", defaults={"kind": "group", "default_minutes": 90}
    )[0]


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupSeries
        skip_postgeneration_save = True

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Phase 1 track {n}")
    session_type = factory.LazyFunction(group_therapy)
    room = factory.SubFactory(RoomFactory, site=factory.SelfAttribute("..site"))
    facilitator = factory.SubFactory(UserFactory)
    capacity = 12
    recurrence_rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH"
    start_time = time(9)
    duration_minutes = 180
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=28))
    ends_on = None
