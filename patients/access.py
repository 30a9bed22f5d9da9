"""Which patients a user may see. The ONLY place patient visibility is decided.

Rules (docs/decisions/0002-patient-access.md):
- Admins and clinical supervisors see every patient whose record is held at, or who has an
  episode at, one of their sites.
- Everyone else sees the patients whose care team they are on (current membership, in any
  episode, so a discharged patient stays visible to the team that treated them).
- Clinicians, case managers and medical staff also see the intake pool of their sites:
  people never admitted (no episode yet) and people with an open referral (a discharged
  patient coming back), so intake can screen and admit them.
- A clinician or medical user may open any chart at their sites for a limited time after
  giving a reason (break-the-glass); the grant is audited and listed for admins.
- Superusers (technical accounts for the Django admin) see everything.

A patient outside a user's reach does not exist for them: `get_visible_patient` answers 404.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from iop.accounts.models import Role
from patients.models import (
    BreakGlassGrant,
    CareTeamMember,
    CareTeamRole,
    Episode,
    Patient,
    Referral,
    ReferralStatus,
)

INTAKE_ROLES = frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL})


def _site_ids(user) -> list[int]:
    return list(user.sites.values_list("id", flat=True))


def _reach_ids(user, site_ids: list[int]) -> QuerySet:
    """The pks of the patients `user` reaches (not superuser), as a UNION of small indexed sets:
    their care teams' patients, their grants, their sites' intake pool (or, for admins and
    supervisors, the patients held elsewhere with an episode or referral at their sites).
    PostgreSQL reads each part from an index and joins the union to patients by pk, instead of
    testing every patient."""
    if user.sees_whole_site:
        # Only the exceptions: patients held at another site with an episode or a referral at
        # one of theirs (the records held at their sites are a condition on the row itself,
        # see `visible_patients`).
        parts = [
            Episode.objects.filter(site_id__in=site_ids)
            .exclude(patient__site_id__in=site_ids)
            .values("patient_id"),
            Referral.objects.filter(site_id__in=site_ids)
            .exclude(patient__site_id__in=site_ids)
            .values("patient_id"),
        ]
    else:
        # Care-team membership counts only at the user's current sites: taking someone off a
        # site takes away that site's patients.
        parts = [
            CareTeamMember.objects.filter(
                user=user, ended_on__isnull=True, episode__site_id__in=site_ids
            ).values("episode__patient_id"),
            BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values("patient_id"),
        ]
        if user.role in INTAKE_ROLES:
            parts += [
                # Never admitted (a patient with a current episode has one, so the partial
                # index on `current_episode IS NULL` narrows it first).
                Patient.objects.filter(site_id__in=site_ids, current_episode__isnull=True)
                .filter(~Exists(Episode.objects.filter(patient=OuterRef("pk"))))
                .values("pk"),
                Referral.objects.filter(status=ReferralStatus.OPEN, site_id__in=site_ids).values(
                    "patient_id"
                ),
            ]
    first, *rest = (part.order_by() for part in parts)
    return first.union(*rest)


def _reach_of_one(user, site_ids: list[int]) -> Q:
    """The same rules as `_reach_ids`, as a condition on one patient row (`pk=` or `public_id=`
    first): each EXISTS runs once, for that row."""
    if user.sees_whole_site:
        episode_at_my_site = Episode.objects.filter(patient=OuterRef("pk"), site_id__in=site_ids)
        referral_at_my_site = Referral.objects.filter(patient=OuterRef("pk"), site_id__in=site_ids)
        return Q(site_id__in=site_ids) | Exists(episode_at_my_site) | Exists(referral_at_my_site)
    on_care_team = CareTeamMember.objects.filter(
        user=user, ended_on__isnull=True, episode__patient=OuterRef("pk"), episode__site_id__in=site_ids
    )
    break_glass = BreakGlassGrant.objects.filter(
        user=user, patient=OuterRef("pk"), expires_at__gt=timezone.now()
    )
    reach = Exists(on_care_team) | Exists(break_glass)
    if user.role in INTAKE_ROLES:
        never_admitted = ~Exists(Episode.objects.filter(patient=OuterRef("pk")))
        open_referral_here = Exists(
            Referral.objects.filter(patient=OuterRef("pk"), status=ReferralStatus.OPEN, site_id__in=site_ids)
        )
        reach |= (Q(site_id__in=site_ids) & never_admitted) | open_referral_here
    return reach


def _may_see_anyone(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def visible_patients(user) -> QuerySet[Patient]:
    if not _may_see_anyone(user):
        return Patient.objects.none()
    if user.is_superuser:
        return Patient.objects.all()
    site_ids = _site_ids(user)
    if user.sees_whole_site:
        return Patient.objects.filter(Q(site_id__in=site_ids) | Q(pk__in=_reach_ids(user, site_ids)))
    return Patient.objects.filter(pk__in=_reach_ids(user, site_ids))


class NoSuchPatient(Http404):
    """A patient id the caller may not use: unknown and out of reach answer alike (a 404
    `{"detail": "No such patient."}` in the API, the field's invalid-choice message on a form)."""

    def __init__(self):
        super().__init__("No such patient.")


def get_visible_patient(user, public_id) -> Patient:
    """The patient if `user` may see them, else 404 (never 403: existence is not disclosed)."""
    patient = None
    if _may_see_anyone(user):
        found = Patient.objects.select_related("site").filter(public_id=public_id)
        if not user.is_superuser:
            found = found.filter(_reach_of_one(user, _site_ids(user)))
        patient = found.first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def can_see_patient(user, patient: Patient) -> bool:
    if not _may_see_anyone(user):
        return False
    if user.is_superuser:
        return True
    return Patient.objects.filter(pk=patient.pk).filter(_reach_of_one(user, _site_ids(user))).exists()


def active_break_glass_grant(user, patient: Patient) -> BreakGlassGrant | None:
    """The grant through which `user` sees `patient`, when that is their only way in."""
    if user.is_superuser or user.sees_whole_site:
        return None
    on_care_team = CareTeamMember.objects.filter(
        user=user, ended_on__isnull=True, episode__patient=patient, episode__site__in=user.sites.all()
    )
    return (
        BreakGlassGrant.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
        .filter(~Exists(on_care_team))
        .order_by("-expires_at")
        .first()
    )


def may_manage_care_team(user, episode: Episode) -> bool:
    """Who may change an episode's care team: the site's admins and clinical supervisors, and
    the episode's current primary clinician and case manager. Never through break-the-glass."""
    if user.is_superuser:
        return True
    if not user.sites.filter(pk=episode.site_id).exists():
        return False
    if user.sees_whole_site:
        return True
    return CareTeamMember.objects.filter(
        episode=episode,
        user=user,
        ended_on__isnull=True,
        role__in=[CareTeamRole.PRIMARY_CLINICIAN, CareTeamRole.CASE_MANAGER],
    ).exists()


def may_write_clinical(user, patient: Patient, *, allow_break_glass: bool) -> bool:
    """Whether `user` may change `patient`'s clinical record (role rules come on top of this).

    They must see the patient, work at the site holding the record (or at the site of their
    open referral), and, unless
    `allow_break_glass` (an emergency assessment), reach the patient other than through a
    break-the-glass grant.
    """
    if user.is_superuser:
        return True
    # The site holding the record, or the site of the patient's open referral (someone coming
    # back through another site is screened and consented there before admission moves them).
    sites = [
        patient.site_id,
        *Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN).values_list(
            "site_id", flat=True
        ),
    ]
    if not user.sites.filter(pk__in=sites).exists():
        return False
    if not visible_patients(user).filter(pk=patient.pk).exists():
        return False
    return allow_break_glass or active_break_glass_grant(user, patient) is None


