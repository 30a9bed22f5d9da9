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
from iop.core.request_facts import remember, remembered
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
# A reach larger than this stays a subquery (docs/decisions/0009-performance-budget.md).
REACH_AS_LIST_UP_TO = 5000


def site_ids_of(user) -> list[int]:
    """The pks of `user`'s sites (asked once per request: every check below needs them)."""
    return remembered(("site_ids", user.pk), lambda: list(user.sites.values_list("id", flat=True)))


_site_ids = site_ids_of


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
            .values_list("patient_id", flat=True),
            Referral.objects.filter(site_id__in=site_ids)
            .exclude(patient__site_id__in=site_ids)
            .values_list("patient_id", flat=True),
        ]
    else:
        # Care-team membership counts only at the user's current sites: taking someone off a
        # site takes away that site's patients.
        parts = [
            CareTeamMember.objects.filter(
                user=user, ended_on__isnull=True, episode__site_id__in=site_ids
            ).values_list("episode__patient_id", flat=True),
            BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values_list(
                "patient_id", flat=True
            ),
        ]
        if user.role in INTAKE_ROLES:
            parts += [
                # Never admitted (a patient with a current episode has one, so the partial
                # index on `current_episode IS NULL` narrows it first).
                Patient.objects.filter(site_id__in=site_ids, current_episode__isnull=True)
                .filter(~Exists(Episode.objects.filter(patient=OuterRef("pk"))))
                .values_list("pk", flat=True),
                Referral.objects.filter(status=ReferralStatus.OPEN, site_id__in=site_ids).values_list(
                    "patient_id", flat=True
                ),
            ]
    first, *rest = (part.order_by() for part in parts)
    return first.union(*rest)


def _reaches(user, patient: Patient, site_ids: list[int]) -> bool:
    """The same rules as `_reach_ids`, for one patient row already read (not superuser).

    Small indexed lookups, cheapest and most common first, each only if the ones before did
    not decide: a chart is mostly opened by its care team. Cheaper to build and run than one
    query OR-ing four EXISTS (docs/decisions/0009-performance-budget.md).
    """
    if user.sees_whole_site:
        return (
            patient.site_id in site_ids
            or Episode.objects.filter(patient=patient, site_id__in=site_ids).exists()
            or Referral.objects.filter(patient=patient, site_id__in=site_ids).exists()
        )
    if CareTeamMember.objects.filter(
        user=user, ended_on__isnull=True, episode__patient=patient, episode__site_id__in=site_ids
    ).exists():
        # On the care team: no emergency grant is what they read through.
        remember(("break_glass_grant", user.pk, patient.pk), None)
        return True
    if BreakGlassGrant.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now()).exists():
        return True
    remember(("break_glass_grant", user.pk, patient.pk), None)  # no live grant: none to read through
    if user.role not in INTAKE_ROLES:
        return False
    # The intake pool: never admitted at one of their sites (an episode exists when the record
    # names a current one), or an open referral at one of their sites.
    if (
        patient.site_id in site_ids
        and patient.current_episode_id is None
        and not Episode.objects.filter(patient=patient).exists()
    ):
        return True
    return Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN, site_id__in=site_ids).exists()


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
    # The reach of a care-team member is small (their caseload, their grants, their sites'
    # intake pool): read it once and hand PostgreSQL the pks, so that every query built on
    # this one (the page, its COUNT, a search) is an index lookup of those rows instead of a
    # join it must plan against the whole table, and the UNION is compiled and run once.
    reach = remembered(("reach", user.pk), lambda: list(_reach_ids(user, site_ids)), reads_only=True)
    if len(reach) > REACH_AS_LIST_UP_TO:
        return Patient.objects.filter(pk__in=_reach_ids(user, site_ids))
    return Patient.objects.filter(pk__in=reach)


class NoSuchPatient(Http404):
    """A patient id the caller may not use: unknown and out of reach answer alike (a 404
    `{"detail": "No such patient."}` in the API, the field's invalid-choice message on a form)."""

    def __init__(self):
        super().__init__("No such patient.")


def get_visible_patient(user, public_id, *, with_current_episode: bool = True) -> Patient:
    """The patient if `user` may see them, else 404 (never 403: existence is not disclosed).

    `with_current_episode`: read the current episode, its program and phase with the patient
    (most pages that open a patient show them in the chart header: one query with joins costs
    less than a second query); False when the page reads the episodes itself."""
    patient = None
    if _may_see_anyone(user):
        related = ["site"]
        if with_current_episode:
            related += ["current_episode__program", "current_episode__current_phase"]
        patient = Patient.objects.select_related(*related).filter(public_id=public_id).first()
        if patient is not None and not user.is_superuser and not _reaches(user, patient, _site_ids(user)):
            patient = None
    if patient is None:
        raise Http404("No such patient.")
    # A page that opened the patient and then asks again (the chart's write links) need not
    # re-read the row in a request that changes nothing.
    remember(("sees", user.pk, patient.pk), True, reads_only=True)
    return patient


def can_see_patient(user, patient: Patient) -> bool:
    if not _may_see_anyone(user):
        return False
    if user.is_superuser:
        return True

    def sees() -> bool:
        # The row as stored (the caller's copy may predate a change of site or episode).
        row = Patient.objects.filter(pk=patient.pk).only("pk", "site_id", "current_episode_id").first()
        return row is not None and _reaches(user, row, _site_ids(user))

    return remembered(("sees", user.pk, patient.pk), sees, reads_only=True)


def active_break_glass_grant(user, patient: Patient) -> BreakGlassGrant | None:
    """The grant through which `user` sees `patient`, when that is their only way in."""
    if user.is_superuser or user.sees_whole_site:
        return None

    def grant():
        on_care_team = CareTeamMember.objects.filter(
            user=user, ended_on__isnull=True, episode__patient=patient, episode__site_id__in=_site_ids(user)
        )
        return (
            BreakGlassGrant.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
            .filter(~Exists(on_care_team))
            .order_by("-expires_at")
            .first()
        )

    return remembered(("break_glass_grant", user.pk, patient.pk), grant)


def may_manage_care_team(user, episode: Episode) -> bool:
    """Who may change an episode's care team: the site's admins and clinical supervisors, and
    the episode's current primary clinician and case manager. Never through break-the-glass."""
    if user.is_superuser:
        return True
    if episode.site_id not in _site_ids(user):
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
    sites = [patient.site_id, *open_referral_site_ids(patient)]
    if not set(sites) & set(_site_ids(user)):
        return False
    if not can_see_patient(user, patient):
        return False
    return allow_break_glass or active_break_glass_grant(user, patient) is None


def open_referral_site_ids(patient: Patient) -> list[int]:
    """The site of the patient's open referral, if any (once per read-only request: the chart
    reads the open referral anyway, `patients.selectors.intake.open_referral_of`)."""
    return remembered(
        ("open_referral_site_ids", patient.pk),
        lambda: list(
            Referral.objects.filter(patient=patient, status=ReferralStatus.OPEN).values_list(
                "site_id", flat=True
            )
        ),
        reads_only=True,
    )


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
    site_ids = _site_ids(user)
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
