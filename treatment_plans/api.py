"""REST API of treatment plans: the same services, role rules and audit as the pages.

- Plans are listed per chart (`?patient=` is required) and every list or detail read is a chart
  read in the audit trail; a patient or plan outside the caller's reach is a 404.
- A plan is started with POST /treatment-plans/ (a first draft, problems from templates);
  POST /treatment-plans/{id}/revise/ starts a new draft copied from the active version.
- Versions are read (GET /plan-versions/{id}/: the whole tree and its signatures), submitted
  (POST .../submit/: frozen from then on) and signed (POST .../sign/, with the `content_digest`
  the signer was shown). Nothing changes a version that is not a draft: 400 with the reason.
- Problems, goals, objectives and interventions of a draft are created (POST, naming their
  parent) and removed (DELETE); on any other version the same requests are 400. They have no
  PATCH: every PATCH in this API carries the row version it read, and plan items have none yet.
- Reviews of the active version: POST /plan-reviews/ with progress on every objective.
"""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from iop.accounts.models import User
from iop.core.api_fields import StrictBooleanField
from iop.core.api_schema import UUID_PATH_REGEX
from patients.access import get_visible_patient, visible_patients
from patients.services.records import record_chart_view
from treatment_plans import selectors, services
from treatment_plans.models import (
    Goal,
    Intervention,
    Objective,
    ObjectiveStatus,
    PlanVersion,
    Problem,
    ProblemTemplate,
    ResponsibleRole,
    Review,
    ReviewReason,
    ServiceType,
    Signature,
    SignerRole,
    TreatmentPlan,
)

PATIENT_PARAMETER = OpenApiParameter(
    "patient",
    OpenApiTypes.UUID,
    required=True,
    description="The patient's id (required): plans are listed per chart, and a list is a chart read.",
)


def _patient_from_query(request):
    raw = request.query_params.get("patient", "")
    if not raw:
        raise ApiValidationError({"patient": ["Required: the id of the patient whose plans to list."]})
    try:
        uuid.UUID(raw)
    except ValueError:
        raise ApiValidationError({"patient": ["Must be a patient id (a UUID)."]}) from None
    return get_visible_patient(request.user, raw)


def _patient_of(obj):
    if isinstance(obj, TreatmentPlan):
        return obj.episode.patient
    if isinstance(obj, Review | PlanVersion):
        return obj.plan.episode.patient
    return obj.version.plan.episode.patient


# --- Serializers (read) ---------------------------------------------------------------------


class SignatureSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    signed_by = serializers.UUIDField(source="signed_by.public_id", read_only=True)

    class Meta:
        model = Signature
        fields = ["id", "signer_role", "signer_name", "method", "signed_at", "signed_by", "content_digest"]
        read_only_fields = fields


class InterventionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    objective = serializers.UUIDField(source="objective.public_id")
    responsible_staff = serializers.SlugRelatedField(
        slug_field="public_id", queryset=User.objects.none(), required=False, allow_null=True, default=None
    )
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    responsible_role = serializers.ChoiceField(
        choices=ResponsibleRole.choices, required=False, allow_blank=True, default=""
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    frequency = serializers.CharField(max_length=80)
    duration = serializers.CharField(max_length=80)

    class Meta:
        model = Intervention
        fields = [
            "id",
            "objective",
            "lineage",
            "order",
            "service_type",
            "description",
            "frequency",
            "duration",
            "responsible_role",
            "responsible_staff",
        ]
        read_only_fields = ["id", "lineage", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["responsible_staff"].queryset = User.objects.filter(
                sites__in=request.user.sites.all(), is_active=True
            ).distinct()


class ObjectiveSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    goal = serializers.UUIDField(source="goal.public_id")
    interventions = InterventionSerializer(many=True, read_only=True)
    text = serializers.CharField(max_length=2000)
    measure = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    status = serializers.ChoiceField(choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED)
    progress_percent = serializers.IntegerField(min_value=0, max_value=100, default=0)

    class Meta:
        model = Objective
        fields = [
            "id",
            "goal",
            "lineage",
            "order",
            "text",
            "measure",
            "target_date",
            "status",
            "progress_percent",
            "interventions",
        ]
        read_only_fields = ["id", "lineage", "order", "interventions"]


class GoalSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    problem = serializers.UUIDField(source="problem.public_id")
    objectives = ObjectiveSerializer(many=True, read_only=True)
    text = serializers.CharField(max_length=2000, help_text="In the patient's own words.")

    class Meta:
        model = Goal
        fields = ["id", "problem", "lineage", "order", "text", "objectives"]
        read_only_fields = ["id", "lineage", "order", "objectives"]


class ProblemSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    version = serializers.UUIDField(source="version.public_id")
    template = serializers.SlugRelatedField(
        slug_field="key",
        queryset=ProblemTemplate.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="A problem template's key: its name and description fill a blank title and description.",
    )
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=160)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    asam_dimension = serializers.IntegerField(
        min_value=1, max_value=6, required=False, allow_null=True, default=None
    )
    goals = GoalSerializer(many=True, read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id",
            "version",
            "lineage",
            "order",
            "template",
            "title",
            "description",
            "asam_dimension",
            "goals",
        ]
        read_only_fields = ["id", "lineage", "order", "goals"]


class PlanVersionSummarySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    signatures = SignatureSerializer(many=True, read_only=True)

    class Meta:
        model = PlanVersion
        fields = [
            "id",
            "number",
            "status",
            "change_summary",
            "submitted_at",
            "content_digest",
            "activated_at",
            "superseded_at",
            "created_at",
            "signatures",
        ]
        read_only_fields = fields


class PlanVersionSerializer(PlanVersionSummarySerializer):
    plan = serializers.UUIDField(source="plan.public_id", read_only=True)
    based_on = serializers.UUIDField(source="based_on.public_id", read_only=True, allow_null=True)
    problems = serializers.SerializerMethodField()

    class Meta(PlanVersionSummarySerializer.Meta):
        fields = [*PlanVersionSummarySerializer.Meta.fields, "plan", "based_on", "problems"]
        read_only_fields = fields

    @extend_schema(responses=ProblemSerializer(many=True))
    def get_problems(self, version) -> list:
        return ProblemSerializer(selectors.version_tree(version), many=True).data


class TreatmentPlanSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="episode.patient.public_id", read_only=True)
    episode = serializers.UUIDField(source="episode.public_id", read_only=True)
    versions = PlanVersionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = TreatmentPlan
        fields = [
            "id",
            "patient",
            "episode",
            "initial_due_on",
            "activated_on",
            "last_reviewed_on",
            "next_review_due_on",
            "created_at",
            "versions",
        ]
        read_only_fields = fields


class StartPlanSerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient whose current episode gets the plan.")
    templates = serializers.ListField(
        child=serializers.SlugRelatedField(
            slug_field="key", queryset=ProblemTemplate.objects.filter(is_active=True)
        ),
        required=False,
        default=list,
        max_length=20,
        help_text="Problem template keys to start from (see the library).",
    )


class ChangeSummarySerializer(serializers.Serializer):
    change_summary = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class SignSerializer(serializers.Serializer):
    signer_role = serializers.ChoiceField(choices=SignerRole.choices)
    content_digest = serializers.CharField(
        max_length=64, help_text="The version's `content_digest` as shown to the signer."
    )
    patient_typed_name = serializers.CharField(
        max_length=160,
        required=False,
        allow_blank=True,
        default="",
        help_text="For the patient's signature: the legal name the patient typed, in person.",
    )


class ObjectiveProgressInSerializer(serializers.Serializer):
    objective = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ObjectiveStatus.choices)
    progress_percent = serializers.IntegerField(min_value=0, max_value=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReviewSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    plan = serializers.UUIDField(source="plan.public_id")
    version = serializers.UUIDField(source="version.public_id", read_only=True)
    reviewed_by = serializers.UUIDField(source="reviewed_by.public_id", read_only=True)
    reason = serializers.ChoiceField(choices=ReviewReason.choices, default=ReviewReason.SCHEDULED)
    summary = serializers.CharField(max_length=4000)
    revision_needed = StrictBooleanField(required=False, default=False)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "plan",
            "version",
            "reviewed_on",
            "reason",
            "summary",
            "revision_needed",
            "next_review_due_on",
            "reviewed_by",
            "created_at",
            "progress",
        ]
        read_only_fields = ["id", "version", "next_review_due_on", "reviewed_by", "created_at", "progress"]

    @extend_schema(responses=ObjectiveProgressInSerializer(many=True))
    def get_progress(self, review) -> list:
        return [
            {
                "objective": str(row.objective.public_id),
                "status": row.status,
                "progress_percent": row.progress_percent,
                "note": row.note,
            }
            for row in review.progress.all()
        ]


