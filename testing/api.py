"""REST API for drug and alcohol testing: the same access rules, services and audit as the pages.

Policies and draws are read-only here (policies are edited by admins in the admin screens; a
draw is never written by anyone but the draw itself). Orders, collections and results are read
and written under the same rules as the pages; results are a restricted data class
(peer support: 403 on lists, 404 on details, ADR 0008).
"""

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from iop.accounts.permissions import may_manage_clinic
from iop.core.api_schema import UUID_PATH_REGEX
from patients.access import DataClass, get_visible_patient, require_data_class, visible_patients
from patients.api.screening import AuditedReadMixin
from patients.services import records as record_services
from testing import selectors
from testing.models import (
    AnalyteResult,
    CollectionOutcome,
    Draw,
    DrugTestOrder,
    OrderKind,
    ResponseAction,
    ResultOutcome,
    ResultReview,
    ResultStage,
    SelfReportedUse,
    Specimen,
    SpecimenType,
    Substance,
    TestingPolicy,
)
from testing.services import collection, self_reports


def _service_errors(error: DjangoValidationError) -> dict:
    if hasattr(error, "message_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


# --- Policies ----------------------------------------------------------------------------------


class AnalyteSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    screen_cutoff = serializers.DecimalField(max_digits=10, decimal_places=3, read_only=True)
    confirmation_cutoff = serializers.DecimalField(
        max_digits=10, decimal_places=3, read_only=True, allow_null=True
    )
    unit = serializers.CharField(read_only=True)
    explained_by = serializers.ListField(child=serializers.CharField(), read_only=True)


class TestingPolicySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    phase = serializers.UUIDField(source="phase.public_id", read_only=True)
    phase_name = serializers.CharField(source="phase.name", read_only=True)
    tests_per_week = serializers.DecimalField(
        source="phase.tests_per_week", max_digits=3, decimal_places=1, read_only=True
    )
    max_days_untested = serializers.IntegerField(source="phase.max_days_untested", read_only=True)
    panel = serializers.CharField(source="panel.name", read_only=True)
    analytes = AnalyteSerializer(source="panel.analytes", many=True, read_only=True)

    class Meta:
        model = TestingPolicy
        fields = [
            "id",
            "phase",
            "phase_name",
            "tests_per_week",
            "max_days_untested",
            "ramp",
            "panel",
            "analytes",
            "specimen_type",
            "include_etg",
            "observed_collection",
            "refusal_counts_as",
            "no_show_counts_as",
            "check_in_by",
        ]
        read_only_fields = fields


class TestingPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """Testing policies per program phase (no patient data)."""

    queryset = TestingPolicy.objects.none()  # for the schema
    serializer_class = TestingPolicySerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []

    def get_queryset(self):
        return (
            TestingPolicy.objects.select_related("phase", "panel")
            .prefetch_related("panel__analytes")
            .order_by("phase__program", "phase__order")
        )


# --- Draws -------------------------------------------------------------------------------------


class DrawSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    site = serializers.UUIDField(source="site.public_id", read_only=True)
    key_commitment = serializers.CharField(source="key.commitment", read_only=True)
    key = serializers.SerializerMethodField(
        help_text="The month key (hex), once the month has ended; else null."
    )

    class Meta:
        model = Draw
        fields = [
            "id",
            "site",
            "date",
            "algorithm_version",
            "nonce",
            "snapshot_hash",
            "pool_size",
            "selected_count",
            "trigger",
            "reason",
            "key_commitment",
            "key",
            "created_at",
        ]
        read_only_fields = fields

    def get_key(self, draw) -> str | None:
        return draw.key.secret if draw.key.revealed_at else None


class DrawViewSet(viewsets.ReadOnlyModelViewSet):
    """The daily draws at the admin's sites (others see none). Pseudonymous: no patient data."""

    queryset = Draw.objects.none()  # for the schema
    serializer_class = DrawSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []

    def get_queryset(self):
        if not may_manage_clinic(self.request.user):
            return Draw.objects.none()
        return selectors.draws_for(self.request.user)


# --- Orders ------------------------------------------------------------------------------------


class OrderSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    site = serializers.UUIDField(source="site.public_id", read_only=True)
    reason = serializers.SerializerMethodField(
        help_text="Why a for-cause test was ordered; empty for roles that do not read drug test results."
    )

    def get_reason(self, order) -> str:
        request = self.context.get("request")
        if request is not None and not selectors.may_see_results(request.user):
            return ""  # minimum necessary (ADR 0008): peer support sees that a test was ordered
        return order.reason

    class Meta:
        model = DrugTestOrder
        fields = [
            "id",
            "patient",
            "site",
            "kind",
            "reason",
            "due_on",
            "specimen_type",
            "observed_required",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class OrderCreateSerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient's id.")
    kind = serializers.ChoiceField(
        choices=[(k, label) for k, label in OrderKind.choices if k != OrderKind.RANDOM],
        help_text="Random tests come only from the daily draw.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    due_on = serializers.DateField()
    specimen_type = serializers.ChoiceField(choices=SpecimenType.choices, required=False, default="urine")
    observed_required = serializers.BooleanField(required=False, default=False)


class OrderFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id", help_text="A patient's id.")

    class Meta:
        model = DrugTestOrder
        fields = ["patient"]


class OrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Drug test orders of the patients the caller sees (everyone who sees the patient reads
    them, like the schedule). POST orders a for-cause, baseline or scheduled test (clinicians and
    medical staff on the care team). Reads are audited per patient."""

    queryset = DrugTestOrder.objects.none()  # for the schema
    serializer_class = OrderSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = OrderFilter

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        record_services.record_chart_views(
            actor=request.user, patients=[row.patient for row in page], section="api"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        order = self.get_object()
        record_services.record_chart_view(actor=request.user, patient=order.patient, section="api")
        return Response(self.get_serializer(order).data)

    def get_queryset(self):
        return (
            DrugTestOrder.objects.filter(patient__in=visible_patients(self.request.user))
            .select_related("patient", "site")
            .order_by("-due_on", "-created_at", "pk")
        )

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer})
    def create(self, request, *args, **kwargs):
        body = OrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        patient = get_visible_patient(request.user, data.pop("patient"))
        try:
            order = collection.order_test(actor=request.user, patient=patient, **data)
        except DjangoValidationError as error:
            raise ApiValidationError(_service_errors(error)) from None
        return Response(
            OrderSerializer(order, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


# --- Specimens (collections) -------------------------------------------------------------------


class SpecimenSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    order = serializers.UUIDField(source="order.public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)

    class Meta:
        model = Specimen
        fields = [
            "id",
            "order",
            "patient",
            "outcome",
            "counts_as_positive",
            "collected_at",
            "specimen_type",
            "observed",
            "temperature_c",
            "temperature_in_range",
            "chain_of_custody_number",
            "creatinine",
            "specific_gravity",
            "ph",
            "nitrite",
            "foreign_substance",
            "validity",
            "validity_findings",
        ]
        read_only_fields = fields


class CollectionSerializer(serializers.Serializer):
    order = serializers.UUIDField(help_text="The order's id.")
    outcome = serializers.ChoiceField(choices=CollectionOutcome.choices)
    collected_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    specimen_type = serializers.ChoiceField(choices=SpecimenType.choices, required=False)
    observed = serializers.BooleanField(required=False, default=False)
    temperature_c = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True, min_value=0
    )
    chain_of_custody_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    creatinine = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    specific_gravity = serializers.DecimalField(
        max_digits=6, decimal_places=4, required=False, allow_null=True, min_value=0
    )
    ph = serializers.DecimalField(
        max_digits=4, decimal_places=2, required=False, allow_null=True, min_value=0, max_value=14
    )
    nitrite = serializers.DecimalField(
        max_digits=8, decimal_places=1, required=False, allow_null=True, min_value=0
    )
    foreign_substance = serializers.BooleanField(required=False, default=False)
    self_report = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SpecimenFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id", help_text="A patient's id.")

    class Meta:
        model = Specimen
        fields = ["patient"]


class SpecimenViewSet(AuditedReadMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Collections (with validity) of the patients the caller sees. POST records a collection,
    refusal, no-show or inability to provide against an open order."""

    queryset = Specimen.objects.none()  # for the schema
    serializer_class = SpecimenSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = SpecimenFilter
    data_class = DataClass.DRUG_TEST_RESULTS

    def get_queryset(self):
        return self.readable(
            Specimen.objects.filter(patient__in=visible_patients(self.request.user))
            .select_related("patient", "order")
            .order_by("-collected_at", "pk")
        )

    @extend_schema(request=CollectionSerializer, responses={201: SpecimenSerializer})
    def create(self, request, *args, **kwargs):
        body = CollectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        order = DrugTestOrder.objects.filter(
            public_id=data.pop("order"), patient__in=visible_patients(request.user)
        ).first()
        if order is None:
            raise ApiValidationError({"order": ["No such order."]})
        try:
            specimen = collection.record_collection(actor=request.user, order=order, **data)
        except DjangoValidationError as error:
            raise ApiValidationError(_service_errors(error)) from None
        return Response(SpecimenSerializer(specimen).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: serializers.ListSerializer(child=serializers.UUIDField())})
    @action(detail=True, methods=["post"])
    def finalise(self, request, public_id=None):
        """A clinician finalises the specimen's entered results (then immutable)."""
        specimen = self.get_object()
        try:
            results = collection.finalise_results(actor=request.user, specimen=specimen)
        except DjangoValidationError as error:
            raise ApiValidationError(_service_errors(error)) from None
        return Response([str(result.public_id) for result in results])


# --- Results -----------------------------------------------------------------------------------


class ResultSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    specimen = serializers.UUIDField(source="specimen.public_id", read_only=True)
    patient = serializers.UUIDField(source="specimen.patient.public_id", read_only=True)
    analyte = serializers.CharField(source="analyte.code", read_only=True)
    amends = serializers.UUIDField(source="amends.public_id", read_only=True, allow_null=True)
    final = serializers.SerializerMethodField()

    class Meta:
        model = AnalyteResult
        fields = [
            "id",
            "specimen",
            "patient",
            "analyte",
            "stage",
            "device_or_assay",
            "lot",
            "cutoff",
            "value",
            "unit",
            "outcome",
            "expected",
            "expected_because",
            "final",
            "amends",
            "amendment_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_final(self, result) -> bool:
        return result.finalised_at is not None


class ResultCreateSerializer(serializers.Serializer):
    specimen = serializers.UUIDField(help_text="The specimen's id.")
    analyte = serializers.CharField(max_length=40, help_text="The analyte's code on the order's panel.")
    stage = serializers.ChoiceField(choices=ResultStage.choices)
    device_or_assay = serializers.CharField(max_length=120)
    lot = serializers.CharField(required=False, allow_blank=True, max_length=60)
    cutoff = serializers.DecimalField(
        max_digits=10, decimal_places=3, required=False, allow_null=True, min_value=0
    )
    value = serializers.DecimalField(
        max_digits=12, decimal_places=3, required=False, allow_null=True, min_value=0
    )
    outcome = serializers.ChoiceField(choices=ResultOutcome.choices)


class ResultFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(
        field_name="specimen__patient__public_id", help_text="A patient's id."
    )

    class Meta:
        model = AnalyteResult
        fields = ["patient"]


class ResultViewSet(AuditedReadMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Analyte results (screen and confirmation) of the patients the caller sees. POST enters
    one (clinicians and medical staff); a clinician finalises through the specimen."""

    queryset = AnalyteResult.objects.none()  # for the schema
    serializer_class = ResultSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = ResultFilter
    data_class = DataClass.DRUG_TEST_RESULTS

    def get_queryset(self):
        return self.readable(
            AnalyteResult.objects.filter(specimen__patient__in=visible_patients(self.request.user))
            .select_related("specimen__patient", "analyte", "amends")
            .order_by("-created_at", "pk")
        )

    def get_object(self):
        result = super().get_object()
        result.patient = result.specimen.patient  # for the audited read
        return result

    def list(self, request, *args, **kwargs):
        require_data_class(request.user, self.data_class)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        record_services.record_chart_views(
            actor=request.user, patients=[row.specimen.patient for row in page], section="api"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ResultCreateSerializer, responses={201: ResultSerializer})
    def create(self, request, *args, **kwargs):
        body = ResultCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        specimen = (
            Specimen.objects.filter(
                public_id=data.pop("specimen"), patient__in=visible_patients(request.user)
            )
            .select_related("order", "patient")
            .first()
        )
        if specimen is None:
            raise ApiValidationError({"specimen": ["No such specimen."]})
        analyte = (
            specimen.order.panel.analytes.filter(code=data.pop("analyte")).first()
            if specimen.order.panel_id
            else None
        )
        if analyte is None:
            raise ApiValidationError({"analyte": ["Not an analyte of this specimen's panel."]})
        try:
            result = collection.record_result(actor=request.user, specimen=specimen, analyte=analyte, **data)
        except DjangoValidationError as error:
            raise ApiValidationError(_service_errors(error)) from None
        return Response(ResultSerializer(result).data, status=status.HTTP_201_CREATED)


# --- Reviews (the clinical response) -----------------------------------------------------------


class ResultReviewSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    specimen = serializers.UUIDField(source="specimen.public_id", read_only=True)
    assigned_to = serializers.CharField(source="assigned_to.username", read_only=True, allow_null=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", read_only=True, allow_null=True)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ResponseAction.choices), read_only=True
    )

    class Meta:
        model = ResultReview
        fields = [
            "id",
            "patient",
            "specimen",
            "trigger",
            "assigned_to",
            "reviewed_at",
            "reviewed_by",
            "actions",
            "note",
            "increased_tests_per_week",
            "increased_until",
            "created_at",
        ]
        read_only_fields = fields


class ResultReviewResponseSerializer(serializers.Serializer):
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ResponseAction.choices),
        allow_empty=False,
        max_length=len(ResponseAction.choices),
        help_text="Supportive responses (at least one).",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    increased_tests_per_week = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        required=False,
        allow_null=True,
        min_value=0,
        help_text="With increase_testing: tests per week for the period (up to 7).",
    )
    increased_until = serializers.DateField(
        required=False, allow_null=True, help_text="With increase_testing: the day the increase ends."
    )


class ReviewFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id", help_text="A patient's id.")
    open = django_filters.BooleanFilter(
        field_name="reviewed_at", lookup_expr="isnull", help_text="true: still waiting for a response."
    )

    class Meta:
        model = ResultReview
        fields = ["patient", "open"]


class ReviewViewSet(AuditedReadMixin, viewsets.ReadOnlyModelViewSet):
    """Reviews opened by an unexpected positive, a refusal, a no-show or a tampered specimen, for
    the patients the caller sees. POST .../respond/ records the clinician's supportive response
    (the same service and rules as the review page; a review is answered once)."""

    queryset = ResultReview.objects.none()  # for the schema
    serializer_class = ResultReviewSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = ReviewFilter
    data_class = DataClass.DRUG_TEST_RESULTS

    def get_queryset(self):
        return self.readable(
            ResultReview.objects.filter(patient__in=visible_patients(self.request.user))
            .select_related("patient", "specimen", "assigned_to", "reviewed_by")
            .order_by("-created_at", "pk")
        )

    @extend_schema(request=ResultReviewResponseSerializer, responses={200: ResultReviewSerializer})
    @action(detail=True, methods=["post"])
    def respond(self, request, public_id=None):
        """Record the clinical response (clinicians; resolves the review's alert)."""
        review = self.get_object()
        body = ResultReviewResponseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            review = collection.record_review(actor=request.user, review=review, **body.validated_data)
        except DjangoValidationError as error:
            raise ApiValidationError(_service_errors(error)) from None
        return Response(ResultReviewSerializer(review).data)


# --- Self-reported use (feeds the sobriety date) -------------------------------------------------


class SelfReportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    reported_to = serializers.CharField(source="reported_to.username", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = SelfReportedUse
        fields = [
            "id",
            "patient",
            "substance",
            "last_used_on",
            "reported_on",
            "reported_to",
            "recorded_by",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class SelfReportCreateSerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient's id.")
    substance = serializers.ChoiceField(choices=Substance.choices)
    last_used_on = serializers.DateField(help_text="The date of last use the patient gave.")
    reported_on = serializers.DateField(required=False, help_text="When they said so (default today).")
    reported_to = serializers.CharField(
        required=False, max_length=150, help_text="Username of the staff member told (default the caller)."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SelfReportFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id", help_text="A patient's id.")

    class Meta:
        model = SelfReportedUse
        fields = ["patient"]


class SelfReportViewSet(AuditedReadMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Patients' own accounts of their last use, per substance (never edited; a later report is
    a new one). POST records one (clinicians and medical staff on the care team)."""

    queryset = SelfReportedUse.objects.none()  # for the schema
    serializer_class = SelfReportSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = SelfReportFilter
    data_class = DataClass.DRUG_TEST_RESULTS

    def get_queryset(self):
        return self.readable(
            SelfReportedUse.objects.filter(patient__in=visible_patients(self.request.user))
            .select_related("patient", "reported_to", "recorded_by")
            .order_by("-reported_on", "-created_at", "pk")
        )

    @extend_schema(request=SelfReportCreateSerializer, responses={201: SelfReportSerializer})
    def create(self, request, *args, **kwargs):
        body = SelfReportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        require_data_class(request.user, self.data_class)
        patient = visible_patients(request.user).filter(public_id=data.pop("patient")).first()
        if patient is None:
            raise ApiValidationError({"patient": ["No such patient."]})
        username = data.pop("reported_to", "")
        if username:
            data["reported_to"] = get_user_model().objects.filter(username=username, is_active=True).first()
            if data["reported_to"] is None:
                raise ApiValidationError({"reported_to": ["No such staff member."]})
        try:
            report = self_reports.record_self_report(actor=request.user, patient=patient, **data)
        except DjangoValidationError as error:
            raise ApiValidationError(_service_errors(error)) from None
        return Response(SelfReportSerializer(report).data, status=status.HTTP_201_CREATED)


ROUTES = [
    ("testing-policies", TestingPolicyViewSet, "testing-policy"),
    ("draws", DrawViewSet, "draw"),
    ("drug-test-orders", OrderViewSet, "drug-test-order"),
    ("specimens", SpecimenViewSet, "specimen"),
    ("analyte-results", ResultViewSet, "analyte-result"),
    ("test-reviews", ReviewViewSet, "test-review"),
    ("self-reported-uses", SelfReportViewSet, "self-reported-use"),
]
