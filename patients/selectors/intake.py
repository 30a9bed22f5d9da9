"""Read queries: referrals, the intake queue, duplicates, and what stands before admission."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from iop.accounts.models import Role, Site, User
from iop.core.request_facts import remember
from patients.models import (
    AsamAssessment,
    CareTeamRole,
    ClinicalAlert,
    Consent,
    ConsentKind,
    EligibilityReview,
    EpisodeStatus,
    InstrumentResponse,
    Patient,
    Referral,
    ReferralStatus,
)
from patients.selectors.consents import has_active_treatment_consent

_UNREAD = object()  # "not passed": the function reads it itself

# Levels of care that mean "IOP fits" (ASAM 2.1 in either edition).
IOP_LEVELS = frozenset({"2.1"})


def referral_sites_of(user) -> QuerySet[Site]:
    return Site.objects.all() if user.is_superuser else user.sites.all()


def visible_referrals(user) -> QuerySet[Referral]:
    """Referrals whose patient the user may see (through `patients.access`)."""
    from patients.access import visible_patients

    return Referral.objects.filter(patient__in=visible_patients(user)).select_related(
        "patient", "site", "intake_clinician"
    )


def open_referrals_for_queue(user) -> QuerySet[Referral]:
    """The intake queue's referrals (open, at the user's sites), oldest first, and nothing else:
    filter and paginate this, then read the page's rows with `with_intake_progress`."""
    if user.is_superuser:
        referrals = Referral.objects.all()
    else:
        from patients.access import site_ids_of

        referrals = Referral.objects.filter(site_id__in=site_ids_of(user))
    return referrals.filter(status=ReferralStatus.OPEN).order_by("referred_at", "id")


def with_intake_progress(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """`referrals` with their person, site, intake clinician and what each still needs."""
    active_treatment_consent = Consent.objects.filter(
        patient=OuterRef("patient"), kind=ConsentKind.TREATMENT, revoked_at__isnull=True
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate()))
    return referrals.select_related("patient", "site", "intake_clinician").annotate(
        # This referral's own screening: a readmission starts from scratch.
        instruments_done=Coalesce(
            Subquery(
                InstrumentResponse.objects.filter(referral=OuterRef("pk"))
                .order_by()
                .values("referral")
                .annotate(count=Count("pk"))
                .values("count")
            ),
            0,
        ),
        has_asam=Exists(AsamAssessment.objects.filter(referral=OuterRef("pk"))),
        has_eligibility=Exists(EligibilityReview.objects.filter(referral=OuterRef("pk"))),
        has_treatment_consent=Exists(active_treatment_consent),
    )


def intake_queue(user) -> QuerySet[Referral]:
    """Open referrals at the user's sites, oldest first, with what each still needs.

    A page of the queue reads `open_referrals_for_queue` (the page's pks, from an index) and
    then `with_intake_progress` for those rows only, so its cost does not grow with the queue.
    """
    return with_intake_progress(open_referrals_for_queue(user))


def open_referral_of(patient: Patient) -> Referral | None:
    """The patient's open referral (at most one: a database constraint), or None."""
    referral = (
        Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN)
        .select_related("site", "intake_clinician")
        .first()
    )
    # What `patients.access.open_referral_site_ids` would ask next, already answered.
    remember(("open_referral_site_ids", patient.pk), [referral.site_id] if referral else [], reads_only=True)
    return referral


def possible_duplicates(
    user, *, legal_first_name: str, legal_last_name: str, date_of_birth
) -> QuerySet[Patient]:
    """Patients anywhere in the organisation with the same legal name and date of birth.

    Deliberately wider than what the user may see: a duplicate record is a safety risk, and a
    person coming back may be referred to another site. `describe_duplicates` decides what the
    user is told about each match (for unseen records only that one exists, and where), and
    showing matches is audited by the caller.
    """
    if not (legal_first_name and legal_last_name and date_of_birth):
        return Patient.objects.none()
    return Patient.objects.filter(
        legal_first_name__iexact=legal_first_name.strip(),
        legal_last_name__iexact=legal_last_name.strip(),
        date_of_birth=date_of_birth,
    ).select_related("site", "current_episode")


def intake_clinicians_at(site: Site):
    from iop.accounts.selectors import colleagues_at

    return colleagues_at(site, roles=[Role.CLINICIAN, Role.MEDICAL])


