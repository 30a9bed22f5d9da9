"""REST API of screening: instrument definitions and scoring, the ASAM rule, and the stored
instrument responses and ASAM assessments.

- `GET /api/v1/instruments/` (and `/instruments/<code>/`): the definitions this installation
  offers, with their items and legal values (DAST-10 only when its licence is confirmed).
- `POST /api/v1/instruments/<code>/score/`: scores without saving. 400 names each bad item.
- `GET /api/v1/asam/`: the ASAM vocabulary (editions, dimension names, ratings, levels).
- `POST /api/v1/asam/recommend/`: the level-of-care rule, without saving.
- `/api/v1/instrument-responses/` and `/api/v1/asam-assessments/`: list, retrieve, create.
  Creating is administering / assessing, through the same services as the pages.

Definitions, scoring and the rule hold no patient data: every signed-in user may use them.
Scores and the definitions' bands are this installation's (CIWA-Ar: the CIWA_AR_BANDS setting),
the same as the pages and the stored results. AUDIT-C's "sex" may be sent at the top level or
inside "answers" (both: they must agree).
The resources are scoped through `patients.access` (a patient outside reach is a 404), writes
are checked by the services (role, and a place at the site holding the record: else 403 JSON),
and every read of stored results is audited as a chart read (section "api"): one entry for a
retrieve, one per patient on a list page, appended at once (the queries do not grow with the
page).
"""

from collections.abc import Iterable

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

import iop.core.api_fields  # noqa: F401 (strict booleans in every ModelSerializer)
from iop.core.api_schema import UUID_PATH_REGEX, SingleObjectSchema
from patients import asam_rule
from patients.access import DataClass, get_visible_patient, may_read_data_class, require_data_class
from patients.instruments import SEX_FEMALE, SEX_MALE, InvalidAnswers, item_points
from patients.instruments.definitions import Instrument, Item
from patients.models import AsamAssessment, AsamEdition, InstrumentResponse
from patients.selectors import screening as selectors
from patients.services import records as record_services
from patients.services import screening as services

ANSWER_HELP = (
    'Item number as published ("1", "2", ..., C-SSRS "6a") -> answer: an integer for choice items, '
    "true (Yes, as asked) or false (No) for yes/no items."
)


def _errors_as_lists(messages) -> list[str]:
    return list(messages) if isinstance(messages, list | tuple) else [str(messages)]


def _nested_errors(
    error: DjangoValidationError, *, nest_under: str, top_level: Iterable[str], renames: dict | None = None
) -> dict:
    """A service's ValidationError as a 400 body: the named top-level fields as they are, every
    other key (an item or dimension number) under `nest_under`, e.g. {"answers": {"9": [...]}}."""
    body: dict = {}
    top = set(top_level)
    for key, messages in error.message_dict.items():
        if renames and key.startswith(tuple(renames)):
            prefix = next(p for p in renames if key.startswith(p))
            body.setdefault(renames[prefix], {})[key[len(prefix) :]] = _errors_as_lists(messages)
        elif key in top:
            body[key] = _errors_as_lists(messages)
        else:
            body.setdefault(nest_under, {})[key] = _errors_as_lists(messages)
    return body


def _instrument_errors(error: DjangoValidationError) -> dict:
    body = _nested_errors(error, nest_under="answers", top_level={"sex", "notes", "instrument", "answers"})
    if "instrument" in body:
        body["instrument_code"] = body.pop("instrument")
    return body


def _asam_errors(error: DjangoValidationError) -> dict:
    return _nested_errors(
        error,
        nest_under="ratings",
        top_level={"edition", "chosen_level", "override_reason", "dimension_notes", "ratings"},
        renames={"notes_": "dimension_notes"},
    )


# --- definitions ----------------------------------------------------------------------------------


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "boolean"}]})
class AnswerValueField(serializers.JSONField):
    pass


class AnswerOptionSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = AnswerValueField(help_text="What to send for this answer.")
    points = serializers.IntegerField(help_text="Points it scores (yes/no items may be reverse scored).")


class ItemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The published item number, used as the answer key.")
    timeframe = serializers.CharField(
        help_text="The period the question asks about when the wording does not say it (C-SSRS 1-5: "
        '"In the past month"; 6: "Lifetime"), else "". Ask it first: "In the past month: ...".'
    )
    wording = serializers.CharField()
    prompt = serializers.CharField(help_text="Published administration note, if any.")
    kind = serializers.CharField(help_text='"choice" (integer answer) or "yes_no" (true/false answer).')
    required = serializers.BooleanField()
    scored = serializers.BooleanField()
    asked_when = serializers.SerializerMethodField(
        help_text="Branching: asked only when item `item` is `answer`."
    )
    legal_values = serializers.SerializerMethodField()
    options = serializers.SerializerMethodField()

    @extend_schema_field(
        inline_serializer(
            "AskedWhen",
            {"item": serializers.CharField(), "answer": serializers.BooleanField()},
            allow_null=True,
        )
    )
    def get_asked_when(self, item: Item):
        if item.asked_when is None:
            return None
        return {"item": item.asked_when.item, "answer": item.asked_when.answer}

    @extend_schema_field(serializers.ListField(child=AnswerValueField(allow_null=True)))
    def get_legal_values(self, item: Item):
        return list(item.legal_values)

    @extend_schema_field(AnswerOptionSerializer(many=True))
    def get_options(self, item: Item):
        return [
            {"label": option.label, "value": option.value, "points": item_points(item, option.value)}
            for option in item.options
        ]


class BandSerializer(serializers.Serializer):
    name = serializers.CharField()
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    guidance = serializers.CharField()


class RiskTierSerializer(serializers.Serializer):
    name = serializers.CharField()
    any_yes = serializers.SerializerMethodField(help_text="Reached when any of these items is Yes.")
    guidance = serializers.CharField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_any_yes(self, tier):
        return sorted(tier.any_yes)


class FlagRuleSerializer(serializers.Serializer):
    flag = serializers.CharField()
    description = serializers.CharField()
    safety = serializers.BooleanField(source="is_safety")


class InstrumentDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    source = serializers.CharField()
    licence_note = serializers.CharField()
    credit_line = serializers.CharField()
    instructions = serializers.CharField()
    has_total = serializers.BooleanField()
    min_total = serializers.SerializerMethodField()
    max_total = serializers.SerializerMethodField()
    requires_sex = serializers.BooleanField(
        help_text='AUDIT-C: send "sex": "female" or "male" (top level, or inside "answers").'
    )
    bands = serializers.SerializerMethodField(
        help_text="The bands used here: for configurable bands (CIWA-Ar), this installation's."
    )
    bands_by_sex = serializers.SerializerMethodField()
    bands_configurable = serializers.BooleanField()
    risk_tiers = RiskTierSerializer(many=True)
    flags = FlagRuleSerializer(many=True, source="flag_rules")
    items = ItemSerializer(many=True)

    @extend_schema_field(BandSerializer(many=True))
    def get_bands(self, instrument: Instrument):
        return BandSerializer(
            selectors.installation_bands(instrument.code) or instrument.bands, many=True
        ).data

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="null without a total."))
    def get_min_total(self, instrument: Instrument):
        return instrument.min_total if instrument.has_total else None

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="null without a total."))
    def get_max_total(self, instrument: Instrument):
        return instrument.max_total if instrument.has_total else None

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "array"}, "nullable": True})
    def get_bands_by_sex(self, instrument: Instrument):
        if instrument.bands_by_sex is None:
            return None
        return {sex: BandSerializer(bands, many=True).data for sex, bands in instrument.bands_by_sex.items()}


def _sex_field(**kwargs):
    """Validated by the engine (AUDIT-C needs it; the others ignore it), so that one 400 names
    a wrong sex and every bad item together."""
    return serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=f"AUDIT-C only: the sex used for scoring, {SEX_FEMALE!r} or {SEX_MALE!r}. It may "
        'also be sent as answers."sex"; if both are sent they must agree.',
        **kwargs,
    )


@extend_schema_field({"type": "string", "enum": list(asam_rule.EDITIONS)})
class EditionField(serializers.CharField):
    """Optional here and checked by the rule (one 400 names a wrong edition and every bad
    rating); the schema says what a valid request carries: one of the editions, required."""


# Dimension -> rating: all six dimensions, each rated 0-4 (CLINICAL.md section 2).
RATINGS_SCHEMA = {
    "type": "object",
    "properties": {
        dimension: {"type": "integer", "minimum": 0, "maximum": 4}
        for dimension in ("1", "2", "3", "4", "5", "6")
    },
    "required": ["1", "2", "3", "4", "5", "6"],
    "additionalProperties": False,
}


@extend_schema_field(RATINGS_SCHEMA)
class RatingsField(serializers.DictField):
    """Dimension ("1".."6") -> rating 0-4, checked by the rule."""

    def __init__(self, **kwargs):
        super().__init__(child=AnswerValueField(allow_null=True), **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"oneOf": [{"type": "integer"}, {"type": "boolean"}], "nullable": True},
    }
)
class AnswersField(serializers.DictField):
    """Item -> answer; which items an instrument needs is in its definition (GET /instruments/)."""

    def __init__(self, **kwargs):
        super().__init__(child=AnswerValueField(allow_null=True), **kwargs)


