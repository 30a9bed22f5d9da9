"""REST API: consents, availability windows and medications.

The same services, role rules and audit as the pages:
- a patient outside the caller's reach does not exist (404); a role that may not write gets 403,
  and so does a caller who sees the patient but may not change their record (through another
  site or break-the-glass: `patients.access.require_clinical_write`, in the services);
- lists are per chart (`?patient=` is required) and every list or detail read is a chart read
  in the audit trail (`record_chart_view`: one entry, naming a break-the-glass grant if the
  read went through one; the query count does not grow with the rows); writes are audited by
  the services;
- consents are signed (POST, after POST /consents/preview/ gave the text the patient read and
  its digest) and revoked (POST /consents/{id}/revoke/), never edited or deleted;
- availability windows and medications are edited with PATCH carrying the `version` the client
  read (400 without it, 409 if the row changed since); windows may be deleted, medications are
  stopped.
"""

import uuid

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from iop.accounts.models import WEEKDAY_NAMES
from iop.core.api_fields import StrictBooleanField
from iop.core.api_schema import UUID_PATH_REGEX
from iop.core.text_limits import NOTE_MAX, REASON_MAX
from patients.access import (
    DataClass,
    get_visible_patient,
    may_read_data_class,
    require_clinical_write,
    require_data_class,
    visible_patients,
)
from patients.models import (
    AvailabilityKind,
    AvailabilityWindow,
    Consent,
    ConsentKind,
    ConsentStatus,
    Medication,
    MedicationClass,
)
from patients.selectors import consents as selectors
from patients.services import consents as consent_services
from patients.services import medications as medication_services
from patients.services import schedule_constraints as availability_services
from patients.services.records import record_chart_view

VERSION_HELP = "The version you read; the write is refused with 409 if someone changed the record since."
PATIENT_PARAMETER = OpenApiParameter(
    "patient",
    OpenApiTypes.UUID,
    required=True,
    description="The patient's id (required): records are listed per chart, and a list is a chart "
    "read in the audit trail.",
)


def _require(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionError(f"Your role may not {what}.")


class ChartRecordViewSet(viewsets.GenericViewSet):
    """Rows of one patient's chart: listed per patient, every read audited as a chart read."""

    model = None
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []

    def base_queryset(self):
        return self.model.objects.select_related("patient")

    def list_patient(self):
        if not hasattr(self, "_list_patient"):
            raw = self.request.query_params.get("patient", "")
            if not raw:
                raise ApiValidationError(
                    {"patient": ["Required: the id of the patient whose records to list."]}
                )
            try:
                uuid.UUID(raw)
            except ValueError:
                raise ApiValidationError({"patient": ["Must be a patient id (a UUID)."]}) from None
            self._list_patient = get_visible_patient(self.request.user, raw)
        return self._list_patient

    def filter_list(self, queryset):
        return queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        if self.action == "list":
            return self.filter_list(self.base_queryset().filter(patient=self.list_patient()))
        return self.base_queryset().filter(patient__in=visible_patients(self.request.user))

    def list(self, request, *args, **kwargs):
        patient = self.list_patient()
        page = self.paginate_queryset(self.get_queryset())
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        record_chart_view(actor=request.user, patient=patient, section="api")
        return response

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        record_chart_view(actor=request.user, patient=instance.patient, section="api")
        return Response(self.get_serializer(instance).data)

    def patient_for_write(self, validated: dict):
        """The patient named in a create body, through access (404 outside reach)."""
        return get_visible_patient(self.request.user, validated.pop("patient")["public_id"])

    def same_patient(self, instance, validated: dict) -> None:
        patient = validated.pop("patient", None)
        if patient is not None and patient["public_id"] != instance.patient.public_id:
            raise ApiValidationError({"patient": ["A record cannot move to another patient."]})

    def expected_version(self, validated: dict) -> int:
        if "version" not in validated:
            raise ApiValidationError({"version": ["Required: " + VERSION_HELP]})
        return validated.pop("version")


# --- Consents -----------------------------------------------------------------------------


class ConsentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    status = serializers.ChoiceField(choices=ConsentStatus.choices, read_only=True)
    witnessed_by = serializers.UUIDField(source="witnessed_by.public_id", read_only=True)
    witnessed_by_name = serializers.CharField(source="witnessed_by.get_full_name", read_only=True)
    revoked_by = serializers.UUIDField(source="revoked_by.public_id", read_only=True, allow_null=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "patient",
            "kind",
            "status",
            "recipient",
            "purpose",
            "information_description",
            "expires_on",
            "expiry_event",
            "text_presented",
            "signed_by_name",
            "signed_at",
            "signed_ip_address",
            "witnessed_by",
            "witnessed_by_name",
            "revoked_at",
            "revoked_by",
            "revocation_note",
            "created_at",
        ]
        read_only_fields = fields


class ConsentTermsSerializer(serializers.Serializer):
    patient = serializers.UUIDField(source="patient.public_id")
    kind = serializers.ChoiceField(choices=ConsentKind.choices)
    recipient = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    purpose = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    information_description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=NOTE_MAX
    )
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_event = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ConsentSignSerializer(ConsentTermsSerializer):
    signed_by_name = serializers.CharField(
        max_length=160, help_text="The patient's full legal name, typed by the patient."
    )
    agreed = StrictBooleanField(help_text="The patient ticked “I have read and agree”; must be true.")
    text_digest = serializers.CharField(
        max_length=64, help_text="`text_digest` from /consents/preview/ for the text the patient read."
    )


class ConsentPreviewSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="Show exactly this text to the patient.")
    text_digest = serializers.CharField(help_text="Send it back with the signature.")


class RevokeConsentSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=REASON_MAX,
        help_text="How the patient asked to revoke (in person, by phone, in writing).",
    )


CONSENT_LIST_PARAMETERS = [
    PATIENT_PARAMETER,
    OpenApiParameter("kind", OpenApiTypes.STR, enum=ConsentKind.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=ConsentStatus.values),
]


class ConsentViewSet(ChartRecordViewSet):
    """Consents to treatment and 42 CFR Part 2 consents to disclose.

    Recorded and revoked by clinicians, case managers, medical staff and admins; read by everyone
    who sees the patient. Never edited or deleted: re-signing records a new consent.
    """

    model = Consent
    queryset = Consent.objects.none()  # for the schema; get_queryset scopes per user
    serializer_class = ConsentSerializer

    def base_queryset(self):
        # Minimum necessary (ADR 0008): a role that does not read consent contents finds no
        # consent (404 on a detail); its list is refused with 403 (below).
        if not may_read_data_class(self.request.user, DataClass.CONSENT_CONTENTS):
            return Consent.objects.none()
        return Consent.objects.select_related("patient", "witnessed_by", "revoked_by")

    def filter_list(self, queryset):
        params = self.request.query_params
        errors = {}
        kind = params.get("kind")
        if kind:
            if kind in ConsentKind.values:
                queryset = queryset.filter(kind=kind)
            else:
                errors["kind"] = [f"One of {', '.join(ConsentKind.values)}."]
        wanted = params.get("status")
        if wanted:
            today = timezone.localdate()
            if wanted == ConsentStatus.ACTIVE:
                queryset = queryset.filter(selectors.active_consent_q(today))
            elif wanted == ConsentStatus.REVOKED:
                queryset = queryset.filter(revoked_at__isnull=False)
            elif wanted == ConsentStatus.EXPIRED:
                queryset = queryset.filter(Q(revoked_at__isnull=True) & Q(expires_on__lt=today))
            else:
                errors["status"] = [f"One of {', '.join(ConsentStatus.values)}."]
        if errors:
            raise ApiValidationError(errors)
        return queryset

    @extend_schema(parameters=CONSENT_LIST_PARAMETERS)
    def list(self, request, *args, **kwargs):
        require_data_class(request.user, DataClass.CONSENT_CONTENTS)
        return super().list(request, *args, **kwargs)

    def _may_record(self, what: str) -> None:
        _require(consent_services.may_record_consents(self.request.user), what)

    @extend_schema(
        request=ConsentTermsSerializer,
        responses={200: ConsentPreviewSerializer},
        description="The consent text for these terms, to show the patient before they sign "
        "(nothing is recorded; it is a chart read).",
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        self._may_record("record consents")
        serializer = ConsentTermsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = get_visible_patient(request.user, data.pop("patient")["public_id"])
        # Only someone who may then record the consent is shown the text to sign.
        require_clinical_write(request.user, patient, allow_break_glass=False, what="record a consent")
        text = consent_services.consent_text(patient, data.pop("kind"), **data)
        record_chart_view(actor=request.user, patient=patient, section="api")
        return Response({"text": text, "text_digest": consent_services.text_digest(text)})

    @extend_schema(
        request=ConsentSignSerializer,
        responses={201: ConsentSerializer},
        description="Record a consent the patient signed electronically (typed legal name, "
        "`agreed` true), over the text from /consents/preview/ (`text_digest`). The caller is the witness.",
    )
    def create(self, request, *args, **kwargs):
        self._may_record("record consents")
        serializer = ConsentSignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = self.patient_for_write(data)
        consent = consent_services.record_consent(
            actor=request.user, patient=patient, text_digest_shown=data.pop("text_digest"), **data
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RevokeConsentSerializer,
        responses={200: ConsentSerializer},
        description="Record that the patient revoked this consent. It stays, shown as revoked.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, public_id=None):
        self._may_record("record the revocation of consents")
        consent = self.get_object()
        serializer = RevokeConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = consent_services.revoke_consent(
            actor=request.user, consent=consent, note=serializer.validated_data["note"]
        )
        return Response(ConsentSerializer(consent).data)


# --- Availability windows -----------------------------------------------------------------


class AvailabilityWindowSerializer(serializers.Serializer):
    not_in_patch = ("patient",)  # a PATCH keeps the record on its patient
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id")
    kind = serializers.ChoiceField(choices=AvailabilityKind.choices)
    weekday = serializers.IntegerField(
        min_value=1, max_value=7, help_text="ISO weekday: 1 = Monday ... 7 = Sunday."
    )
    weekday_name = serializers.SerializerMethodField()
    starts_at = serializers.TimeField()
    ends_at = serializers.TimeField()
    note = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    def get_weekday_name(self, window) -> str:
        return WEEKDAY_NAMES.get(window.weekday, "")


class AvailabilityWindowViewSet(ChartRecordViewSet):
    """Weekly times a patient is not available (work, school, family); the schedule builder fits
    sessions around them. Clinicians and case managers change them; deleting one is audited."""

    model = AvailabilityWindow
    queryset = AvailabilityWindow.objects.none()  # for the schema; get_queryset scopes per user
    serializer_class = AvailabilityWindowSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self):
        return AvailabilityWindow.objects.select_related("patient").order_by("weekday", "starts_at", "id")

    def _may_edit(self) -> None:
        _require(
            availability_services.may_edit_availability(self.request.user), "change availability windows"
        )

    @extend_schema(parameters=[PATIENT_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        self._may_edit()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        patient = self.patient_for_write(data)
        window = availability_services.add_availability_window(actor=request.user, patient=patient, **data)
        return Response(self.get_serializer(window).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        self._may_edit()
        window = self.get_object()
        serializer = self.get_serializer(window, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        self.same_patient(window, data)
        expected = self.expected_version(data)
        window = availability_services.update_availability_window(
            actor=request.user, window=window, expected_version=expected, changes=data
        )
        return Response(self.get_serializer(window).data)

    def destroy(self, request, *args, **kwargs):
        self._may_edit()
        availability_services.remove_availability_window(actor=request.user, window=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Medications --------------------------------------------------------------------------


class MedicationSerializer(serializers.Serializer):
    not_in_patch = ("patient",)  # a PATCH keeps the record on its patient
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id")
    name = serializers.CharField(max_length=120)
    medication_class = serializers.ChoiceField(
        choices=MedicationClass.choices,
        help_text="What a drug test would detect; results of this class are expected.",
    )
    dose = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    prescriber = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    started_on = serializers.DateField(required=False, allow_null=True, default=None)
    stopped_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The last day taken; empty while current."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class StopMedicationSerializer(serializers.Serializer):
    stopped_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The last day taken (default today)."
    )


class MedicationViewSet(ChartRecordViewSet):
    """Prescribed medications (they explain expected drug-test results). Medical staff and clinicians
    change them. Never deleted: a stopped medication stays as a past one."""

    model = Medication
    queryset = Medication.objects.none()  # for the schema; get_queryset scopes per user
    serializer_class = MedicationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]  # never deleted: stop it

    def base_queryset(self):
        return Medication.objects.select_related("patient").order_by("name", "id")

    def _may_edit(self) -> None:
        _require(medication_services.may_edit_medications(self.request.user), "change the medication list")

    @extend_schema(parameters=[PATIENT_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        self._may_edit()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        patient = self.patient_for_write(data)
        medication = medication_services.add_medication(actor=request.user, patient=patient, **data)
        return Response(self.get_serializer(medication).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        self._may_edit()
        medication = self.get_object()
        serializer = self.get_serializer(medication, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)  # a partial update skips the defaults: only what was sent
        self.same_patient(medication, data)
        expected = self.expected_version(data)
        medication = medication_services.update_medication(
            actor=request.user, medication=medication, expected_version=expected, changes=data
        )
        return Response(self.get_serializer(medication).data)

    def http_method_not_allowed(self, request, *args, **kwargs):
        """DELETE is not offered (nor advertised in Allow), but its 405 says what to do instead."""
        if request.method == "DELETE":
            raise MethodNotAllowed(
                "DELETE",
                detail="Medications are never deleted: stop one with POST /medications/{id}/stop/ "
                "(or PATCH its stopped_on).",
            )
        return super().http_method_not_allowed(request, *args, **kwargs)

    @extend_schema(
        request=StopMedicationSerializer,
        responses={200: MedicationSerializer},
        description="Record that the patient stopped this medication (it becomes a past medication).",
    )
    @action(detail=True, methods=["post"])
    def stop(self, request, public_id=None):
        self._may_edit()
        medication = self.get_object()
        serializer = StopMedicationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        medication = medication_services.stop_medication(
            actor=request.user, medication=medication, stopped_on=serializer.validated_data["stopped_on"]
        )
        return Response(self.get_serializer(medication).data)


ROUTES = [
    ("consents", ConsentViewSet, "consent"),
    ("availability-windows", AvailabilityWindowViewSet, "availability-window"),
    ("medications", MedicationViewSet, "medication"),
]
