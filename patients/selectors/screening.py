"""Read queries of pre-admission screening: instrument results, their history, ASAM assessments.

Patient scoping comes from `patients.access`: the per-patient functions take a patient the
caller already obtained through `get_visible_patient`; the cross-patient ones start from
`visible_patients(user)`.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from iop.accounts.models import Role
from patients.access import visible_patients
from patients.instruments import (
    CIWA_AR,
    COWS,
    FLAG_CLINICALLY_SIGNIFICANT,
    FLAG_FURTHER_EVALUATION,
    FLAG_HIGH_SUICIDE_RISK,
    FLAG_MEDICAL_REVIEW_BEFORE_IOP,
    FLAG_POSITIVE_SCREEN,
    FLAG_SUICIDE_RISK,
    FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP,
    SAFETY_FLAGS,
    UnknownInstrument,
    get_definition,
    list_definitions,
)
from patients.instruments.definitions import Band, Instrument
from patients.instruments.engine import parse_band_setting
from patients.models import (
    AsamAssessment,
    CareTeamMember,
    EpisodeStatus,
    InstrumentResponse,
    Patient,
    Referral,
    ReferralStatus,
)
from patients.selectors.intake import open_referral_of

# How many administrations per instrument the chart on the Intake tab draws (newest kept).
SERIES_POINTS = 52
# Roles that administer instruments / do ASAM assessments (the services enforce it; templates
# use these to show or hide the buttons).
INSTRUMENT_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL})
ASAM_ROLES = frozenset({Role.CLINICIAN})

# Badge text for each flag the instruments can raise (unknown flags show their name).
FLAG_LABELS = {
    FLAG_SUICIDE_RISK: "Suicide risk",
    FLAG_HIGH_SUICIDE_RISK: "High suicide risk",
    FLAG_FURTHER_EVALUATION: "Further evaluation",
    FLAG_POSITIVE_SCREEN: "Positive screen",
    FLAG_CLINICALLY_SIGNIFICANT: "Clinically significant",
    FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP: "Withdrawal management before IOP",
    FLAG_MEDICAL_REVIEW_BEFORE_IOP: "Medical review before IOP",
}
# Flags that stop or delay IOP: shown as prominently as safety flags.
IOP_BLOCKING_FLAGS = frozenset({FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP, FLAG_MEDICAL_REVIEW_BEFORE_IOP})

# Instruments whose bands this installation configures (CLINICAL.md: CIWA-Ar bands are
# protocol-dependent), and the setting that holds them (iop/settings.py, env CIWA_AR_BANDS).
BAND_SETTINGS = {CIWA_AR: "CIWA_AR_BANDS"}

_SHORT_NAMES = {"audit": "AUDIT", "audit-c": "AUDIT-C", "cage": "CAGE", "ciwa-ar": "CIWA-Ar", "cows": "COWS"}


# --- what this installation offers ----------------------------------------------------------------


def licence_confirmed() -> bool:
    """The installation has confirmed the licences of licence-gated instruments (DAST-10)."""
    return bool(getattr(settings, "DAST10_LICENCE_CONFIRMED", False))


def offered_instruments() -> list[Instrument]:
    """Instruments this installation offers (DAST-10 only when its licence is confirmed)."""
    return list_definitions(licence_confirmed=licence_confirmed())


def offered_instrument(code: str) -> Instrument | None:
    """The definition of `code` if this installation offers it, else None."""
    try:
        instrument = get_definition(code)
    except UnknownInstrument:
        return None
    if instrument.requires_licence_confirmation and not licence_confirmed():
        return None
    return instrument


def installation_bands(code: str) -> tuple[Band, ...] | None:
    """The bands this installation uses for `code` when they are configurable, else None (the
    published bands). Checked by the settings at start-up, and again by the engine."""
    setting = BAND_SETTINGS.get(code)
    value = getattr(settings, setting, None) if setting else None
    if not value:
        return None
    return parse_band_setting(value) if isinstance(value, str) else tuple(value)


def active_bands(instrument: Instrument, sex: str | None = None) -> tuple[Band, ...]:
    """The bands a total of `instrument` falls into here: configured, by sex (AUDIT-C) or published."""
    configured = installation_bands(instrument.code)
    if configured is not None:
        return configured
    if instrument.bands_by_sex is not None:
        return instrument.bands_by_sex.get(sex or "", ())
    return instrument.bands


def known_instrument(code: str) -> Instrument | None:
    """Any instrument the engine knows (stored results stay readable if the licence setting
    changes later)."""
    try:
        return get_definition(code)
    except UnknownInstrument:
        return None


def short_name(instrument_or_code) -> str:
    """The instrument's code as clinicians write it: PHQ-9, CIWA-Ar, AUDIT-C, ..."""
    code = getattr(instrument_or_code, "code", instrument_or_code)
    return _SHORT_NAMES.get(code, str(code).upper())