def require_clinical_write(user, patient: Patient, *, allow_break_glass: bool, what: str) -> None:
    """Refuse (PermissionError: a message on the form, a 403 in the API) unless `may_write_clinical`."""
    if not may_write_clinical(user, patient, allow_break_glass=allow_break_glass):
        raise PermissionError(
            f"You may not {what} for this patient: it needs a place on their care team (or intake) at "
            "the site that holds their record" + ("." if allow_break_glass else ", not emergency access.")
        )


def has_standing_reach(user, patient: Patient) -> bool:
    """Whether `user` reaches `patient` other than through a break-the-glass grant: superuser,
    whole-site role, current care team, or the intake pool of their sites.

    Emergency access gives reading for its time and nothing that lasts (ADR 0002): every write
    that would widen anyone's reach (a referral, an admission, a care-team change, attaching a
    referral to a record) needs standing reach.
    """
    if not can_see_patient(user, patient):
        return False
    if active_break_glass_grant(user, patient) is None:
        return True
    # Seen through a grant and not on the care team: the intake pool is the only other way in.
    if user.role not in INTAKE_ROLES:
        return False
    site_ids = list(user.sites.values_list("id", flat=True))
    never_admitted_here = patient.site_id in site_ids and not Episode.objects.filter(patient=patient).exists()
    return (
        never_admitted_here
        or Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN, site_id__in=site_ids).exists()
    )


