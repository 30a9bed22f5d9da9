"""Business events on the way in: recording a referral (with duplicate detection), closing it,
the eligibility checklist. Admission itself is `patients.services.records.admit_patient`,
which closes the referral it answers."""

import secrets
from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from iop.accounts.models import Role, Site
from iop.accounts.permissions import PATIENT_WRITER_ROLES, require_role
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from iop.core.concurrency import save_if_unchanged
from patients.access import NoSuchPatient, can_see_patient, require_standing_reach
from patients.models import (
    DuplicateReference,
    EligibilityReview,
    EpisodeStatus,
    Patient,
    Referral,
    ReferralOutcome,
    ReferralStatus,
)
from patients.selectors.intake import possible_duplicates
from patients.services.auditing import audit_patient_change
from patients.services.records import register_patient

REFERRAL_FIELDS = (
    "source",
    "source_detail",
    "referrer_name",
    "referrer_phone",
    "referrer_email",
    "reason",
    "urgency",
    "intake_clinician",
)
INTAKE_CLINICIAN_ROLES = (Role.CLINICIAN, Role.MEDICAL)
CLOSING_OUTCOMES = (ReferralOutcome.REFERRED_ELSEWHERE, ReferralOutcome.DECLINED, ReferralOutcome.NO_SHOW)


DUPLICATE_REFERENCE_MINUTES = 30
MIN_ATTACH_REASON = 20
_REFERENCE_SALT = "patients.duplicate-reference"
REFERENCE_UNUSABLE = "This reference has expired or was already used: record the referral again."


class PossibleDuplicate(ValidationError):
    """A patient with the same legal name and date of birth already has a record.

    `references`: {patient pk: opaque reference} for the matches the actor may not see (their
    id is never shown; attaching goes through the reference, with a reason).
    """

    def __init__(self, matches: list[Patient], references: dict[int, str] | None = None):
        super().__init__(
            "A patient with this name and date of birth already has a record. Attach the referral to "
            "that record, or confirm that this is a different person."
        )
        self.matches = matches
        self.references = references or {}


def _issue_references(actor, matches: list[Patient]) -> dict[int, str]:
    """A single-use, expiring reference per match the actor may not see: a signed random nonce
    (django.core.signing.TimestampSigner), the nonce stored with the actor and the record."""
    references = {}
    expires_at = timezone.now() + timedelta(minutes=DUPLICATE_REFERENCE_MINUTES)
    signer = signing.TimestampSigner(salt=_REFERENCE_SALT)
    for match in matches:
        if can_see_patient(actor, match):
            continue
        nonce = secrets.token_urlsafe(24)
        DuplicateReference.objects.create(
            user=actor, patient=match, site=match.site, nonce=nonce, expires_at=expires_at
        )
        references[match.pk] = signer.sign(nonce)
    return references


