"""REST API for patients, episodes and programs: the same access rules, services and audit."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from iop.accounts.models import Site
from iop.accounts.permissions import may_register_patients
from iop.accounts.selectors import staff_visible_to
from iop.core.api_fields import StrictBooleanField
from iop.core.api_schema import UUID_PATH_REGEX
from iop.core.text_limits import NOTE_MAX
from patients.access import get_visible_patient
from patients.filters import PatientFilter
from patients.models import CareTeamMember, CareTeamRole, DischargeReason, Episode, Patient, Phase, Program
from patients.selectors import active_programs, patient_rows_for_api, visible_episodes
from patients.services import records as services
from patients.services.records import PATIENT_EDITABLE_FIELDS

VERSION_HELP = "The version you read; the write is refused with 409 if someone changed the record since."


class PhaseSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Phase
        fields = [
            "id",
            "order",
            "name",
            "description",
            "min_weeks",
            "sessions_per_week",
            "min_hours_per_week",
            "tests_per_week",
            "max_days_untested",
            "attendance_threshold_percent",
            "advancement_criteria",
        ]

    def to_representation(self, instance):
        # A list names the same few phases on every row: each is represented once per response
        # (this field object lives for one response).
        represented = self.__dict__.setdefault("_represented", {})
        if instance.pk not in represented:
            represented[instance.pk] = super().to_representation(instance)
        return represented[instance.pk]


class ProgramSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    phases = PhaseSerializer(many=True, read_only=True)

    class Meta:
        model = Program
        fields = ["id", "name", "level_of_care", "description", "is_active", "phases"]


class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Program.objects.none()  # for the schema; get_queryset scopes per user
    lookup_value_regex = UUID_PATH_REGEX
    serializer_class = ProgramSerializer
    lookup_field = "public_id"
    filter_backends = []

    def get_queryset(self):
        return active_programs()


class PatientSerializer(serializers.ModelSerializer):
    patch_fields = (*PATIENT_EDITABLE_FIELDS, "version")  # the site changes through admission
    id = serializers.UUIDField(source="public_id", read_only=True)
    site = serializers.SlugRelatedField(slug_field="public_id", queryset=Site.objects.all())
    current_episode = serializers.UUIDField(
        source="current_episode.public_id", read_only=True, allow_null=True
    )
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            *PATIENT_EDITABLE_FIELDS,
            "site",
            "current_episode",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["mrn", "created_at", "updated_at"]


class PatientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Patients the caller may see. Reading one is a chart read and is audited."""

    queryset = Patient.objects.none()  # for the schema; get_queryset scopes per user
    lookup_value_regex = UUID_PATH_REGEX
    serializer_class = PatientSerializer
    lookup_field = "public_id"
    filterset_class = PatientFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return patient_rows_for_api(self.request.user)

    def get_object(self):
        patient = get_visible_patient(self.request.user, self.kwargs["public_id"])
        self.check_object_permissions(self.request, patient)
        return patient

    def list(self, request, *args, **kwargs):
        """Each row is identifiable: one audited disclosure per patient on the page."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        services.record_list_disclosure(actor=request.user, patients=page, section="api.patients")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        services.record_chart_view(actor=request.user, patient=patient, section="api.patient")
        return Response(self.get_serializer(patient).data)

    def _require_writer(self):
        if not may_register_patients(self.request.user):
            raise PermissionError("Your role may not register or edit patients.")

    def perform_create(self, serializer):
        self._require_writer()
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.register_patient(actor=self.request.user, **data)

    def perform_update(self, serializer):
        self._require_writer()
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise ApiValidationError({"version": ["Required: " + VERSION_HELP]})
        version = data.pop("version")
        if "site" in data and data.pop("site") != serializer.instance.site:
            raise ApiValidationError({"site": ["A patient's site changes through admission, not here."]})
        serializer.instance = services.update_patient(
            actor=self.request.user, patient=serializer.instance, expected_version=version, changes=data
        )


class CareTeamMemberSerializer(serializers.Serializer):
    user = serializers.UUIDField(source="user.public_id")
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    role = serializers.ChoiceField(choices=CareTeamRole.choices)
    assigned_on = serializers.DateField(read_only=True)
    ended_on = serializers.DateField(read_only=True, allow_null=True, help_text="null while current.")


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            role: {"type": "string", "format": "uuid", "nullable": True} for role in CareTeamRole.values
        },
        "additionalProperties": False,
        "example": {"primary_clinician": "staff public id", "case_manager": "staff public id"},
    }
)
class CareTeamAssignmentField(serializers.DictField):
    """{care-team role: staff public id (or null to end that role)}."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.UUIDField(allow_null=True), **kwargs)

    def to_internal_value(self, data):
        assignments = super().to_internal_value(data)
        errors, resolved = {}, {}
        for role, public_id in assignments.items():
            if role not in CareTeamRole.values:
                errors[role] = f"Unknown care-team role; use one of {', '.join(CareTeamRole.values)}."
                continue
            if public_id is None:
                resolved[role] = None
                continue
            user = staff_visible_to(self.context["request"].user).filter(public_id=public_id).first()
            if user is None:
                errors[role] = "No such staff member."
            resolved[role] = user
        if errors:
            raise serializers.ValidationError(errors)
        return resolved


