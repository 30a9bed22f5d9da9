"""REST API: referrals (with duplicate detection), closing them, the eligibility checklist.

Admission is `POST /api/v1/episodes/` (it closes the patient's open referral as admitted).
"""

from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from iop.accounts.models import Site
from iop.accounts.selectors import staff_visible_to
from iop.core.api_errors import Conflict
from iop.core.api_fields import StrictBooleanField
from iop.core.api_schema import UUID_PATH_REGEX
from iop.core.text_limits import NOTE_MAX, REASON_MAX
from patients.access import NoSuchPatient
from patients.models import EligibilityReview, Patient, Referral, ReferralOutcome, ReferralStatus
from patients.selectors.intake import describe_duplicates, visible_referrals
from patients.services import intake as intake_services
from patients.services import records as record_services
from patients.services.intake import CLOSING_OUTCOMES

VERSION_HELP = "The version you read; the write is refused with 409 if someone changed the record since."


class NewPersonSerializer(serializers.Serializer):
    legal_first_name = serializers.CharField(max_length=80)
    legal_last_name = serializers.CharField(max_length=80)
    preferred_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    date_of_birth = serializers.DateField()
    phone = PhoneNumberField(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)


class EligibilityReviewSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    criteria_met = serializers.IntegerField(read_only=True)
    reviewed_by = serializers.UUIDField(source="reviewed_by.public_id", read_only=True)

    class Meta:
        model = EligibilityReview
        fields = ["id", *EligibilityReview.CRITERIA, "notes", "criteria_met", "reviewed_by", "created_at"]
        extra_kwargs = {
            **{name: {"required": True} for name in EligibilityReview.CRITERIA},
            "notes": {"max_length": NOTE_MAX},
        }


class ReferralSerializer(serializers.ModelSerializer):
    patch_fields = (*intake_services.REFERRAL_FIELDS, "referred_at", "version")  # not who, nor where
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(
        source="patient.public_id", required=False, help_text="An existing record."
    )
    new_patient = NewPersonSerializer(write_only=True, required=False, help_text="Or a new person.")
    confirmed_new_person = StrictBooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Create a new record although a patient with the same name and birth date exists.",
    )
    attach_reference = serializers.CharField(
        write_only=True,
        required=False,
        help_text="Attach to a matching record you may not see: the `reference` a 409 gave "
        "(single use, expires). Needs `attach_reason`; listed in the access log.",
    )
    attach_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=REASON_MAX,
        help_text="Why (at least a sentence).",
    )
    site = serializers.SlugRelatedField(slug_field="public_id", queryset=Site.objects.all())
    intake_clinician = serializers.UUIDField(
        source="intake_clinician.public_id", required=False, allow_null=True
    )
    referrer_phone = PhoneNumberField(required=False, allow_blank=True)
    time_to_admission_hours = serializers.SerializerMethodField()
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    outcome = serializers.ChoiceField(
        choices=ReferralOutcome.choices, allow_blank=True, read_only=True, help_text='"" while open.'
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "patient",
            "new_patient",
            "confirmed_new_person",
            "attach_reference",
            "attach_reason",
            "site",
            "source",
            "source_detail",
            "referrer_name",
            "referrer_phone",
            "referrer_email",
            "reason",
            "urgency",
            "intake_clinician",
            "status",
            "outcome",
            "outcome_detail",
            "referred_at",
            "screened_at",
            "admitted_at",
            "closed_at",
            "time_to_admission_hours",
            "version",
        ]
        read_only_fields = ["status", "outcome", "outcome_detail", "screened_at", "admitted_at", "closed_at"]
        extra_kwargs = {"referred_at": {"required": False}, "reason": {"max_length": REASON_MAX}}

    def get_time_to_admission_hours(self, referral) -> float | None:
        elapsed = referral.time_to_admission
        return round(elapsed.total_seconds() / 3600, 2) if elapsed is not None else None

    def validate(self, data):
        creating = self.instance is None
        if creating and data.get("attach_reference"):
            if data.get("patient"):
                raise ApiValidationError({"patient": ["Give either `patient` or `attach_reference`."]})
        elif creating and bool(data.get("patient")) == bool(data.get("new_patient")):
            raise ApiValidationError(
                {"patient": ["Give either `patient` (an existing record) or `new_patient`."]}
            )
        clinician = data.get("intake_clinician", {}).get("public_id") if "intake_clinician" in data else None
        if clinician is not None:
            user = staff_visible_to(self.context["request"].user).filter(public_id=clinician).first()
            if user is None:
                raise ApiValidationError({"intake_clinician": ["No such staff member."]})
            data["intake_clinician"] = user
        elif "intake_clinician" in data:
            data["intake_clinician"] = None
        return data


class CloseReferralSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[c for c in ReferralOutcome.choices if c[0] in CLOSING_OUTCOMES]
    )
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class ReferralViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Referrals of the patients the caller may see; `?status=open` is the intake queue."""

    queryset = Referral.objects.none()  # for the schema; get_queryset scopes per user
    serializer_class = ReferralSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        referrals = visible_referrals(self.request.user).order_by("referred_at", "id")
        status_filter = self.request.query_params.get("status")
        if status_filter in ReferralStatus.values:
            referrals = referrals.filter(status=status_filter)
        return referrals

    def list(self, request, *args, **kwargs):
        """Each referral shows its reason: one audited chart read per patient on the page."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        record_services.record_chart_views(
            actor=request.user, patients=[referral.patient for referral in page], section="api.referrals"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        record_services.record_chart_view(
            actor=request.user, patient=referral.patient, section="api.referral"
        )
        return Response(self.get_serializer(referral).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = None
        if "patient" in data:
            # A record the caller may see, or a duplicate named by `new_patient` (the service checks).
            patient = Patient.objects.filter(public_id=data.pop("patient")["public_id"]).first()
            if patient is None:
                raise NoSuchPatient()  # the service answers the same for a record out of reach
        fields = {name: data[name] for name in intake_services.REFERRAL_FIELDS if name in data}
        try:
            referral = intake_services.record_referral(
                actor=request.user,
                site=data["site"],
                patient=patient,
                new_patient=data.get("new_patient"),
                confirmed_new_person=data.get("confirmed_new_person", False),
                referred_at=data.get("referred_at"),
                attach_reference=data.get("attach_reference", ""),
                attach_reason=data.get("attach_reason", ""),
                **fields,
            )
        except intake_services.PossibleDuplicate as duplicate:
            matches = [
                {
                    "id": str(d["patient"].public_id),
                    "site": d["patient"].site.name,
                    "visible": True,
                    "mrn": d["patient"].mrn,
                }
                if d["visible"]
                else {  # only that a record exists, and where; attaching goes through the reference
                    "site": d["patient"].site.name,
                    "visible": False,
                    "reference": duplicate.references[d["patient"].pk],
                }
                for d in describe_duplicates(request.user, duplicate.matches)
            ]
            return Response(
                {"detail": duplicate.messages[0], "code": "possible_duplicate", "matches": matches},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)

    def _require_open(self, referral: Referral) -> None:
        """A closed referral is a state conflict (409), not bad input: the body may be fine."""
        if referral.status != ReferralStatus.OPEN:
            raise Conflict("This referral is closed.")

    def perform_update(self, serializer):
        self._require_open(serializer.instance)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise ApiValidationError({"version": ["Required: " + VERSION_HELP]})
        version = data.pop("version")
        for name in ("confirmed_new_person", "attach_reference", "attach_reason"):
            data.pop(name, None)
        for name in ("patient", "new_patient", "site"):
            if name in data:
                raise ApiValidationError({name: ["Cannot be changed here."]})
        serializer.instance = intake_services.update_referral(
            actor=self.request.user, referral=serializer.instance, expected_version=version, changes=data
        )

    @extend_schema(request=CloseReferralSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, public_id=None):
        """Close without admission: referred elsewhere (say where and why), declined, no show."""
        referral = self.get_object()
        self._require_open(referral)
        body = CloseReferralSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = intake_services.close_referral(
            actor=request.user,
            referral=referral,
            outcome=body.validated_data["outcome"],
            detail=body.validated_data["detail"],
            expected_version=body.validated_data["version"],
        )
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=EligibilityReviewSerializer, responses={201: EligibilityReviewSerializer})
    @action(detail=True, methods=["post"])
    def eligibility(self, request, public_id=None):
        """Record the eligibility checklist (each criterion true or false)."""
        referral = self.get_object()
        self._require_open(referral)
        body = EligibilityReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = intake_services.review_eligibility(
            actor=request.user, referral=referral, **body.validated_data
        )
        return Response(EligibilityReviewSerializer(review).data, status=status.HTTP_201_CREATED)


ROUTES = [("referrals", ReferralViewSet, "referral")]
