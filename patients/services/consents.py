"""Business events: consents to treatment and 42 CFR Part 2 consents to disclose.

Who may do what (docs/decisions/0005-consents.md):
- Clinicians, case managers, medical staff and admins record a consent: the patient is present,
  reads the text on the screen and signs by typing their legal name; the staff member is the
  witness. Peer support does not record consents.
- The same roles record a revocation, with a note on how the patient asked (42 CFR 2.31 allows
  a revocation in writing or orally). The note is kept on the consent only: it may be clinical,
  so the permanent audit trail gets the names of the fields changed, never the note.
- Only someone who reaches the patient through their care team (or intake) at the site holding
  the record writes here: not an admin of another site who sees an old episode there, and not
  a clinician through break-the-glass (`patients.access.require_clinical_write`).
- A signed consent is never edited or deleted: it expires or is revoked, and re-signing
  records a new consent.

The consent text is generated here from the consent's terms and the patient's record, so the
text shown to the patient and the text stored with the signature (`text_presented`) are the
same string; a digest of the text shown travels with the signature and is checked at signing.
"""

import hashlib
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from iop.accounts.models import Role
from iop.accounts.permissions import require_role
from iop.audit.context import current_ip_address
from iop.audit.models import AuditAction
from patients.access import require_clinical_write
from patients.models import Consent, ConsentKind, ConsentStatus, Patient
from patients.services.auditing import audit_patient_change

CONSENT_ROLES = frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN})
ORGANISATION_NAME = "IOP Clinic"
PART2_TERMS = ("recipient", "purpose", "information_description", "expires_on", "expiry_event")

REDISCLOSURE_NOTICE = (
    "This record which has been disclosed to you is protected by federal confidentiality rules "
    "(42 CFR part 2). The federal rules prohibit you from making any further disclosure of this record "
    "unless further disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed in this record or, is otherwise permitted by 42 CFR part 2. A general "
    "authorization for the release of medical or other information is NOT sufficient for this purpose "
    "(see \u00a72.31). The federal rules restrict any use of the information to investigate or prosecute "
    "with regard to a crime any patient with a substance use disorder, except as provided at "
    "\u00a7\u00a72.12(c)(5) and 2.65."
)


def may_record_consents(user) -> bool:
    """Clinicians, case managers, medical staff and admins record and revoke consents."""
    return user.is_authenticated and (user.is_superuser or user.role in CONSENT_ROLES)


# --- The consent text ---------------------------------------------------------------------


def _long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _program_name(patient: Patient) -> str:
    return f"{ORGANISATION_NAME}, {patient.site.name}"


def _expiry_sentence(expires_on: date | None, expiry_event: str) -> str:
    if expires_on and expiry_event:
        return f"on {_long_date(expires_on)} or when {expiry_event}, whichever comes first"
    if expires_on:
        return f"on {_long_date(expires_on)}"
    return f"when {expiry_event}"


def treatment_consent_text(patient: Patient) -> str:
    """The fixed consent-to-treatment text, naming the patient and the program."""
    program = _program_name(patient)
    return "\n\n".join(
        [
            "CONSENT TO TREATMENT",
            f"Patient: {patient.legal_first_name} {patient.legal_last_name}, born "
            f"{_long_date(patient.date_of_birth)}. Program: {program} "
            "(intensive outpatient treatment, ASAM level 2.1).",
            f"I agree to receive treatment for substance use and related conditions from {program}. "
            "Treatment may include an assessment, group therapy, individual and family counselling, "
            "education, relapse-prevention and skills groups, case management, medication management "
            "and urine or other drug testing, as set out in an individualized treatment plan that I will "
            "help to write.",
            "I understand that treatment is voluntary. I may ask questions about my treatment at any time, "
            "and I may stop treatment at any time by telling my care team; stopping treatment does not "
            "affect my right to seek care elsewhere.",
            "I understand that the records of my treatment are protected by the federal rules on the "
            "confidentiality of substance use disorder patient records (42 CFR Part 2) and by HIPAA "
            "(45 CFR Parts 160 and 164). The program will not tell anyone outside the program that I attend "
            "it, or disclose information identifying me as having a substance use disorder, without my "
            "written consent, except as those rules allow (for example in a medical emergency, to report "
            "suspected child abuse or neglect under state law, or under a court order). Violation of these "
            "rules is a crime and may be reported to the authorities.",
            "I may revoke this consent at any time, except to the extent that the program has already "
            "acted on it.",
        ]
    )