class ReviewInSerializer(ReviewSerializer):
    progress = ObjectiveProgressInSerializer(many=True, max_length=200)

    class Meta(ReviewSerializer.Meta):
        read_only_fields = ["id", "version", "next_review_due_on", "reviewed_by", "created_at"]


# --- Viewsets -------------------------------------------------------------------------------


class PlanScopedViewSet(viewsets.GenericViewSet):
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []
    patient_path = "episode__patient"

    def scoped(self, queryset):
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(**{f"{self.patient_path}__in": visible_patients(self.request.user)})

    def read(self, instance):
        record_chart_view(actor=self.request.user, patient=_patient_of(instance), section="api")
        return Response(self.get_serializer(instance).data)


class TreatmentPlanViewSet(mixins.CreateModelMixin, PlanScopedViewSet):
    """Treatment plans: one per episode of care; their versions are listed with each plan."""

    queryset = TreatmentPlan.objects.none()
    serializer_class = TreatmentPlanSerializer

    def get_queryset(self):
        return self.scoped(
            TreatmentPlan.objects.select_related("episode__patient").prefetch_related(
                "versions__signatures__signed_by"
            )
        )

    @extend_schema(parameters=[PATIENT_PARAMETER])
    def list(self, request):
        patient = _patient_from_query(request)
        page = self.paginate_queryset(
            self.get_queryset().filter(episode__patient=patient).order_by("-created_at")
        )
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        record_chart_view(actor=request.user, patient=patient, section="api")
        return response

    def retrieve(self, request, public_id=None):
        return self.read(self.get_object())

    @extend_schema(request=StartPlanSerializer, responses={201: TreatmentPlanSerializer})
    def create(self, request):
        body = StartPlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patient = get_visible_patient(request.user, body.validated_data["patient"])
        episode = patient.current_episode
        if episode is None:
            raise ApiValidationError({"patient": ["This patient has not been admitted."]})
        plan = services.start_plan(
            actor=request.user,
            episode=episode,
            template_keys=[t.key for t in body.validated_data["templates"]],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=plan.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=ChangeSummarySerializer, responses={201: PlanVersionSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request, public_id=None):
        plan = self.get_object()
        body = ChangeSummarySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        draft = services.start_revision(
            actor=request.user, plan=plan, change_summary=body.validated_data.get("change_summary", "")
        )
        return Response(PlanVersionSerializer(draft).data, status=status.HTTP_201_CREATED)


class PlanVersionViewSet(PlanScopedViewSet):
    """Plan versions: read with their whole content; submitted for signatures; signed."""

    queryset = PlanVersion.objects.none()
    serializer_class = PlanVersionSerializer
    patient_path = "plan__episode__patient"

    def get_queryset(self):
        return self.scoped(
            PlanVersion.objects.select_related("plan__episode__patient", "based_on").prefetch_related(
                "signatures__signed_by"
            )
        )

    def retrieve(self, request, public_id=None):
        return self.read(self.get_object())

    @extend_schema(request=ChangeSummarySerializer, responses={200: PlanVersionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, public_id=None):
        version = self.get_object()
        body = ChangeSummarySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.submit_for_signatures(
            actor=request.user, version=version, change_summary=body.validated_data.get("change_summary")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=version.pk)).data)

    @extend_schema(request=SignSerializer, responses={201: PlanVersionSerializer})
    @action(detail=True, methods=["post"])
    def sign(self, request, public_id=None):
        version = self.get_object()
        body = SignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.sign_version(
            actor=request.user,
            version=version,
            signer_role=body.validated_data["signer_role"],
            content_digest_shown=body.validated_data["content_digest"],
            patient_typed_name=body.validated_data["patient_typed_name"],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=version.pk)).data, status=status.HTTP_201_CREATED
        )