def _redeem_reference(actor, reference: str) -> DuplicateReference:
    """The unused, unexpired reference `actor` was given, locked; else a ValidationError."""
    try:
        nonce = signing.TimestampSigner(salt=_REFERENCE_SALT).unsign(
            reference, max_age=timedelta(minutes=DUPLICATE_REFERENCE_MINUTES)
        )
    except signing.BadSignature:  # also an expired signature
        raise ValidationError({"attach_reference": REFERENCE_UNUSABLE}) from None
    found = (
        DuplicateReference.objects.select_for_update()
        .select_related("patient", "site")
        .filter(nonce=nonce, user=actor, used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if found is None:
        raise ValidationError({"attach_reference": REFERENCE_UNUSABLE})
    return found


def _check_intake_clinician(site: Site, clinician) -> None:
    if clinician is None:
        return
    if clinician.role not in INTAKE_CLINICIAN_ROLES or not clinician.is_active:
        raise ValidationError({"intake_clinician": "Choose an active clinician or medical staff member."})
    if not clinician.sites.filter(pk=site.pk).exists():
        raise ValidationError({"intake_clinician": "That staff member does not work at this site."})


def _require_referral_site(actor, referral: Referral) -> None:
    if not (actor.is_superuser or actor.sites.filter(pk=referral.site_id).exists()):
        raise PermissionError("This referral is at a site you do not work at.")


def _check_referred_at(referred_at: datetime) -> None:
    if referred_at > timezone.now():
        raise ValidationError({"referred_at": "The referral cannot be in the future."})


@transaction.atomic
def _show_duplicates(actor, matches: list[Patient]) -> dict[int, str]:
    """Showing a possible duplicate reveals name, date of birth and MRN: audit each (committed
    even though the referral itself is not recorded yet). Returns the references issued for
    the matches the actor may not see."""
    references = _issue_references(actor, matches)
    for match in matches:
        record_event(
            actor=actor,
            action=AuditAction.READ,
            object_type="patients.duplicate_check",
            object_id=match.public_id,
            patient_public_id=match.public_id,
        )
    return references


def record_referral(
    *,
    actor,
    site: Site,
    patient: Patient | None = None,
    new_patient: dict | None = None,
    confirmed_new_person: bool = False,
    referred_at: datetime | None = None,
    attach_reference: str = "",
    attach_reason: str = "",
    **referral_fields,
) -> Referral:
    """Record a referral for an existing patient, or for a new person (registered here).

    A new person whose legal name and date of birth match a record at the actor's sites raises
    `PossibleDuplicate` (with the matches) unless `confirmed_new_person`; showing the matches
    is audited even then, so the check runs before the referral's own transaction.

    `attach_reference` (from `PossibleDuplicate.references`) attaches the referral to a matching
    record the actor may not see: it needs `attach_reason`, is audited as widening reach and is
    listed in the admins' access log.
    """
    require_role(actor, PATIENT_WRITER_ROLES, "record referrals")
    if not (actor.is_superuser or actor.sites.filter(pk=site.pk).exists()):
        raise ValidationError({"site": "You do not work at that site."})
    if attach_reference:
        with transaction.atomic():
            return _attach_through_reference(
                actor=actor,
                site=site,
                reference=attach_reference,
                attach_reason=attach_reason,
                referred_at=referred_at,
                **referral_fields,
            )
    if patient is None and new_patient and not confirmed_new_person:
        matches = list(
            possible_duplicates(
                actor,
                legal_first_name=new_patient.get("legal_first_name", ""),
                legal_last_name=new_patient.get("legal_last_name", ""),
                date_of_birth=new_patient.get("date_of_birth"),
            )
        )
        if matches:
            raise PossibleDuplicate(matches, _show_duplicates(actor, matches))
    try:
        with transaction.atomic():
            return _record_referral(
                actor=actor,
                site=site,
                patient=patient,
                new_patient=new_patient,
                confirmed_new_person=confirmed_new_person,
                referred_at=referred_at,
                **referral_fields,
            )
    except IntegrityError as error:  # one open referral per patient (a database constraint)
        raise ValidationError("This patient already has an open referral: continue that one.") from error


def _attach_through_reference(
    *, actor, site, reference, attach_reason, referred_at, **referral_fields
) -> Referral:
    reason = (attach_reason or "").strip()
    if len(reason) < MIN_ATTACH_REASON:
        raise ValidationError(
            {"attach_reason": f"Say why in a sentence (at least {MIN_ATTACH_REASON} characters)."}
        )
    found = _redeem_reference(actor, reference)
    patient = Patient.objects.select_for_update().get(pk=found.patient_id)
    # Nothing about the record's state: only that it cannot take a referral now, and where to ask.
    if (
        patient.episodes.filter(status=EpisodeStatus.ACTIVE).exists()
        or Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN).exists()
    ):
        raise ValidationError(
            f"That record cannot take a new referral now: ask the intake team at {found.site.name}."
        )
    referral = _new_referral(actor, site, patient, referred_at, referral_fields)
    found.used_at = timezone.now()
    found.reason = reason
    found.referral = referral
    found.save(update_fields=["used_at", "reason", "referral", "updated_at"])
    record_event(
        actor=actor,
        action=AuditAction.BREAK_GLASS,
        object_type="patients.duplicate_attachment",
        object_id=found.public_id,
        patient_public_id=patient.public_id,
        reason=f"widens reach: referral attached to a record out of reach: {reason}",
    )
    return referral


def _check_referral_fields(actor, site, referred_at, referral_fields) -> datetime:
    unknown = set(referral_fields) - set(REFERRAL_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    if not (referral_fields.get("reason") or "").strip():
        raise ValidationError({"reason": "Say why the person is referred."})
    referred_at = referred_at or timezone.now()
    _check_referred_at(referred_at)
    if referral_fields.get("intake_clinician") is None and actor.role in INTAKE_CLINICIAN_ROLES:
        referral_fields["intake_clinician"] = actor  # someone must see this intake's alerts
    _check_intake_clinician(site, referral_fields.get("intake_clinician"))
    return referred_at


def _new_referral(actor, site, patient, referred_at, referral_fields) -> Referral:
    referred_at = _check_referral_fields(actor, site, referred_at, referral_fields)
    referral = Referral.objects.create(
        patient=patient, site=site, referred_at=referred_at, created_by=actor, **referral_fields
    )
    audit_patient_change(actor, AuditAction.CREATE, referral, patient, changed_fields=sorted(referral_fields))
    return referral


def _record_referral(
    *, actor, site, patient, new_patient, confirmed_new_person, referred_at, **referral_fields
) -> Referral:
    referred_at = _check_referral_fields(actor, site, referred_at, referral_fields)
    if patient is None:
        if not new_patient:
            raise ValidationError("Choose the patient or give the new person's details.")
        # Serialise registrations at the site, then look again: two people recording the same
        # caller at once must not make two records.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        if (
            not confirmed_new_person
            and possible_duplicates(
                actor,
                legal_first_name=new_patient.get("legal_first_name", ""),
                legal_last_name=new_patient.get("legal_last_name", ""),
                date_of_birth=new_patient.get("date_of_birth"),
            ).exists()
        ):
            raise ValidationError("A record for this person was just created: record the referral again.")
        patient = register_patient(actor=actor, site=site, **new_patient)
    else:
        # A record out of reach is attached only through a duplicate reference (with a reason).
        if not can_see_patient(actor, patient):
            raise NoSuchPatient()  # exactly as for an id that does not exist
        require_standing_reach(actor, patient, what="record a referral for this patient")
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.episodes.filter(status=EpisodeStatus.ACTIVE).exists():
            raise ValidationError("This patient is in treatment now (an active episode of care).")
        if Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN).exists():
            raise ValidationError("This patient already has an open referral: continue that one.")
    referral = Referral.objects.create(
        patient=patient, site=site, referred_at=referred_at, created_by=actor, **referral_fields
    )
    audit_patient_change(actor, AuditAction.CREATE, referral, patient, changed_fields=sorted(referral_fields))
    return referral