def part2_consent_text(
    patient: Patient,
    *,
    recipient: str,
    purpose: str,
    information_description: str,
    expires_on: date | None,
    expiry_event: str,
) -> str:
    """The 42 CFR 2.31 consent to disclose, with the right to revoke and the 2.32 notice."""
    program = _program_name(patient)
    return "\n\n".join(
        [
            "CONSENT TO DISCLOSE SUBSTANCE USE DISORDER TREATMENT RECORDS (42 CFR PART 2)",
            f"I, {patient.legal_first_name} {patient.legal_last_name}, born "
            f"{_long_date(patient.date_of_birth)}, authorize {program} to disclose information from my "
            "records as described below.",
            f"Recipient (who may receive the information): {recipient}",
            f"Purpose of the disclosure: {purpose}",
            f"Information to be disclosed (how much and what kind): {information_description}",
            f"This consent expires {_expiry_sentence(expires_on, expiry_event)}.",
            "I understand that my substance use disorder treatment records are protected by federal law and "
            "regulations (42 CFR Part 2) and by HIPAA (45 CFR Parts 160 and 164), and cannot be disclosed "
            "without my written consent unless those rules provide otherwise.",
            "Right to revoke: I may revoke this consent at any time, in writing or by telling a member of "
            "the program's staff, except to the extent that the program has already acted in reliance on it.",
            "I understand that I do not have to sign this consent, and that my treatment, payment, "
            "enrollment or eligibility for benefits does not depend on my signing it.",
            "Notice to the recipient (42 CFR 2.32): the recipient may not re-disclose the information except "
            "as 42 CFR Part 2 permits. Every disclosure made under this consent is accompanied by this "
            f"statement: \u201c{REDISCLOSURE_NOTICE}\u201d",
        ]
    )


def text_digest(text: str) -> str:
    """The fingerprint of a consent text: the form (or API client) returns it with the signature."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _clean_terms(kind: str, terms: dict) -> dict:
    """Validate a consent's terms; return them trimmed. Raises ValidationError naming each field."""
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": f"Unknown consent kind; use one of {', '.join(ConsentKind.values)}."})
    cleaned = {
        "recipient": (terms.get("recipient") or "").strip(),
        "purpose": (terms.get("purpose") or "").strip(),
        # One newline convention, so the text is the same whichever way the terms travelled.
        "information_description": "\n".join(
            (terms.get("information_description") or "").strip().splitlines()
        ),
        "expires_on": terms.get("expires_on"),
        "expiry_event": (terms.get("expiry_event") or "").strip(),
    }
    unknown = set(terms) - set(PART2_TERMS)
    errors: dict[str, str] = {name: "Not a term of a consent." for name in sorted(unknown)}
    if kind == ConsentKind.TREATMENT:
        for name, value in cleaned.items():
            if value:
                errors[name] = "Only a 42 CFR Part 2 consent to disclose has this term."
    else:
        if not cleaned["recipient"]:
            errors["recipient"] = "Name the person or organisation that may receive the information."
        if not cleaned["purpose"]:
            errors["purpose"] = "Say why the information is disclosed."
        if not cleaned["information_description"]:
            errors["information_description"] = (
                "Describe how much and what kind of information may be disclosed."
            )
        if cleaned["expires_on"] is None and not cleaned["expiry_event"]:
            message = "Give an expiry date or an event that ends this consent (or both)."
            errors["expires_on"] = message
            errors["expiry_event"] = message
        elif cleaned["expires_on"] is not None and cleaned["expires_on"] <= timezone.localdate():
            errors["expires_on"] = "The expiry date must be in the future."
    if errors:
        raise ValidationError(errors)
    return cleaned


def validate_part2_terms(**terms) -> dict:
    """Check a Part 2 consent's terms (the form's review step uses it); returns them trimmed."""
    return _clean_terms(ConsentKind.PART2_DISCLOSURE, terms)


def consent_text(patient: Patient, kind: str, **terms) -> str:
    """The text the patient reads for a consent of `kind` with these terms (validated first)."""
    cleaned = _clean_terms(kind, terms)
    if kind == ConsentKind.TREATMENT:
        return treatment_consent_text(patient)
    return part2_consent_text(patient, **cleaned)