def may_administer_instruments(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role in INSTRUMENT_ROLES))


def may_assess_asam(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role in ASAM_ROLES))


def flag_badges(flags) -> list[dict]:
    return [
        {
            "name": flag,
            "label": FLAG_LABELS.get(flag, flag.replace("_", " ")),
            "urgent": flag in SAFETY_FLAGS or flag in IOP_BLOCKING_FLAGS,
        }
        for flag in (flags or [])
    ]


# --- querysets ------------------------------------------------------------------------------------


def visible_instrument_responses(user) -> QuerySet[InstrumentResponse]:
    """Every instrument response of the patients `user` may see, newest first."""
    return InstrumentResponse.objects.filter(patient__in=visible_patients(user)).select_related(
        "patient", "administered_by", "referral"
    )


def visible_asam_assessments(user) -> QuerySet[AsamAssessment]:
    return AsamAssessment.objects.filter(patient__in=visible_patients(user)).select_related(
        "patient", "assessed_by", "referral"
    )


def instrument_history(patient: Patient, code: str) -> QuerySet[InstrumentResponse]:
    """All administrations of one instrument to `patient`, newest first."""
    return patient.instrument_responses.filter(instrument_code=code).select_related("administered_by")


def asam_history(patient: Patient) -> QuerySet[AsamAssessment]:
    return patient.asam_assessments.select_related("assessed_by")


# --- presentation helpers (plain data for templates and the chart) --------------------------------


def answer_rows(instrument: Instrument | None, response: InstrumentResponse) -> list[dict]:
    """Each item of a stored response with its wording and the label of the answer given."""
    answers = response.answers or {}
    if instrument is None:
        return [
            {"key": key, "timeframe": "", "wording": "", "answer": value, "label": str(value)}
            for key, value in answers.items()
        ]
    rows = []
    for item in instrument.items:
        if item.key not in answers:
            rows.append(
                {
                    "key": item.key,
                    "timeframe": item.timeframe,
                    "wording": item.wording,
                    "answer": None,
                    "label": "Not asked",
                }
            )
            continue
        value = answers[item.key]
        label = next((option.label for option in item.options if option.value == value), str(value))
        rows.append(
            {
                "key": item.key,
                "timeframe": item.timeframe,
                "wording": item.wording,
                "answer": value,
                "label": label,
            }
        )
    return rows


def _point(instrument: Instrument | None, total, band: str, administered_at) -> dict:
    local = timezone.localtime(administered_at)
    if instrument is not None and not instrument.has_total:
        names = list(instrument.band_names)
        value = names.index(band) if band in names else None
    else:
        value = total
    return {"x": f"{local:%Y-%m-%d %H:%M}", "y": value, "band": band}


def _series_entry(instrument: Instrument | None, code: str) -> dict:
    entry = {
        "code": code,
        "label": short_name(code),
        "name": instrument.name if instrument else code,
        "points": [],
        "min": 0,
    }
    if instrument is not None and not instrument.has_total:
        entry["tiers"] = list(instrument.band_names)
        entry["max"] = len(instrument.band_names) - 1
    elif instrument is not None:
        entry["min"] = instrument.min_total
        entry["max"] = instrument.max_total
        # The y axis's ticks: where each band starts (AUDIT-C: its bands differ by sex, so only
        # the numbers where any band starts, unnamed).
        bands = installation_bands(instrument.code) or instrument.bands  # CIWA-Ar's are configurable
        if bands:
            entry["bands"] = [{"name": band.name, "low": band.low} for band in bands]
        elif instrument.bands_by_sex:
            lows = sorted({band.low for bands in instrument.bands_by_sex.values() for band in bands})
            entry["bands"] = [{"name": "", "low": low} for low in lows]
    return entry


