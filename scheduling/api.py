"""REST API for scheduling: the same services, permissions and audit as the pages (ADR 0010).

Ids are public UUIDs. References (site, room, facilitator, series, episode, occurrence) resolve
within the caller's reach; anything else is a 400 on that field. Lists that name patients
(enrolments, attendance, weekly hours) are audited disclosures, one read per patient.
"""

from datetime import date

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from iop.accounts.models import Site, User
from iop.core import api_fields  # noqa: F401 (strict JSON booleans and strings)
from iop.core.api_schema import UUID_PATH_REGEX
from patients.access import get_visible_patient, visible_patients
from patients.models import Episode, Phase
from patients.services import records as patient_records
from scheduling import hours, permissions, selectors
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    AttendanceStatus,
    Enrolment,
    GroupSeries,
    Occurrence,
    OccurrenceStatus,
    Room,
    SessionKind,
    SessionType,
    TopicCycle,
)
from scheduling.services import appointments as appointment_services
from scheduling.services import attendance as attendance_services
from scheduling.services import catalogue as catalogue_services
from scheduling.services import enrolments as enrolment_services
from scheduling.services import series as series_services

VERSION_HELP = "The version you read; the write is refused with 409 if someone changed the record since."


def _version(data: dict) -> int:
    if "version" not in data:
        raise ApiValidationError({"version": ["Required: " + VERSION_HELP]})
    return data.pop("version")