def _normalized_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def signature_matches(patient: Patient, typed_name: str) -> bool:
    """The typed name is the patient's legal name, ignoring case and spacing."""
    legal = f"{patient.legal_first_name} {patient.legal_last_name}"
    return bool(typed_name.strip()) and _normalized_name(typed_name) == _normalized_name(legal)


# --- Business events ----------------------------------------------------------------------


@transaction.atomic
def record_consent(
    *,
    actor,
    patient: Patient,
    kind: str,
    signed_by_name: str,
    agreed: bool,
    text_digest_shown: str,
    recipient: str = "",
    purpose: str = "",
    information_description: str = "",
    expires_on: date | None = None,
    expiry_event: str = "",
) -> Consent:
    """Record a consent the patient signed electronically, witnessed by `actor`.

    `text_digest_shown` is `text_digest()` of the text the patient read; if the text generated now
    differs (the terms or the patient's name changed in between) nothing is signed.
    """
    require_role(actor, CONSENT_ROLES, "record consents")
    terms = _clean_terms(
        kind,
        {
            "recipient": recipient,
            "purpose": purpose,
            "information_description": information_description,
            "expires_on": expires_on,
            "expiry_event": expiry_event,
        },
    )
    # One signing at a time per patient: the duplicate check below is then race-free.
    patient = Patient.objects.select_for_update().select_related("site").get(pk=patient.pk)
    require_clinical_write(actor, patient, allow_break_glass=False, what="record a consent")
    text = consent_text(patient, kind, **terms)
    if text_digest(text) != (text_digest_shown or "").strip().lower():
        raise ValidationError(
            "The consent text changed after it was shown (its terms or the patient's details changed). "
            "Nothing was signed: show the patient the current text and sign again."
        )
    errors = {}
    if not signature_matches(patient, signed_by_name or ""):
        errors["signed_by_name"] = (
            "The typed name must match the patient's legal name "
            f"({patient.legal_first_name} {patient.legal_last_name}); case and spacing do not matter."
        )
    if not agreed:
        errors["agreed"] = "The patient must tick \u201cI have read and agree\u201d to sign."
    if errors:
        raise ValidationError(errors)
    if kind == ConsentKind.TREATMENT:
        current = Consent.objects.filter(patient=patient, kind=kind, revoked_at__isnull=True).order_by(
            "-signed_at"
        )
        active = next((c for c in current if c.status == ConsentStatus.ACTIVE), None)
        if active is not None:
            raise ValidationError(
                "This patient already has an active consent to treatment, signed "
                f"{timezone.localtime(active.signed_at):%Y-%m-%d}. "
                "Revoke it first if it must be signed again."
            )
    consent = Consent.objects.create(
        patient=patient,
        kind=kind,
        text_presented=text,
        signed_by_name=" ".join(signed_by_name.split()),
        signed_at=timezone.now(),
        signed_ip_address=current_ip_address.get(),
        witnessed_by=actor,
        **terms,
    )
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        consent,
        patient,
        changed_fields=["kind", "text_presented", "signed_by_name", "signed_at", "witnessed_by"]
        + [name for name, value in terms.items() if value],
    )
    return consent


@transaction.atomic
def revoke_consent(*, actor, consent: Consent, note: str) -> Consent:
    """Record that the patient revoked a consent. Compare-and-set: it is revoked once."""
    require_role(actor, CONSENT_ROLES, "record the revocation of consents")
    require_clinical_write(
        actor, consent.patient, allow_break_glass=False, what="record the revocation of a consent"
    )
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": "Say how the patient asked to revoke (in person, by phone, in writing)."}
        )
    if consent.revoked_at is None and consent.status == ConsentStatus.EXPIRED:
        raise ValidationError("This consent has already expired; there is nothing to revoke.")
    now = timezone.now()
    updated = Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor, revocation_note=note, updated_at=now
    )
    if not updated:
        raise ValidationError("This consent was already revoked.")
    consent.refresh_from_db()
    # The note may be clinical: it stays on the consent; the audit names the fields only.
    audit_patient_change(
        actor,
        AuditAction.UPDATE,
        consent,
        consent.patient,
        changed_fields=["revoked_at", "revoked_by", "revocation_note"],
    )
    return consent