def score_series(patient: Patient, *, code: str | None = None, points: int = SERIES_POINTS) -> list[dict]:
    """Scores over time for the chart: one series per instrument, oldest point first.

    One query: the newest `points` administrations of each instrument (a window function),
    so the chart costs the same however long the history is. The C-SSRS has no total: its
    points are the risk tier's rank, with the tier names for the axis.
    """
    rows = patient.instrument_responses.all()
    if code is not None:
        rows = rows.filter(instrument_code=code)
    rows = (
        rows.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("instrument_code")],
                order_by=[F("administered_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=points)
        .values_list("instrument_code", "total", "band", "administered_at")
        .order_by("instrument_code", "administered_at", "id")
    )
    series: dict[str, dict] = {}
    for row_code, total, band, administered_at in rows:
        instrument = known_instrument(row_code)
        entry = series.get(row_code)
        if entry is None:
            entry = series[row_code] = _series_entry(instrument, row_code)
        entry["points"].append(_point(instrument, total, band, administered_at))
    order = {instrument.code: index for index, instrument in enumerate(list_definitions())}
    return sorted(series.values(), key=lambda entry: order.get(entry["code"], len(order)))


# --- the open referral (a readmission is judged on its own screening) -----------------------------


def referral_asam_assessments(referral: Referral | None) -> QuerySet[AsamAssessment]:
    """The ASAM assessments done for `referral`, newest first (none without a referral)."""
    if referral is None:
        return AsamAssessment.objects.none()
    return referral.asam_assessments.select_related("assessed_by").order_by("-assessed_at", "-id")


def referral_asam(referral: Referral | None) -> AsamAssessment | None:
    """The latest ASAM assessment done for `referral` (not one from an earlier episode)."""
    return referral_asam_assessments(referral).first()


def referral_instrument_responses(referral: Referral | None) -> QuerySet[InstrumentResponse]:
    """The instruments administered for `referral`, newest first (none without a referral)."""
    if referral is None:
        return InstrumentResponse.objects.none()
    return referral.instrument_responses.select_related("administered_by").order_by("-administered_at", "-id")


def referral_instrument_count(referral: Referral | None) -> int:
    """How many instruments were administered for `referral` (0 without a referral)."""
    return referral.instrument_responses.count() if referral is not None else 0


# --- the Intake tab's card ------------------------------------------------------------------------


def latest_results(patient: Patient) -> list[dict]:
    """Each instrument given to `patient`: its latest response and how many there are (one
    query: the newest of each instrument, with its instrument's count beside it)."""
    latest_rows = patient.instrument_responses.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("instrument_code")],
            order_by=[F("administered_at").desc(), F("id").desc()],
        ),
        count_of_code=Window(Count("id"), partition_by=[F("instrument_code")]),
    ).filter(rank=1)
    latest = {response.instrument_code: response for response in latest_rows}
    counts = {code: response.count_of_code for code, response in latest.items()}
    results = []
    for instrument in list_definitions():
        response = latest.pop(instrument.code, None)
        if response is not None:
            results.append(
                {
                    "instrument": instrument,
                    "code": instrument.code,
                    "short_name": short_name(instrument),
                    "latest": response,
                    "flags": flag_badges(response.flags),
                    "count": counts.get(instrument.code, 0),
                }
            )
    for code, response in latest.items():  # codes no longer defined: still shown
        results.append(
            {
                "instrument": None,
                "code": code,
                "short_name": short_name(code),
                "latest": response,
                "flags": flag_badges(response.flags),
                "count": counts.get(code, 0),
            }
        )
    return results


_UNREAD = object()