# Who fills each place on a new care team (the admit form's fields), by staff role.
CARE_TEAM_STAFF_ROLES = {
    CareTeamRole.PRIMARY_CLINICIAN: Role.CLINICIAN,
    CareTeamRole.CASE_MANAGER: Role.CASE_MANAGER,
    CareTeamRole.MEDICAL: Role.MEDICAL,
    CareTeamRole.PEER_SUPPORT: Role.PEER_SUPPORT,
}


@dataclass(frozen=True)
class Proposal:
    """A proposed care-team member and why: `caseload` is their current number of patients."""

    user: User
    caseload: int
    why: str


def staff_by_caseload(site: Site, roles) -> QuerySet[User]:
    """Active staff of `roles` at `site`, least loaded first. Caseload: the active episodes on
    whose care team they currently are, in any place and at any site (one query)."""
    current = Q(care_teams__ended_on__isnull=True, care_teams__episode__status=EpisodeStatus.ACTIVE)
    return (
        User.objects.filter(sites=site, role__in=roles, is_active=True)
        .annotate(caseload=Count("care_teams__episode", filter=current, distinct=True))
        .order_by("caseload", "last_name", "first_name", "id")
    )


def proposed_care_team(*, site: Site, referral: Referral | None, actor) -> dict[str, Proposal]:
    """What the admit form proposes for each place on the care team (the clinician may change it).

    The primary clinician is the referral's intake clinician (who screened the person), else the
    admitting clinician, else the site's least-loaded clinician; the case manager, medical and
    peer-support places go to the site's least-loaded active staff of that role. A place with
    nobody to propose is left out. One query.
    """
    staff = list(staff_by_caseload(site, CARE_TEAM_STAFF_ROLES.values()))
    proposals: dict[str, Proposal] = {}
    for team_role, staff_role in CARE_TEAM_STAFF_ROLES.items():
        least_loaded = next((user for user in staff if user.role == staff_role), None)
        if least_loaded is not None:
            proposals[team_role] = Proposal(
                least_loaded,
                least_loaded.caseload,
                f"the {site.name} {staff_role.label.lower()} with the fewest current patients",
            )
    by_pk = {user.pk: user for user in staff if user.role == Role.CLINICIAN}
    for candidate, why in (
        (referral.intake_clinician_id if referral else None, "the intake clinician who screened them"),
        (getattr(actor, "pk", None), "you, admitting"),
    ):
        if candidate in by_pk:
            user = by_pk[candidate]
            proposals[CareTeamRole.PRIMARY_CLINICIAN] = Proposal(user, user.caseload, why)
            break
    return proposals


@dataclass
class AdmissionReadiness:
    """What the admitting clinician must see before admitting: blockers stop admission;
    concerns need an explicit acknowledgement with a reason."""

    blockers: list[str] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)


def admission_readiness(
    patient: Patient, referral: Referral | None, *, eligibility=_UNREAD, open_alerts=None
) -> AdmissionReadiness:
    """Blockers and concerns before admitting. With an open referral, only that referral's
    screening counts (a readmission is judged on this intake, not the last episode's).

    `eligibility` (the referral's latest review) and `open_alerts` (the patient's unresolved
    alerts): when the caller has read them already."""
    readiness = AdmissionReadiness()
    if not has_active_treatment_consent(patient):
        readiness.blockers.append(
            "No signed consent to treatment: the patient must sign one before admission."
        )
    assessments = AsamAssessment.objects.filter(patient=patient)
    responses = InstrumentResponse.objects.filter(patient=patient)
    if referral is not None:
        assessments = assessments.filter(referral=referral)
        responses = responses.filter(referral=referral)
    assessment = assessments.order_by("-assessed_at").first()
    if assessment is None:
        readiness.concerns.append("No ASAM assessment recorded for this intake.")
    elif assessment.chosen_level not in IOP_LEVELS:
        readiness.concerns.append(
            f"The ASAM assessment chose level {assessment.chosen_level}, not IOP (2.1)."
        )
    if eligibility is _UNREAD:
        eligibility = referral.eligibility_reviews.first() if referral else None
    if referral is not None and eligibility is None:
        readiness.concerns.append("The eligibility checklist has not been completed.")
    elif eligibility is not None and eligibility.unmet_criteria:
        readiness.concerns.append("Eligibility not met: " + ", ".join(eligibility.unmet_criteria) + ".")
    if open_alerts is None:
        open_alerts = ClinicalAlert.objects.filter(patient=patient, resolved_at__isnull=True)
    for alert in open_alerts:
        readiness.concerns.append(f"Open alert: {alert.message}")
    readiness.concerns.extend(withdrawal_flags_in(responses))
    return readiness