class EpisodeSerializer(serializers.ModelSerializer):
    patch_fields = ("care_team_assignments", "acknowledge_concerns", "version")  # see perform_update
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id")
    program = serializers.SlugRelatedField(slug_field="public_id", queryset=Program.objects.all())
    site = serializers.SlugRelatedField(slug_field="public_id", queryset=Site.objects.all())
    current_phase = PhaseSerializer(read_only=True)
    care_team = serializers.SerializerMethodField()
    care_team_assignments = CareTeamAssignmentField(write_only=True, required=False)
    acknowledge_concerns = StrictBooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Admit despite the intake's concerns (a 400 lists them); needs `admission_note`.",
    )
    discharge_reason = serializers.ChoiceField(
        choices=DischargeReason.choices, allow_blank=True, read_only=True, help_text='"" until discharge.'
    )
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = Episode
        fields = [
            "id",
            "patient",
            "program",
            "site",
            "status",
            "admitted_on",
            "discharged_on",
            "discharge_reason",
            "current_phase",
            "phase_started_on",
            "care_team",
            "care_team_assignments",
            "acknowledge_concerns",
            "admission_note",
            "version",
        ]
        read_only_fields = ["status", "discharged_on", "discharge_reason", "phase_started_on"]
        extra_kwargs = {"admission_note": {"max_length": NOTE_MAX}}

    @extend_schema_field(CareTeamMemberSerializer(many=True))
    def get_care_team(self, episode):
        return [current_member_row(m) for m in episode.care_team.all() if m.ended_on is None]


def current_member_row(member: CareTeamMember) -> dict:
    """`CareTeamMemberSerializer`'s representation of a current member (the schema), written
    directly: a list page has 50 episodes with 2-3 members each, and running a serializer's
    five fields per member was a quarter of the page's CPU (ADR 0009). A test holds the two equal."""
    return {
        "user": str(member.user.public_id),
        "name": member.user.get_full_name(),
        "role": str(member.role),
        "assigned_on": member.assigned_on.isoformat(),
        "ended_on": None,
    }


class EpisodeViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Episodes of care. POST admits a patient; PATCH changes the care team."""

    queryset = Episode.objects.none()  # for the schema; get_queryset scopes per user
    lookup_value_regex = UUID_PATH_REGEX
    serializer_class = EpisodeSerializer
    lookup_field = "public_id"
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return visible_episodes(self.request.user)

    def list(self, request, *args, **kwargs):
        """Each episode names its patient: one audited disclosure per patient on the page."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        services.record_list_disclosure(
            actor=request.user, patients=[episode.patient for episode in page], section="api.episodes"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        episode = self.get_object()
        services.record_chart_view(actor=request.user, patient=episode.patient, section="api.episode")
        return Response(self.get_serializer(episode).data)

    @extend_schema(
        description="Admit a patient: opens an episode in Phase 1 with its care team "
        "(`care_team_assignments` must name a primary_clinician)."
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @transaction.atomic
    def perform_create(self, serializer):
        data = serializer.validated_data
        patient = get_visible_patient(self.request.user, data["patient"]["public_id"])
        serializer.instance = services.admit_patient(
            actor=self.request.user,
            patient=patient,
            program=data["program"],
            site=data["site"],
            admitted_on=data["admitted_on"],
            care_team=data.get("care_team_assignments", {}),
            acknowledge_concerns=data.get("acknowledge_concerns", False),
            admission_note=data.get("admission_note", ""),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        unsupported = set(data) - {"care_team_assignments", "version", "acknowledge_concerns"}
        if unsupported:
            raise ApiValidationError({name: ["Cannot be changed here."] for name in sorted(unsupported)})
        if "version" not in data:
            raise ApiValidationError({"version": ["Required: " + VERSION_HELP]})
        serializer.instance = services.set_care_team(
            actor=self.request.user,
            episode=serializer.instance,
            expected_version=data["version"],
            care_team=data.get("care_team_assignments", {}),
        )


ROUTES = [
    ("programs", ProgramViewSet, "program"),
    ("patients", PatientViewSet, "patient"),
    ("episodes", EpisodeViewSet, "episode"),
]
