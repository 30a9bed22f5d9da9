"""Read queries over sites and staff, scoped to what an admin administers."""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from iop.accounts.models import Site, User


def sites_administered_by(user) -> QuerySet[Site]:
    sites = Site.objects.all()
    if not user.is_superuser:
        sites = sites.filter(pk__in=user.sites.values("pk"))
    active_staff = (
        User.sites.through.objects.filter(site=OuterRef("pk"), user__is_active=True)
        .values("site")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return sites.annotate(staff_count=Coalesce(Subquery(active_staff), 0))


def staff_visible_to(user) -> QuerySet[User]:
    """Staff who work at one of `user`'s sites."""
    users = User.objects.all()
    if not user.is_superuser:
        users = users.filter(sites__in=user.sites.all()).distinct()
    return users.prefetch_related(Prefetch("sites", queryset=Site.objects.only("id", "public_id", "name")))


def colleagues_at(site: Site, *, roles=None) -> QuerySet[User]:
    users = User.objects.filter(sites=site, is_active=True)
    if roles:
        users = users.filter(role__in=roles)
    return users.order_by("last_name", "first_name")