def _edition_field():
    """Validated by the rule, so that one 400 names a wrong edition and every bad rating."""
    return EditionField(
        required=False,
        help_text=f"ASAM Criteria edition: {' or '.join(asam_rule.EDITIONS)}.",
    )


def _answers_and_sex(data: dict) -> tuple[dict, str | None]:
    """The answers keyed as strings, and the sex: top-level "sex" or "answers"."sex" (AUDIT-C),
    treated alike; both given and different is a 400 naming "sex"."""
    answers = {str(key): value for key, value in data["answers"].items()}
    top = data.get("sex") or None
    if "sex" not in answers:
        return answers, top
    inner = answers.pop("sex")
    if inner is not None and not isinstance(inner, str):
        raise ApiValidationError({"sex": [f'Expected "{SEX_FEMALE}" or "{SEX_MALE}" in answers.sex.']})
    inner = (inner or "").strip() or None
    if top is not None and inner is not None and top != inner:
        raise ApiValidationError(
            {"sex": [f'"sex" is {top!r} but answers.sex is {inner!r}: send one, or the same in both.']}
        )
    return answers, top or inner


class ScoreRequestSerializer(serializers.Serializer):
    answers = AnswersField(help_text=ANSWER_HELP)
    sex = _sex_field()


class ScoreResultSerializer(serializers.Serializer):
    total = serializers.IntegerField(allow_null=True, help_text="null for the C-SSRS (no total).")
    band = serializers.CharField(help_text="The band, or the C-SSRS risk tier.")
    flags = serializers.ListField(child=serializers.CharField())


class InstrumentDefinitionViewSet(viewsets.ViewSet):
    """Instrument definitions and scoring without saving (no patient data: any signed-in user)."""

    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9-]+"
    serializer_class = InstrumentDefinitionSerializer

    def _instrument(self, code: str) -> Instrument:
        instrument = selectors.offered_instrument(code)
        if instrument is None:
            raise NotFound(f"No instrument {code!r} is offered here.")
        return instrument

    @extend_schema(responses=InstrumentDefinitionSerializer(many=True))
    def list(self, request):
        """The whole catalogue, as a plain list: it is small and fixed (no pagination)."""
        return Response(InstrumentDefinitionSerializer(selectors.offered_instruments(), many=True).data)

    @extend_schema(responses=InstrumentDefinitionSerializer)
    def retrieve(self, request, code=None):
        return Response(InstrumentDefinitionSerializer(self._instrument(code)).data)

    @extend_schema(
        request=ScoreRequestSerializer,
        responses={200: ScoreResultSerializer},
        description="Score one administration without saving it. A 400 names each bad item under "
        '"answers" (an answer outside the legal set, a missing required item, an unknown item) '
        'and a missing or wrong AUDIT-C "sex".',
        examples=[
            OpenApiExample(
                "PHQ-9",
                request_only=True,
                value={"answers": {"1": 0, "2": 1, "3": 2, "4": 3, "5": 0, "6": 1, "7": 2, "8": 3, "9": 1}},
            ),
            OpenApiExample(
                "AUDIT-C", request_only=True, value={"answers": {"1": 2, "2": 1, "3": 0}, "sex": "female"}
            ),
            OpenApiExample(
                "AUDIT-C, sex with the answers",
                request_only=True,
                value={"answers": {"1": 2, "2": 1, "3": 0, "sex": "female"}},
            ),
        ],
    )
    @action(detail=True, methods=["post"], serializer_class=ScoreRequestSerializer)
    def score(self, request, code=None):
        instrument = self._instrument(code)
        body = ScoreRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers, sex = _answers_and_sex(body.validated_data)
        try:
            result = services.score_for_installation(instrument.code, answers, sex=sex)
        except InvalidAnswers as invalid:
            error = DjangoValidationError({key: [message] for key, message in invalid.errors.items()})
            raise ApiValidationError(_instrument_errors(error)) from None
        return Response({"total": result.total, "band": result.band, "flags": list(result.flags)})


# --- ASAM rule ------------------------------------------------------------------------------------


class RecommendRequestSerializer(serializers.Serializer):
    schema_required = ("edition",)
    edition = _edition_field()
    ratings = RatingsField(help_text='Dimension ("1".."6") -> rating 0-4; all six are required.')