@transaction.atomic
def update_referral(*, actor, referral: Referral, expected_version: int | None, changes: dict) -> Referral:
    require_role(actor, PATIENT_WRITER_ROLES, "change referrals")
    _require_referral_site(actor, referral)
    if referral.status != ReferralStatus.OPEN:
        raise ValidationError("This referral is closed.")
    unknown = set(changes) - set(REFERRAL_FIELDS) - {"referred_at"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    if "referred_at" in changes:
        _check_referred_at(changes["referred_at"])
        if referral.screened_at and changes["referred_at"] > referral.screened_at:
            raise ValidationError({"referred_at": "The referral cannot be after its first screening."})
    if "intake_clinician" in changes:
        _check_intake_clinician(referral.site, changes["intake_clinician"])
    changed = [name for name, value in changes.items() if getattr(referral, name) != value]
    for name in changed:
        setattr(referral, name, changes[name])
    save_if_unchanged(referral, expected_version=expected_version, fields=changed)
    if changed:
        audit_patient_change(actor, AuditAction.UPDATE, referral, referral.patient, changed_fields=changed)
    return referral


@transaction.atomic
def close_referral(
    *, actor, referral: Referral, outcome: str, detail: str = "", expected_version: int | None
) -> Referral:
    """Close a referral that did not lead to admission: referred elsewhere (say where and why),
    declined, or no show. (Admission closes its referral itself.)"""
    require_role(actor, PATIENT_WRITER_ROLES, "close referrals")
    _require_referral_site(actor, referral)
    if outcome not in CLOSING_OUTCOMES:
        raise ValidationError({"outcome": "Choose referred elsewhere, declined or no show."})
    if outcome == ReferralOutcome.REFERRED_ELSEWHERE and not detail.strip():
        raise ValidationError({"detail": "Say where the person was referred, and why."})
    if referral.status != ReferralStatus.OPEN:
        raise ValidationError("This referral is already closed.")
    referral.status = ReferralStatus.CLOSED
    referral.outcome = outcome
    referral.outcome_detail = detail.strip()
    referral.closed_at = timezone.now()
    save_if_unchanged(
        referral,
        expected_version=expected_version,
        fields=["status", "outcome", "outcome_detail", "closed_at"],
    )
    audit_patient_change(
        actor, AuditAction.UPDATE, referral, referral.patient, changed_fields=["status", "outcome"]
    )
    return referral


@transaction.atomic
def review_eligibility(*, actor, referral: Referral, notes: str = "", **criteria: bool) -> EligibilityReview:
    """Record the eligibility checklist (a new review each time; the latest counts)."""
    require_role(actor, (Role.CLINICIAN, Role.MEDICAL, Role.CASE_MANAGER), "review eligibility")
    _require_referral_site(actor, referral)
    if referral.status != ReferralStatus.OPEN:
        raise ValidationError("This referral is closed.")
    unknown = set(criteria) - set(EligibilityReview.CRITERIA)
    missing = set(EligibilityReview.CRITERIA) - set(criteria)
    if unknown or missing:
        raise ValidationError({name: "Answer yes or no." for name in sorted(unknown | missing)})
    review = EligibilityReview.objects.create(
        referral=referral, notes=notes.strip(), reviewed_by=actor, **criteria
    )
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        review,
        referral.patient,
        changed_fields=[*EligibilityReview.CRITERIA, "notes"],
    )
    return review
