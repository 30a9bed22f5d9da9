"""Factories for staff and sites (obviously fake people)."""

from functools import lru_cache

import factory
from django.contrib.auth.hashers import make_password

from iop.accounts.models import Role, Site, User

TEST_PASSWORD = "correct-horse-battery-staple"


@lru_cache(maxsize=1)
def hashed_test_password() -> str:
    """Hash once per run: Argon2 is slow on purpose, and every test makes several users."""
    return make_password(TEST_PASSWORD)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Test Site {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = Role.CLINICIAN
    password = factory.LazyFunction(hashed_test_password)

    @factory.post_generation
    def sites(self, create, extracted, **kwargs):
        if create and extracted:
            self.sites.set(extracted)


def api_token_for(user) -> str:
    """A fresh expiring API token (django-rest-knox) for `user`: the `Authorization: Token ...` value."""
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user)[1]