class RecommendationSerializer(serializers.Serializer):
    level = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    edition = serializers.CharField()
    not_iop = serializers.BooleanField(
        help_text="Not IOP now: Dimension 1 at 3 or more, or any dimension at 4."
    )
    withdrawal_management_first = serializers.BooleanField()
    medical_review_before_iop = serializers.BooleanField()


def _recommendation_data(recommendation: asam_rule.Recommendation) -> dict:
    return {
        "level": recommendation.level,
        "reasons": list(recommendation.reasons),
        "edition": recommendation.edition,
        "not_iop": recommendation.not_iop,
        "withdrawal_management_first": recommendation.withdrawal_management_first,
        "medical_review_before_iop": recommendation.medical_review_before_iop,
    }


class AsamViewSet(viewsets.ViewSet):
    """The ASAM vocabulary and the level-of-care rule (no patient data: any signed-in user)."""

    schema = SingleObjectSchema()  # GET /asam/ answers one object, not a list

    serializer_class = RecommendRequestSerializer

    @extend_schema(
        responses=inline_serializer(
            "AsamVocabulary",
            {
                "editions": serializers.DictField(),
                "rating_labels": serializers.DictField(),
            },
        )
    )
    def list(self, request):
        return Response(
            {
                "editions": {
                    edition: {
                        "label": AsamEdition(edition).label,
                        "dimensions": dict(asam_rule.DIMENSION_NAMES[edition]),
                        "levels": list(asam_rule.LEVELS[edition]),
                    }
                    for edition in asam_rule.EDITIONS
                },
                "rating_labels": {str(rating): label for rating, label in asam_rule.RATING_LABELS.items()},
            }
        )

    @extend_schema(
        request=RecommendRequestSerializer,
        responses={200: RecommendationSerializer},
        description="Apply the recommendation rule (CLINICAL.md section 2) without saving. A 400 names "
        'the edition and each bad dimension under "ratings".',
        examples=[
            OpenApiExample(
                "IOP",
                request_only=True,
                value={"edition": "3", "ratings": {"1": 0, "2": 1, "3": 2, "4": 2, "5": 2, "6": 1}},
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def recommend(self, request):
        body = RecommendRequestSerializer(data=request.data)
        if not body.is_valid():
            raise ApiValidationError(body.errors)
        try:
            recommendation = asam_rule.recommend_level(
                body.validated_data.get("edition"),
                {str(key): value for key, value in body.validated_data["ratings"].items()},
            )
        except asam_rule.InvalidRatings as invalid:
            error = DjangoValidationError({key: [message] for key, message in invalid.errors.items()})
            raise ApiValidationError(_asam_errors(error)) from None
        return Response(_recommendation_data(recommendation))


# --- stored results -------------------------------------------------------------------------------


class ActingStaffSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.username


class InstrumentResponseSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    referral = serializers.UUIDField(source="referral.public_id", read_only=True, allow_null=True)
    answers = serializers.DictField(child=AnswerValueField(allow_null=True), help_text=ANSWER_HELP)
    administered_by = ActingStaffSerializer(read_only=True)

    class Meta:
        model = InstrumentResponse
        fields = [
            "id",
            "patient",
            "referral",
            "instrument_code",
            "instrument_version",
            "answers",
            "sex_used",
            "total",
            "band",
            "flags",
            "notes",
            "administered_at",
            "administered_by",
        ]
        read_only_fields = fields


class AdministerSerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient's id.")
    instrument_code = serializers.CharField(required=False, help_text="phq-9, gad-7, audit, audit-c, ...")
    instrument = serializers.CharField(required=False, write_only=True, help_text="Alias of instrument_code.")
    schema_required = ("instrument_code",)
    answers = AnswersField(help_text=ANSWER_HELP)
    sex = _sex_field()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_NOTES)

    def validate(self, attrs):
        code = attrs.get("instrument_code") or attrs.get("instrument")
        if not code:
            raise ApiValidationError({"instrument_code": ["Required: the instrument's code, e.g. phq-9."]})
        attrs["instrument_code"] = code
        return attrs


class InstrumentResponseFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id", help_text="A patient's id.")
    instrument = django_filters.CharFilter(field_name="instrument_code", help_text="An instrument code.")

    class Meta:
        model = InstrumentResponse
        fields = ["patient", "instrument"]


class AuditedReadMixin:
    """Reads of stored results are chart reads: audited per patient (section "api"); a list
    page's patients in one append, so its queries do not grow with patients or rows.

    Minimum necessary (ADR 0008): a role that does not read `data_class` gets 403 on the list
    and 404 on a detail (the rows are outside its reach, like another team's patient's)."""

    data_class: str

    def readable(self, queryset):
        if not may_read_data_class(self.request.user, self.data_class):
            return queryset.none()
        return queryset

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        record_services.record_chart_view(actor=request.user, patient=instance.patient, section="api")
        return Response(self.get_serializer(instance).data)

    def list(self, request, *args, **kwargs):
        require_data_class(request.user, self.data_class)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        record_services.record_chart_views(
            actor=request.user, patients=[row.patient for row in rows], section="api"
        )
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


class InstrumentResponseViewSet(
    AuditedReadMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Administered instruments of the patients the caller may see, newest first.

    POST administers: clinicians and medical staff (others get 403); the engine validates.
    """

    queryset = InstrumentResponse.objects.none()  # for the schema; get_queryset scopes per user
    serializer_class = InstrumentResponseSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = InstrumentResponseFilter
    data_class = DataClass.INSTRUMENT_RESULTS

    def get_queryset(self):
        return self.readable(selectors.visible_instrument_responses(self.request.user))

    @extend_schema(request=AdministerSerializer, responses={201: InstrumentResponseSerializer})
    def create(self, request, *args, **kwargs):
        body = AdministerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        answers, sex = _answers_and_sex(data)
        patient = get_visible_patient(request.user, data["patient"])
        try:
            response = services.administer_instrument(
                actor=request.user,
                patient=patient,
                code=data["instrument_code"],
                answers=answers,
                sex=sex,
                notes=data.get("notes", ""),
            )
        except DjangoValidationError as error:
            raise ApiValidationError(_instrument_errors(error)) from None
        return Response(InstrumentResponseSerializer(response).data, status=status.HTTP_201_CREATED)


class AsamAssessmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    referral = serializers.UUIDField(source="referral.public_id", read_only=True, allow_null=True)
    assessed_by = ActingStaffSerializer(read_only=True)
    overridden = serializers.BooleanField(read_only=True)

    class Meta:
        model = AsamAssessment
        fields = [
            "id",
            "patient",
            "referral",
            "edition",
            "ratings",
            "dimension_notes",
            "recommended_level",
            "recommendation_reasons",
            "chosen_level",
            "override_reason",
            "overridden",
            "assessed_at",
            "assessed_by",
        ]
        read_only_fields = fields


class AssessSerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient's id.")
    schema_required = ("edition",)
    edition = _edition_field()
    ratings = RatingsField(help_text='Dimension ("1".."6") -> rating 0-4; all six are required.')
    dimension_notes = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=services.MAX_NOTES), required=False
    )
    chosen_level = serializers.CharField(
        required=False, allow_blank=True, help_text="Leave out to accept the recommended level."
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.MAX_NOTES,
        help_text="Required when chosen_level differs from the recommendation.",
    )


class AsamAssessmentFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id", help_text="A patient's id.")

    class Meta:
        model = AsamAssessment
        fields = ["patient"]


class AsamAssessmentViewSet(
    AuditedReadMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """ASAM assessments of the patients the caller may see, newest first.

    POST assesses: clinicians only (others get 403); the recommended level is the rule's.
    """

    queryset = AsamAssessment.objects.none()  # for the schema; get_queryset scopes per user
    serializer_class = AsamAssessmentSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATH_REGEX
    filterset_class = AsamAssessmentFilter
    data_class = DataClass.ASAM_RATINGS

    def get_queryset(self):
        return self.readable(selectors.visible_asam_assessments(self.request.user))

    @extend_schema(request=AssessSerializer, responses={201: AsamAssessmentSerializer})
    def create(self, request, *args, **kwargs):
        body = AssessSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        patient = get_visible_patient(request.user, data["patient"])
        try:
            assessment = services.assess_asam(
                actor=request.user,
                patient=patient,
                edition=data.get("edition"),
                ratings={str(key): value for key, value in data["ratings"].items()},
                dimension_notes=data.get("dimension_notes"),
                chosen_level=data.get("chosen_level") or None,
                override_reason=data.get("override_reason", ""),
            )
        except DjangoValidationError as error:
            raise ApiValidationError(_asam_errors(error)) from None
        return Response(AsamAssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)


ROUTES = [
    ("instruments", InstrumentDefinitionViewSet, "instrument"),
    ("asam", AsamViewSet, "asam"),
    ("instrument-responses", InstrumentResponseViewSet, "instrument-response"),
    ("asam-assessments", AsamAssessmentViewSet, "asam-assessment"),
]
