"""Business events of pre-admission screening: administering an instrument, an ASAM assessment.

Who may do what (docs/decisions/0004-screening-instruments.md):
- Clinicians (including clinical supervisors) and medical staff administer every instrument;
  medical staff are the usual raters of the withdrawal scales (CIWA-Ar, COWS).
- Clinicians do ASAM assessments.
- Case managers, peer support and admins read the results of the patients they can see, but
  do not administer or assess. Superusers may do everything (technical accounts).
- Writing a result is writing the clinical record: on top of the role, the actor must work at
  the site holding the record (`patients.access.require_clinical_write`), so seeing a patient
  through an old episode at another site is not enough. Break-the-glass access may write (an
  emergency assessment is legitimate).
- Results saved while the patient has an open referral belong to that referral, so a
  readmission's intake is judged on its own screening, not an earlier episode's.
- Scores use this installation's configuration (`score_for_installation`: CIWA-Ar bands from
  the CIWA_AR_BANDS setting) wherever they are computed: saving, the live score, the API.

The scoring itself is `patients.instruments` (pure, one engine for every instrument) and the
level-of-care rule is `patients.asam_rule`; these functions validate with them, store the
result, audit it in the same transaction, mark the referral screened and raise alerts.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from iop.accounts.permissions import require_role
from iop.audit.models import AuditAction
from patients import asam_rule
from patients.access import require_clinical_write
from patients.instruments import (
    BAND_MODERATE,
    FLAG_HIGH_SUICIDE_RISK,
    FLAG_MEDICAL_REVIEW_BEFORE_IOP,
    FLAG_SUICIDE_RISK,
    FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP,
    InvalidAnswers,
    ScoreResult,
    score,
)
from patients.instruments.definitions import Instrument
from patients.models import (
    AlertSeverity,
    AsamAssessment,
    AsamEdition,
    InstrumentResponse,
    Patient,
    Referral,
)
from patients.selectors.screening import (
    ASAM_ROLES,
    INSTRUMENT_ROLES,
    installation_bands,
    offered_instrument,
    open_referral_of,
    short_name,
)
from patients.services.auditing import audit_patient_change
from patients.services.records import raise_alert

MAX_NOTES = 4000


# --- alerts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRule:
    """What a stored result's flag raises on the chart and the care team's home pages."""

    message: str  # may use {name}, {band}
    severity_by_band: Mapping[str, str] | None = None  # default: `severity`
    severity: str = AlertSeverity.HIGH

    def severity_for(self, band: str) -> str:
        return (self.severity_by_band or {}).get(band, self.severity)


# Flags that raise an alert; the alert's kind is the flag. Instruments are data, so this is
# keyed by flag (a new instrument reusing a flag raises the same alert), not by instrument.
ALERT_RULES: Mapping[str, AlertRule] = {
    FLAG_SUICIDE_RISK: AlertRule(
        "{name} item 9 positive: same-day suicide risk assessment (C-SSRS) needed",
    ),
    FLAG_HIGH_SUICIDE_RISK: AlertRule(
        "{name} high risk: safety precautions now, do not leave the person alone, immediate evaluation",
    ),
    FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP: AlertRule(
        "{name} {band}: IOP not suitable now; withdrawal management first (ASAM Dimension 1)",
        severity_by_band={BAND_MODERATE: AlertSeverity.MEDIUM},
    ),
    FLAG_MEDICAL_REVIEW_BEFORE_IOP: AlertRule(
        "{name} {band}: medical review before IOP",
        severity_by_band={BAND_MODERATE: AlertSeverity.MEDIUM},
    ),
}


def _raise_alerts(*, actor, patient: Patient, instrument: Instrument, band: str, flags: list[str]) -> None:
    for flag in flags:
        rule = ALERT_RULES.get(flag)
        if rule is None:
            continue
        raise_alert(
            actor=actor,
            patient=patient,
            kind=flag,
            message=rule.message.format(name=short_name(instrument), band=band)[:255],
            severity=rule.severity_for(band),
        )


# --- the referral ---------------------------------------------------------------------------------


def _mark_screened(*, actor, patient: Patient, referral: Referral | None, when) -> None:
    """The first screening result saved for an open referral sets its `screened_at`.

    Compare-and-set, so two results saved at once set it once. The referral's version is not
    bumped: `screened_at` is set by the system, and an intake worker editing the referral
    meanwhile must not be told that someone else changed it.
    """
    if referral is None:
        return
    updated = Referral.objects.filter(pk=referral.pk, screened_at__isnull=True).update(
        screened_at=when, updated_at=timezone.now()
    )
    if updated:
        referral.screened_at = when
        audit_patient_change(actor, AuditAction.UPDATE, referral, patient, changed_fields=["screened_at"])


# --- scoring --------------------------------------------------------------------------------------


def score_for_installation(
    code: str, answers: Mapping[str, int | bool], sex: str | None = None
) -> ScoreResult:
    """Score with this installation's configuration: the one place saving, the live score and
    the API score through, so they never disagree (CIWA-Ar: the CIWA_AR_BANDS setting).

    Raises what `patients.instruments.score` raises (InvalidAnswers, UnknownInstrument).
    """
    return score(code, answers, sex=sex, band_override=installation_bands(code))


# --- administering an instrument ------------------------------------------------------------------


def _clean_notes(notes: str | None) -> str:
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError({"notes": f"Keep notes under {MAX_NOTES} characters."})
    return notes


@transaction.atomic
def administer_instrument(
    *,
    actor,
    patient: Patient,
    code: str,
    answers: Mapping[str, int | bool],
    sex: str | None = None,
    notes: str = "",
) -> InstrumentResponse:
    """Score one administration with the engine and store it with its total, band and flags.

    `answers` maps published item numbers ("1", "6a", ...) to integers (choice items) or
    booleans (yes/no items, True = Yes as asked). Raises ValidationError naming each bad item
    (the keys are the item numbers, "sex" for AUDIT-C, "instrument" for an unknown or
    unavailable instrument) and PermissionError for a role that may not administer or an actor
    who may not write this patient's record. The response belongs to the open referral, if any.
    A safety flag (PHQ-9 item 9, C-SSRS high) raises a high-severity alert at once; a
    CIWA-Ar or COWS in the moderate band or worse raises a withdrawal alert.
    """
    require_role(actor, INSTRUMENT_ROLES, "administer screening instruments")
    require_clinical_write(actor, patient, allow_break_glass=True, what="administer instruments")
    instrument = offered_instrument(code)
    if instrument is None:
        raise ValidationError({"instrument": f"No instrument {code!r} is offered here."})
    notes = _clean_notes(notes)
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": "Expected item numbers mapped to answers."})
    answers = {str(key): value for key, value in answers.items()}
    sex_used = sex if instrument.requires_sex else None
    try:
        result = score_for_installation(instrument.code, answers, sex=sex_used)
    except InvalidAnswers as invalid:
        raise ValidationError({key: [message] for key, message in invalid.errors.items()}) from None

    now = timezone.now()
    referral = open_referral_of(patient)
    response = InstrumentResponse.objects.create(
        patient=patient,
        referral=referral,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        answers=answers,
        sex_used=sex_used or "",
        total=result.total,
        band=result.band,
        flags=list(result.flags),
        administered_at=now,
        administered_by=actor,
        notes=notes,
    )
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        response,
        patient,
        changed_fields=["instrument_code", "answers", "total", "band", "flags"],
    )
    _mark_screened(actor=actor, patient=patient, referral=referral, when=now)
    _raise_alerts(actor=actor, patient=patient, instrument=instrument, band=result.band, flags=result.flags)
    return response


# --- ASAM assessment ------------------------------------------------------------------------------


def _clean_dimension_notes(dimension_notes: Mapping[str, str] | None) -> dict[str, str]:
    if dimension_notes is None:
        return {}
    if not isinstance(dimension_notes, Mapping):
        raise ValidationError({"dimension_notes": "Expected dimension numbers mapped to notes."})
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for key, note in dimension_notes.items():
        key = str(key)
        if key not in asam_rule.DIMENSIONS:
            errors[f"notes_{key}"] = "Unknown dimension (expected 1 to 6)."
        elif not isinstance(note, str):
            errors[f"notes_{key}"] = "Notes must be text."
        elif len(note.strip()) > MAX_NOTES:
            errors[f"notes_{key}"] = f"Keep notes under {MAX_NOTES} characters."
        elif note.strip():
            cleaned[key] = note.strip()
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def assess_asam(
    *,
    actor,
    patient: Patient,
    edition: str,
    ratings: Mapping[str, int],
    dimension_notes: Mapping[str, str] | None = None,
    chosen_level: str | None = None,
    override_reason: str = "",
) -> AsamAssessment:
    """Store an ASAM assessment: the rule's recommended level and reasons, and the level chosen.

    `chosen_level` empty or None accepts the recommendation. A different level needs an
    `override_reason`. Raises ValidationError naming each bad field ("edition", a dimension
    "1".."6", "chosen_level", "override_reason", "notes_<n>") and PermissionError (role, or
    not allowed to write this patient's record). It belongs to the open referral, if any.
    """
    require_role(actor, ASAM_ROLES, "do ASAM assessments")
    require_clinical_write(actor, patient, allow_break_glass=True, what="assess ASAM dimensions")
    edition = str(edition) if isinstance(edition, int) and not isinstance(edition, bool) else edition
    try:
        recommendation = asam_rule.recommend_level(edition, ratings)
    except asam_rule.InvalidRatings as invalid:
        raise ValidationError({key: [message] for key, message in invalid.errors.items()}) from None
    notes = _clean_dimension_notes(dimension_notes)
    chosen = (chosen_level or "").strip() or recommendation.level
    reason = (override_reason or "").strip()
    if chosen not in asam_rule.LEVELS[edition]:
        raise ValidationError(
            {
                "chosen_level": (
                    f"{chosen} is not a level of the {AsamEdition(edition).label}; choose one of "
                    f"{', '.join(asam_rule.LEVELS[edition])}."
                )
            }
        )
    if chosen != recommendation.level and not reason:
        raise ValidationError(
            {
                "override_reason": (
                    f"Give the reason for choosing level {chosen} instead of the recommended "
                    f"level {recommendation.level}."
                )
            }
        )
    if len(reason) > MAX_NOTES:
        raise ValidationError({"override_reason": f"Keep the reason under {MAX_NOTES} characters."})

    now = timezone.now()
    referral = open_referral_of(patient)
    assessment = AsamAssessment.objects.create(
        patient=patient,
        referral=referral,
        edition=edition,
        ratings={key: ratings[key] for key in asam_rule.DIMENSIONS},
        dimension_notes=notes,
        recommended_level=recommendation.level,
        recommendation_reasons=list(recommendation.reasons),
        chosen_level=chosen,
        override_reason=reason if chosen != recommendation.level else "",
        assessed_at=now,
        assessed_by=actor,
    )
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        assessment,
        patient,
        changed_fields=["edition", "ratings", "recommended_level", "chosen_level", "override_reason"],
    )
    _mark_screened(actor=actor, patient=patient, referral=referral, when=now)
    return assessment