class ScopedSlugField(serializers.SlugRelatedField):
    """A reference by public id, resolved among the rows `scope(user)` gives the caller."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        kwargs.setdefault("slug_field", "public_id")
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scope(self.context["request"].user)


def _sites(user):
    return Site.objects.all() if user.is_superuser else user.sites.all()


def _staff(user):
    staff = User.objects.filter(is_active=True)
    return staff if user.is_superuser else staff.filter(sites__in=user.sites.all()).distinct()


def _episodes(user):
    return Episode.objects.filter(patient__in=visible_patients(user)).select_related("patient")


# --- Rooms and session types -------------------------------------------------------------------


class RoomSerializer(serializers.ModelSerializer):
    patch_fields = ("name", "capacity", "is_active", "version")
    id = serializers.UUIDField(source="public_id", read_only=True)
    site = ScopedSlugField(_sites)
    capacity = serializers.IntegerField(min_value=1, max_value=500)
    is_active = serializers.BooleanField(required=False, default=True)
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = Room
        fields = ["id", "site", "name", "capacity", "is_active", "version"]


class RoomViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Rooms at the caller's sites. Admins add and change them."""

    queryset = Room.objects.none()
    serializer_class = RoomSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.rooms_for(self.request.user).order_by("site__name", "name", "id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("is_active", None)
        serializer.instance = catalogue_services.create_room(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = _version(data)
        if "site" in data:
            raise ApiValidationError({"site": ["A room stays at its site."]})
        serializer.instance = catalogue_services.update_room(
            actor=self.request.user, room=serializer.instance, expected_version=version, changes=data
        )


class SessionTypeSerializer(serializers.ModelSerializer):
    patch_fields = ("name", "kind", "default_minutes", "counts_toward_clinical_hours", "is_active", "version")
    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = serializers.ChoiceField(choices=SessionKind.choices)
    default_minutes = serializers.IntegerField(min_value=5, max_value=720)
    counts_toward_clinical_hours = serializers.BooleanField(required=False, default=True)
    is_active = serializers.BooleanField(required=False, default=True)
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = SessionType
        fields = [
            "id",
            "name",
            "kind",
            "default_minutes",
            "counts_toward_clinical_hours",
            "is_active",
            "version",
        ]


class SessionTypeViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Session types (group therapy, individual counselling, ...). Admins add and change them."""

    queryset = SessionType.objects.none()
    serializer_class = SessionTypeSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return SessionType.objects.order_by("name", "id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("is_active", None)
        serializer.instance = catalogue_services.create_session_type(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = _version(data)
        serializer.instance = catalogue_services.update_session_type(
            actor=self.request.user, session_type=serializer.instance, expected_version=version, changes=data
        )


# --- Series and occurrences --------------------------------------------------------------------


class GroupSeriesSerializer(serializers.ModelSerializer):
    patch_fields = ("name", "room", "facilitator", "capacity", "ends_on", "is_active", "version")
    id = serializers.UUIDField(source="public_id", read_only=True)
    site = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    session_type = serializers.SlugRelatedField(slug_field="public_id", queryset=SessionType.objects.all())
    room = ScopedSlugField(selectors.rooms_for, help_text="The series meets at the room's site.")
    facilitator = ScopedSlugField(_staff)
    capacity = serializers.IntegerField(min_value=1, max_value=500)
    recurrence_rule = serializers.CharField(
        max_length=255,
        help_text="RFC 5545 RRULE without DTSTART/UNTIL/COUNT, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH",
    )
    start_time = serializers.TimeField(format="%H:%M", help_text="Local time at the site, HH:MM.")
    duration_minutes = serializers.IntegerField(min_value=5, max_value=720)
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    phases = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Phase.objects.all(), many=True, required=False
    )
    topic_cycle = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=TopicCycle.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    is_active = serializers.BooleanField(required=False, default=True)
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = GroupSeries
        fields = [
            "id",
            "site",
            "name",
            "session_type",
            "room",
            "facilitator",
            "capacity",
            "recurrence_rule",
            "start_time",
            "duration_minutes",
            "starts_on",
            "ends_on",
            "phases",
            "topic_cycle",
            "is_active",
            "version",
        ]


class GroupSeriesViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Recurring groups at the caller's sites. Admins and clinicians create and change them;
    creating one generates its occurrences 8 weeks ahead."""

    queryset = GroupSeries.objects.none()
    serializer_class = GroupSeriesSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.series_for(self.request.user).prefetch_related("phases").order_by("name", "id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("is_active", None)
        data["site"] = data["room"].site
        serializer.instance = series_services.create_series(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = _version(data)
        serializer.instance = series_services.update_series(
            actor=self.request.user, series=serializer.instance, expected_version=version, changes=data
        )


class OccurrenceSerializer(serializers.ModelSerializer):
    patch_fields = ("starts_at", "ends_at", "room", "facilitator", "reason", "version")
    id = serializers.UUIDField(source="public_id", read_only=True)
    series = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    room = ScopedSlugField(selectors.rooms_for, required=False)
    facilitator = ScopedSlugField(_staff, required=False)
    status = serializers.ChoiceField(choices=OccurrenceStatus.choices, read_only=True)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = Occurrence
        fields = [
            "id",
            "series",
            "original_start",
            "starts_at",
            "ends_at",
            "local_date",
            "room",
            "facilitator",
            "status",
            "change_reason",
            "topic_index",
            "reason",
            "version",
        ]
        read_only_fields = ["original_start", "local_date", "change_reason", "topic_index"]


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class OccurrenceFilter(django_filters.FilterSet):
    series = django_filters.UUIDFilter(field_name="series__public_id", help_text="A series' id.")
    date_from = django_filters.DateFilter(field_name="local_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="local_date", lookup_expr="lte")

    class Meta:
        model = Occurrence
        fields = ["series", "date_from", "date_to"]


class OccurrenceViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Sessions of the series at the caller's sites. PATCH moves one (time, room) or gives it
    another facilitator; POST .../cancel/ cancels it; POST .../all-present/ takes attendance."""

    queryset = Occurrence.objects.none()
    serializer_class = OccurrenceSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = OccurrenceFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        occurrences = Occurrence.objects.select_related("series", "room", "facilitator").order_by(
            "starts_at", "id"
        )
        if not self.request.user.is_superuser:
            occurrences = occurrences.filter(series__site__in=self.request.user.sites.all())
        return occurrences

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = _version(data)
        serializer.instance = series_services.change_occurrence(
            actor=self.request.user, occurrence=serializer.instance, expected_version=version, **data
        )

    @extend_schema(request=CancelSerializer, responses={200: OccurrenceSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        occurrence = series_services.cancel_occurrence(
            actor=request.user,
            occurrence=self.get_object(),
            expected_version=body.validated_data["version"],
            reason=body.validated_data["reason"],
        )
        return Response(OccurrenceSerializer(occurrence, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={
            200: {"type": "object", "properties": {"marked": {"type": "integer"}}, "required": ["marked"]}
        },
    )
    @action(detail=True, methods=["post"], url_path="all-present")
    def all_present(self, request, public_id=None):
        marked = attendance_services.mark_all_present(actor=request.user, occurrence=self.get_object())
        return Response({"marked": marked})


# --- Enrolments and attendance -----------------------------------------------------------------


class EnrolmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    series = ScopedSlugField(lambda user: selectors.series_for(user))
    episode = ScopedSlugField(_episodes)
    patient = serializers.UUIDField(source="episode.patient.public_id", read_only=True)
    left_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Inclusive; null: ongoing."
    )
    phase_override_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200
    )

    class Meta:
        model = Enrolment
        fields = ["id", "series", "episode", "patient", "joined_on", "left_on", "phase_override_reason"]


class LeaveSerializer(serializers.Serializer):
    left_on = serializers.DateField(help_text="The last day on the rosters (inclusive).")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class EnrolmentFilter(django_filters.FilterSet):
    series = django_filters.UUIDFilter(field_name="series__public_id")
    patient = django_filters.UUIDFilter(field_name="episode__patient__public_id")

    class Meta:
        model = Enrolment
        fields = ["series", "patient"]


class DisclosingListMixin:
    """A list naming patients is a disclosure: one audited read per patient on the page."""

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        patient_records.record_list_disclosure(
            actor=request.user, patients=[row.episode.patient for row in page], section=f"api.{self.basename}"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        patient_records.record_chart_view(
            actor=request.user, patient=instance.episode.patient, section="api.schedule"
        )
        return Response(self.get_serializer(instance).data)


class EnrolmentViewSet(DisclosingListMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Enrolments of the patients the caller sees. POST enrols from any date (rolling admission);
    POST .../leave/ ends one."""

    queryset = Enrolment.objects.none()
    serializer_class = EnrolmentSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = EnrolmentFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return (
            Enrolment.objects.filter(episode__patient__in=visible_patients(self.request.user))
            .select_related("series", "episode__patient")
            .order_by("-joined_on", "id")
        )

    def perform_create(self, serializer):
        serializer.instance = enrolment_services.enrol(actor=self.request.user, **serializer.validated_data)

    @extend_schema(request=LeaveSerializer, responses={200: EnrolmentSerializer})
    @action(detail=True, methods=["post"])
    def leave(self, request, public_id=None):
        body = LeaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enrolment = enrolment_services.leave(
            actor=request.user,
            enrolment=self.get_object(),
            left_on=body.validated_data["left_on"],
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(enrolment).data)


class AttendanceSerializer(serializers.ModelSerializer):
    patch_fields = ("status", "minutes_attended", "version")
    id = serializers.UUIDField(source="public_id", read_only=True)
    occurrence = ScopedSlugField(
        lambda user: (
            Occurrence.objects.all()
            if user.is_superuser
            else Occurrence.objects.filter(series__site__in=user.sites.all())
        )
    )
    episode = ScopedSlugField(
        lambda user: Episode.objects.filter(site__in=_sites(user)).select_related("patient")
    )
    patient = serializers.UUIDField(source="episode.patient.public_id", read_only=True)
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    minutes_attended = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=720, help_text="Default: the whole session."
    )
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "occurrence",
            "episode",
            "patient",
            "status",
            "minutes_attended",
            "session_minutes",
            "local_date",
            "counts_toward_clinical_hours",
            "version",
        ]
        read_only_fields = ["session_minutes", "local_date", "counts_toward_clinical_hours"]


class AttendanceFilter(django_filters.FilterSet):
    occurrence = django_filters.UUIDFilter(field_name="occurrence__public_id")
    patient = django_filters.UUIDFilter(field_name="episode__patient__public_id")

    class Meta:
        model = Attendance
        fields = ["occurrence", "patient"]


class AttendanceViewSet(
    DisclosingListMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Attendance the caller may see: of the patients they see, and at the sessions they
    facilitate. POST records one patient (a second POST for them is a 409); PATCH changes it."""

    queryset = Attendance.objects.none()
    serializer_class = AttendanceSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = AttendanceFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        rows = Attendance.objects.select_related("occurrence", "appointment", "episode__patient").order_by(
            "-local_date", "id"
        )
        if user.is_superuser:
            return rows
        mine = Q(episode__patient__in=visible_patients(user)) | Q(
            occurrence__facilitator=user, occurrence__series__site__in=user.sites.all()
        )
        return rows.filter(mine)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row = attendance_services.record_attendance(
            actor=request.user,
            occurrence=data["occurrence"],
            episode=data["episode"],
            status=data["status"],
            minutes_attended=data.get("minutes_attended"),
        )
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = _version(data)
        unsupported = set(data) - {"status", "minutes_attended"}
        if unsupported:
            raise ApiValidationError({name: ["Cannot be changed here."] for name in sorted(unsupported)})
        row = serializer.instance
        if row.occurrence_id is None:
            raise ApiValidationError(
                {"detail": "Appointment attendance is not recorded through the API yet."}
            )
        serializer.instance = attendance_services.record_attendance(
            actor=self.request.user,
            occurrence=row.occurrence,
            episode=row.episode,
            status=data.get("status", row.status),
            minutes_attended=data.get("minutes_attended"),
            expected_version=version,
        )


# --- Appointments ------------------------------------------------------------------------------


class AppointmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    episode = ScopedSlugField(_episodes)
    patient = serializers.UUIDField(source="episode.patient.public_id", read_only=True)
    session_type = serializers.SlugRelatedField(slug_field="public_id", queryset=SessionType.objects.all())
    staff = ScopedSlugField(_staff)
    room = ScopedSlugField(selectors.rooms_for, required=False, allow_null=True, default=None)
    minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=5, max_value=720, help_text="Default: the type's length."
    )
    repeat_weeks = serializers.IntegerField(
        write_only=True,
        required=False,
        default=0,
        min_value=0,
        max_value=26,
        help_text="Also book the same weekday and local time for this many more weeks.",
    )
    family_members = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, read_only=True)
    recurrence_key = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "episode",
            "patient",
            "session_type",
            "staff",
            "room",
            "starts_at",
            "ends_at",
            "minutes",
            "local_date",
            "family_members",
            "status",
            "recurrence_key",
            "repeat_weeks",
            "version",
        ]
        read_only_fields = ["ends_at", "local_date", "version"]


class AppointmentAttendanceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    minutes_attended = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=720)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The attendance's version when changing it (leave out the first time).",
    )


class AppointmentFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="episode__patient__public_id")
    date_from = django_filters.DateFilter(field_name="local_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="local_date", lookup_expr="lte")

    class Meta:
        model = Appointment
        fields = ["patient", "date_from", "date_to"]


class AppointmentViewSet(DisclosingListMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Individual and family appointments of the patients the caller sees, and their own.
    POST books (201 with the first; `repeat_weeks` books more); POST .../cancel/ cancels one;
    POST .../attendance/ records whether the patient came."""

    queryset = Appointment.objects.none()
    serializer_class = AppointmentSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = AppointmentFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        rows = Appointment.objects.select_related(
            "episode__patient", "session_type", "staff", "room"
        ).order_by("starts_at", "id")
        if user.is_superuser:
            return rows
        return rows.filter(
            Q(episode__patient__in=visible_patients(user)) | Q(staff=user, site__in=user.sites.all())
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        booked = appointment_services.book_appointment(actor=request.user, **data)
        return Response(self.get_serializer(booked[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CancelSerializer, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        appointment = appointment_services.cancel_appointment(
            actor=request.user,
            appointment=self.get_object(),
            expected_version=body.validated_data["version"],
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=AppointmentAttendanceSerializer, responses={200: AttendanceSerializer})
    @action(detail=True, methods=["post"])
    def attendance(self, request, public_id=None):
        body = AppointmentAttendanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = appointment_services.record_appointment_attendance(
            actor=request.user,
            appointment=self.get_object(),
            status=body.validated_data["status"],
            minutes_attended=body.validated_data.get("minutes_attended"),
            expected_version=body.validated_data.get("version"),
        )
        return Response(AttendanceSerializer(row, context=self.get_serializer_context()).data)


# --- A patient's weekly hours ------------------------------------------------------------------


class WeeklyHoursSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    week_start = serializers.DateField()
    sessions_scheduled = serializers.IntegerField()
    sessions_attended = serializers.IntegerField()
    scheduled_hours = serializers.DecimalField(max_digits=5, decimal_places=1)
    attended_hours = serializers.DecimalField(max_digits=5, decimal_places=1)
    required_hours = serializers.DecimalField(max_digits=5, decimal_places=1)
    required_sessions = serializers.IntegerField()
    attendance_rate = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    billable_days = serializers.ListField(child=serializers.DateField())
    scheduled_meets_requirement = serializers.BooleanField()
    attended_meets_requirement = serializers.BooleanField()


class WeeklyHoursViewSet(viewsets.GenericViewSet):
    """A patient's clinical hours in one week (their current episode) against their phase's
    requirement, with the attendance rate and billable days. A chart read (audited)."""

    serializer_class = WeeklyHoursSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "week_of", date, description="Any day of the week (default: this week).", required=False
            )
        ]
    )
    def retrieve(self, request, public_id=None):
        permissions.require(permissions.may_read_schedules(request.user), "read schedules")
        raw = request.query_params.get("week_of")
        try:
            week_of = hours.parse_day(raw) if raw is not None else timezone.localdate()
        except ValueError:
            raise ApiValidationError({"week_of": ["A date: YYYY-MM-DD."]}) from None
        patient = get_visible_patient(request.user, public_id)
        episode = (
            Episode.objects.select_related("current_phase").filter(pk=patient.current_episode_id).first()
        )
        if episode is None:
            raise ApiValidationError({"detail": "The patient has no episode of care."})
        patient_records.record_chart_view(actor=request.user, patient=patient, section="api.weekly_hours")
        summary = selectors.weekly_hours(episode, week_of=week_of)
        data = {
            "patient": patient.public_id,
            "week_start": summary.week_start,
            "sessions_scheduled": summary.sessions_scheduled,
            "sessions_attended": summary.sessions_attended,
            "scheduled_hours": summary.scheduled_hours,
            "attended_hours": summary.attended_hours,
            "required_hours": summary.required_hours,
            "required_sessions": summary.required_sessions,
            "attendance_rate": summary.attendance_rate,
            "billable_days": list(summary.billable_days),
            "scheduled_meets_requirement": summary.scheduled_meets_requirement,
            "attended_meets_requirement": summary.attended_meets_requirement,
        }
        return Response(WeeklyHoursSerializer(data).data)


ROUTES = [
    ("rooms", RoomViewSet, "room"),
    ("session-types", SessionTypeViewSet, "session-type"),
    ("group-series", GroupSeriesViewSet, "group-series"),
    ("occurrences", OccurrenceViewSet, "occurrence"),
    ("enrolments", EnrolmentViewSet, "enrolment"),
    ("attendance", AttendanceViewSet, "attendance"),
    ("appointments", AppointmentViewSet, "appointment"),
    ("weekly-hours", WeeklyHoursViewSet, "weekly-hours"),
]
