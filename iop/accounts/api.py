"""Read-only API over sites and staff, for integrators assigning care teams."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from iop.accounts.models import Site, User
from iop.accounts.selectors import staff_visible_to
from iop.core.api_schema import UUID_PATH_REGEX


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?$",
        "example": "05:30:00",
    }
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the site's own zone: HH:MM[:SS], no UTC offset (OpenAPI's `time`
    format is RFC 3339's full-time, which needs one, so the schema gives the pattern instead)."""


class SiteSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    daily_draw_time = LocalTimeField(
        read_only=True, help_text="Local time of the daily random test draw, before opening."
    )
    timezone = serializers.CharField(read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "timezone", "operating_days", "daily_draw_time", "is_active"]


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """The sites the caller works at."""

    queryset = Site.objects.none()  # for the schema; get_queryset scopes per user
    lookup_value_regex = UUID_PATH_REGEX
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
    lookup_value_regex = UUID_PATH_REGEX
    serializer_class = StaffSerializer
    lookup_field = "public_id"
    filter_backends = []

    def get_queryset(self):
        return staff_visible_to(self.request.user).order_by("last_name", "first_name", "username")
