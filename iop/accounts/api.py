"""Read-only API over sites and staff, for integrators assigning care teams."""

from rest_framework import serializers, viewsets

from iop.accounts.models import Site, User
from iop.accounts.selectors import staff_visible_to


class SiteSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    timezone = serializers.CharField(read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "timezone", "operating_days", "daily_draw_time", "is_active"]


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """The sites the caller works at."""

    queryset = Site.objects.none()  # for the schema; get_queryset scopes per user
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = SiteSerializer
    lookup_field = "public_id"
    filter_backends = []

    def get_queryset(self):
        user = self.request.user
        return Site.objects.all() if user.is_superuser else user.sites.all()


class StaffSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    sites = serializers.SlugRelatedField(slug_field="public_id", many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "role",
            "is_clinical_supervisor",
            "credentials",
            "is_active",
            "sites",
        ]


class StaffViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff who work at one of the caller's sites."""

    queryset = User.objects.none()  # for the schema; get_queryset scopes per user
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = StaffSerializer
    lookup_field = "public_id"
    filter_backends = []

    def get_queryset(self):
        return staff_visible_to(self.request.user).order_by("last_name", "first_name", "username")