def intake_card_context(patient, *, referral=_UNREAD) -> dict:
    """What the chart's Intake tab shows for this area (a fixed number of queries).

    `asam_latest`/`asam_count` and the results table are the patient's whole history; the
    intake checklist of an open referral (a readmission too) must use `referral_asam` and
    `referral_instrument_count`: the screening done for that referral, not an old episode's.
    `referral`: the open referral when the caller has read it already.
    """
    referral = open_referral_of(patient) if referral is _UNREAD else referral
    # The latest assessment, with how many there are (a window count: one query).
    asam_rows = list(patient.asam_assessments.annotate(count_of_all=Window(Count("id")))[:1])
    asam_latest = asam_rows[0] if asam_rows else None
    if referral is None:
        current_asam = None
    elif asam_latest is not None and asam_latest.referral_id == referral.pk:
        current_asam = asam_latest
    else:
        current_asam = referral_asam(referral) if asam_latest is not None else None
    results = latest_results(patient)
    for result in results:
        result["before_referral"] = referral is not None and result["latest"].referral_id != referral.pk
    return {
        "screening_offered": [
            {"code": instrument.code, "short_name": short_name(instrument), "name": instrument.name}
            for instrument in offered_instruments()
        ],
        "screening_results": results,
        "screening_series": score_series(patient),
        "screening_referral": referral,
        "asam_latest": asam_latest,
        "asam_count": asam_latest.count_of_all if asam_latest is not None else 0,
        "referral_asam": current_asam,
        "referral_instrument_count": referral_instrument_count(referral) if results else 0,
    }


# --- withdrawal assessments due (the medical home) --------------------------------------------

WITHDRAWAL_INSTRUMENTS = (CIWA_AR, COWS)
# Re-assess at least weekly while a patient is in intake or in Phase 1 (the early weeks, when
# withdrawal risk is highest for an outpatient), and at the next visit after a moderate or worse
# result (CLINICAL.md: moderate or worse means withdrawal management or medical review first).
WITHDRAWAL_RECHECK = timedelta(days=7)
WITHDRAWAL_MODERATE_OR_WORSE = ("moderate", "moderately severe", "severe")
WITHDRAWAL_DUE_ON_HOME = 20


def withdrawal_assessments_due(user) -> QuerySet[Patient]:
    """Patients for whom `user` should give a CIWA-Ar or COWS now: those in Phase 1 on the user's
    current care teams and those in intake (an open referral) at the user's sites, whose last
    CIWA-Ar/COWS is missing, older than WITHDRAWAL_RECHECK, or moderate or worse. Most urgent
    first (moderate or worse, then never assessed, then the oldest). Scoped by
    `patients.access.visible_patients`; a fixed number of queries.

    Each row carries `withdrawal_last_at`, `withdrawal_last_code`, `withdrawal_last_band`.
    """
    site_ids = [site.pk for site in user.sites.all()] if not user.is_superuser else None
    phase_1 = CareTeamMember.objects.filter(
        user=user,
        ended_on__isnull=True,
        episode__status=EpisodeStatus.ACTIVE,
        episode__current_phase__order=1,
    ).values("episode__patient_id")
    in_intake = Referral.objects.filter(status=ReferralStatus.OPEN)
    if site_ids is not None:
        in_intake = in_intake.filter(site_id__in=site_ids)
    latest = InstrumentResponse.objects.filter(
        patient=OuterRef("pk"), instrument_code__in=WITHDRAWAL_INSTRUMENTS
    ).order_by("-administered_at", "-id")
    stale_before = timezone.now() - WITHDRAWAL_RECHECK
    return (
        visible_patients(user)
        .filter(Q(pk__in=phase_1) | Q(pk__in=in_intake.values("patient_id")))
        .annotate(
            withdrawal_last_at=Subquery(latest.values("administered_at")[:1]),
            withdrawal_last_code=Subquery(latest.values("instrument_code")[:1]),
            withdrawal_last_band=Subquery(latest.values("band")[:1]),
        )
        .filter(
            Q(withdrawal_last_at__isnull=True)
            | Q(withdrawal_last_at__lt=stale_before)
            | Q(withdrawal_last_band__in=WITHDRAWAL_MODERATE_OR_WORSE)
        )
        .annotate(
            withdrawal_urgency=Case(
                When(withdrawal_last_band__in=WITHDRAWAL_MODERATE_OR_WORSE, then=Value(0)),
                When(withdrawal_last_at__isnull=True, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .select_related("current_episode__current_phase")
        .order_by(
            "withdrawal_urgency", F("withdrawal_last_at").asc(nulls_first=True), "legal_last_name", "id"
        )
    )
