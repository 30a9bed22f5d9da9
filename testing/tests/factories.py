"""factory_boy factories for testing's tables (test set-up only)."""

from decimal import Decimal

import factory

from testing.models import Analyte, Panel, TestingPolicy


class PanelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Panel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Panel {n}")


class AnalyteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Analyte

    panel = factory.SubFactory(PanelFactory)
    code = factory.Sequence(lambda n: f"analyte{n}")
    name = factory.LazyAttribute(lambda a: a.code.title())
    screen_cutoff = Decimal("50")
    confirmation_cutoff = Decimal("15")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TestingPolicy
        django_get_or_create = ("phase",)

    panel = factory.SubFactory(PanelFactory)
    ramp = 2