WITHDRAWAL_FLAGS = {
    "withdrawal_management_before_iop": "withdrawal management before IOP",
    "medical_review_before_iop": "medical review before IOP",
}


def withdrawal_flags_in(responses) -> list[str]:
    """The latest CIWA-Ar and COWS among `responses` that recommend withdrawal management or review."""
    messages = []
    codes = ("ciwa-ar", "cows")
    # The latest of each in one query (a window per instrument).
    latest_of = {
        response.instrument_code: response
        for response in responses.filter(instrument_code__in=codes)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("instrument_code")], order_by=F("administered_at").desc()
            )
        )
        .filter(rank=1)
    }
    for code in codes:
        latest = latest_of.get(code)
        if latest is None:
            continue
        for flag, wording in WITHDRAWAL_FLAGS.items():
            if flag in (latest.flags or []):
                messages.append(
                    f"Latest {code.upper()} ({latest.total}, {latest.band}) recommends {wording}."
                )
    return messages


# What the intake checklist's "Patient record: contact, emergency contact, payer" step needs before
# it is done: a way to reach the patient, where they live, someone to call in an emergency, and
# who pays ("Self-pay" is a payer). Each entry: (what is missing, the fields any one of which fills it).
INTAKE_RECORD_NEEDS = (
    ("a phone number or email", ("phone", "email")),
    ("address", ("address_line1",)),
    ("city", ("city",)),
    ("state", ("state",)),
    ("postal code", ("postal_code",)),
    ("emergency contact's name", ("emergency_contact_name",)),
    ("emergency contact's phone", ("emergency_contact_phone",)),
    ("payer (or “Self-pay”)", ("payer",)),
)


def missing_from_intake_record(patient: Patient) -> list[str]:
    """What the patient record still lacks for intake (empty: the step is done). No query."""
    return [
        label
        for label, fields in INTAKE_RECORD_NEEDS
        if not any(str(getattr(patient, name) or "").strip() for name in fields)
    ]


def intake_card_context(patient: Patient, *, referral=_UNREAD, open_alerts=None) -> dict:
    """The Intake tab's intake checklist for the patient's open referral, if any (`referral`:
    the open referral, `open_alerts`: the unresolved alerts, when the caller has read them)."""
    referral = open_referral_of(patient) if referral is _UNREAD else referral
    if referral is None:
        return {"open_referral": None, "past_referrals": Referral.objects.filter(patient=patient)[:10]}
    eligibility = referral.eligibility_reviews.select_related("reviewed_by").first()
    return {
        "open_referral": referral,
        "record_missing": missing_from_intake_record(patient),
        "eligibility": eligibility,
        "readiness": admission_readiness(patient, referral, eligibility=eligibility, open_alerts=open_alerts),
        "past_referrals": Referral.objects.filter(patient=patient).exclude(pk=referral.pk)[:10],
    }


def describe_duplicates(user, matches) -> list[dict]:
    """What a user may be told about each possible duplicate: everything for records they may
    see; for others only that a record exists at a site (no MRN, status or id)."""
    from patients.access import visible_patients

    visible = set(visible_patients(user).filter(pk__in=[m.pk for m in matches]).values_list("pk", flat=True))
    described = []
    for match in matches:
        if match.pk in visible:
            status = match.current_episode.get_status_display() if match.current_episode else "Pre-admission"
            described.append(
                {
                    "patient": match,
                    "visible": True,
                    "label": f"{match.legal_first_name} {match.legal_last_name}, born "
                    f"{match.date_of_birth:%Y-%m-%d}, MRN {match.mrn} at {match.site.name} "
                    f"({status.lower()})",
                }
            )
        else:
            described.append(
                {
                    "patient": match,
                    "visible": False,
                    "label": f"A record with this name and date of birth at {match.site.name}, held by "
                    "another care team",
                }
            )
    return described