class PlanItemViewSet(
    mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, PlanScopedViewSet
):
    """A draft's content rows: created under their parent and removed (draft only). To change one,
    remove it and add it again, or use the pages (ADR 0013: no PATCH without a row version)."""

    http_method_names = ["get", "post", "delete", "head", "options"]
    patient_path = "version__plan__episode__patient"
    parent_field = ""  # the body field naming the parent, e.g. "problem"
    parent_model = None

    def get_queryset(self):
        return self.scoped(
            self.serializer_class.Meta.model.objects.select_related("version__plan__episode__patient")
        )

    def retrieve(self, request, *args, **kwargs):
        return self.read(self.get_object())

    def _parent(self, validated):
        reference = validated.pop(self.parent_field)["public_id"]
        path = (
            "plan__episode__patient"
            if self.parent_model is PlanVersion
            else "version__plan__episode__patient"
        )
        found = (
            self.parent_model.objects.select_related(path)
            .filter(public_id=reference, **{f"{path}__in": visible_patients(self.request.user)})
            .first()
        )
        if found is None:
            raise ApiValidationError({self.parent_field: ["No such item in a plan you can see."]})
        return found

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        parent = self._parent(data)
        item = self.add(parent, data)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.remove_item(actor=request.user, item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProblemViewSet(PlanItemViewSet):
    queryset = Problem.objects.none()
    serializer_class = ProblemSerializer
    parent_field, parent_model = "version", PlanVersion

    def add(self, version, data):
        return services.add_problem(actor=self.request.user, version=version, **data)


class GoalViewSet(PlanItemViewSet):
    queryset = Goal.objects.none()
    serializer_class = GoalSerializer
    parent_field, parent_model = "problem", Problem

    def add(self, problem, data):
        return services.add_goal(actor=self.request.user, problem=problem, **data)


class ObjectiveViewSet(PlanItemViewSet):
    queryset = Objective.objects.none()
    serializer_class = ObjectiveSerializer
    parent_field, parent_model = "goal", Goal

    def add(self, goal, data):
        return services.add_objective(actor=self.request.user, goal=goal, **data)


class InterventionViewSet(PlanItemViewSet):
    queryset = Intervention.objects.none()
    serializer_class = InterventionSerializer
    parent_field, parent_model = "objective", Objective

    def add(self, objective, data):
        return services.add_intervention(actor=self.request.user, objective=objective, **data)


class ReviewViewSet(mixins.CreateModelMixin, PlanScopedViewSet):
    """Reviews of the active version, with progress on every objective."""

    queryset = Review.objects.none()
    serializer_class = ReviewSerializer
    patient_path = "plan__episode__patient"

    def get_queryset(self):
        return self.scoped(
            Review.objects.select_related(
                "plan__episode__patient", "version", "reviewed_by"
            ).prefetch_related("progress__objective")
        )

    @extend_schema(parameters=[PATIENT_PARAMETER])
    def list(self, request):
        patient = _patient_from_query(request)
        queryset = self.get_queryset().filter(plan__episode__patient=patient).order_by("-reviewed_on", "-id")
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        record_chart_view(actor=request.user, patient=patient, section="api")
        return response

    def retrieve(self, request, public_id=None):
        return self.read(self.get_object())

    @extend_schema(request=ReviewInSerializer, responses={201: ReviewSerializer})
    def create(self, request):
        body = ReviewInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        plan = TreatmentPlan.objects.filter(
            public_id=data["plan"]["public_id"], episode__patient__in=visible_patients(request.user)
        ).first()
        if plan is None:
            raise ApiValidationError({"plan": ["No such plan among the patients you can see."]})
        review = services.record_review(
            actor=request.user,
            plan=plan,
            reviewed_on=data["reviewed_on"],
            summary=data["summary"],
            reason=data["reason"],
            revision_needed=data.get("revision_needed", False),
            progress={
                row["objective"]: {k: row[k] for k in ("status", "progress_percent", "note")}
                for row in data["progress"]
            },
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=review.pk)).data, status=status.HTTP_201_CREATED
        )


ROUTES = [
    ("treatment-plans", TreatmentPlanViewSet, "treatment-plan"),
    ("plan-versions", PlanVersionViewSet, "plan-version"),
    ("plan-problems", ProblemViewSet, "plan-problem"),
    ("plan-goals", GoalViewSet, "plan-goal"),
    ("plan-objectives", ObjectiveViewSet, "plan-objective"),
    ("plan-interventions", InterventionViewSet, "plan-intervention"),
    ("plan-reviews", ReviewViewSet, "plan-review"),
]