def require_standing_reach(user, patient: Patient, *, what: str) -> None:
    """Refuse (PermissionError: a message on the form, a 403 in the API) a write that would widen
    anyone's reach when `user` reaches `patient` only through emergency access."""
    if user.is_superuser:
        return
    if not has_standing_reach(user, patient):
        raise PermissionError(
            f"You may not {what} through emergency access: it gives reading for a limited time, "
            "nothing that lasts. Ask the patient's care team or a site supervisor."
        )


# --- Minimum necessary by role (docs/decisions/0008-minimum-necessary.md) -----------------------
# Seeing a patient is decided above; which classes of their record a role reads is decided here.
# Everyone who sees a patient reads demographics and contact details, the schedule, attendance,
# check-ins and alerts (peer support reads a clinical alert as "safety alert", not its message).


class DataClass:
    INSTRUMENT_RESULTS = "instrument_results"  # instrument answers, scores, bands, score history
    ASAM_RATINGS = "asam_ratings"  # ASAM dimension ratings, levels, overrides
    CONSENT_CONTENTS = "consent_contents"  # consent text, recipient, purpose, signer
    ALERT_DETAIL = "alert_detail"  # an alert's message (it names the instrument and band)
    DRUG_TEST_RESULTS = "drug_test_results"  # specimens' validity, analyte results, reviews (ADR 0011)


# The roles that read each restricted class; superusers read everything. Not listed: peer support.
_READERS = {
    DataClass.INSTRUMENT_RESULTS: frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN}),
    DataClass.ASAM_RATINGS: frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN}),
    DataClass.CONSENT_CONTENTS: frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN}),
    DataClass.ALERT_DETAIL: frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN}),
    DataClass.DRUG_TEST_RESULTS: frozenset({Role.CLINICIAN, Role.CASE_MANAGER, Role.MEDICAL, Role.ADMIN}),
}

RESTRICTED_DATA_LABELS = {
    DataClass.INSTRUMENT_RESULTS: "screening results",
    DataClass.ASAM_RATINGS: "ASAM assessments",
    DataClass.CONSENT_CONTENTS: "consent contents",
    DataClass.ALERT_DETAIL: "alert details",
    DataClass.DRUG_TEST_RESULTS: "drug test results",
}


def may_read_data_class(user, data_class: str) -> bool:
    """Whether `user`'s role reads `data_class` of the patients they see (on top of seeing them)."""
    if not _may_see_anyone(user):
        return False
    if user.is_superuser:
        return True
    return user.role in _READERS[data_class]


def may_see_instrument_results(user) -> bool:
    return may_read_data_class(user, DataClass.INSTRUMENT_RESULTS)


def may_see_asam_ratings(user) -> bool:
    return may_read_data_class(user, DataClass.ASAM_RATINGS)


def may_see_consent_contents(user) -> bool:
    return may_read_data_class(user, DataClass.CONSENT_CONTENTS)


def may_see_alert_detail(user) -> bool:
    return may_read_data_class(user, DataClass.ALERT_DETAIL)


class DataClassRefused(PermissionDenied, PermissionError):
    """A 403 on a page (Django's PermissionDenied) and in the API (PermissionError -> JSON)."""


def require_data_class(user, data_class: str) -> None:
    """Refuse a page or API list of a class `user`'s role does not read (403). The role alone
    decides, before any patient is looked up, so the refusal discloses nothing about a patient."""
    if not may_read_data_class(user, data_class):
        raise DataClassRefused(f"Your role does not read {RESTRICTED_DATA_LABELS[data_class]}.")
