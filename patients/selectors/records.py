"""Read queries over patients, always scoped through `patients.access`."""

from dataclasses import dataclass

from django.db.models import CharField, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from patients.access import visible_patients
from patients.models import (
    AlertSeverity,
    BreakGlassGrant,
    CareTeamMember,
    CareTeamRole,
    ClinicalAlert,
    Episode,
    EpisodeStatus,
    Patient,
    Phase,
    Program,
    Referral,
    ReferralStatus,
)

PRE_ADMISSION = "pre_admission"
PATIENT_STATUS_CHOICES = [
    (PRE_ADMISSION, "Pre-admission"),
    (EpisodeStatus.ACTIVE, "Active"),
    (EpisodeStatus.DISCHARGED, "Discharged"),
]


def _primary_clinician_name():
    members = CareTeamMember.objects.filter(
        episode=OuterRef("current_episode"), role=CareTeamRole.PRIMARY_CLINICIAN, ended_on__isnull=True
    ).annotate(full_name=Concat("user__first_name", Value(" "), "user__last_name", output_field=CharField()))
    return Subquery(members.values("full_name")[:1])


def patient_list_for(user) -> QuerySet[Patient]:
    """The patient list: everything it shows in a fixed number of queries."""
    return (
        visible_patients(user)
        .select_related("site", "current_episode__program", "current_episode__current_phase")
        .annotate(primary_clinician_name=_primary_clinician_name())
    )


def patient_rows_for_api(user) -> QuerySet[Patient]:
    """The API's patient list: what `PatientSerializer` shows (the site's and the current
    episode's public ids), without the browser list's program, phase and clinician columns."""
    return visible_patients(user).select_related("site", "current_episode")


def caseload_for(user) -> QuerySet[Patient]:
    """Patients with an active episode whose current care team includes `user`."""
    on_current_team = CareTeamMember.objects.filter(
        episode=OuterRef("current_episode"), user=user, ended_on__isnull=True
    )
    # EXISTS rather than a join (no DISTINCT over whole rows, for the page and for its COUNT).
    # The home page's card shows name, MRN, program, phase and since when: it reads only those
    # (not the list's site and primary clinician: a subquery per row).
    return (
        visible_patients(user)
        .filter(current_episode__status=EpisodeStatus.ACTIVE)
        .filter(Exists(on_current_team))
        .select_related("current_episode__program", "current_episode__current_phase")
        .only(*CASELOAD_FIELDS)
    )


CASELOAD_FIELDS = (
    "public_id",
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "mrn",
    "current_episode__status",
    "current_episode__phase_started_on",
    "current_episode__program__name",
    "current_episode__current_phase__name",
    # The case manager's scheduled-hours card compares each patient's week with these.
    "current_episode__current_phase__min_hours_per_week",
    "current_episode__current_phase__sessions_per_week",
)


def active_alerts_for(user, *, limit: int = 20) -> QuerySet[ClinicalAlert]:
    """Unresolved alerts the user must see on their home page: on the patients of their care
    teams and open intakes, the ones they raised, and (clinical supervisors) every high alert
    at their sites, so an alert on a patient without a care team still reaches someone.
    Always within what the user may see."""
    on_my_team = CareTeamMember.objects.filter(user=user, ended_on__isnull=True).values("episode__patient")
    my_intakes = Referral.objects.filter(intake_clinician=user, status=ReferralStatus.OPEN).values("patient")
    mine = Q(patient__in=on_my_team) | Q(patient__in=my_intakes) | Q(raised_by=user)
    if user.is_clinical_supervisor:
        mine |= Q(severity=AlertSeverity.HIGH, patient__site__in=user.sites.all())
    return (
        ClinicalAlert.objects.filter(resolved_at__isnull=True, patient__in=visible_patients(user))
        .filter(mine)
        .select_related("patient")
        .order_by("-created_at")[:limit]
    )


@dataclass(frozen=True)
class ChartHeader:
    patient: Patient
    episode: Episode | None
    care_team: list[CareTeamMember]
    alerts: list[ClinicalAlert]
    age: int


def chart_header(patient: Patient, *, episodes: list[Episode] | None = None) -> ChartHeader:
    """The chart's header. `episodes`: the patient's episodes from `episodes_of` when the page
    has them already (the current one and its care team are taken from them)."""
    if patient.current_episode_id is None:
        episode, care_team = None, []
    elif episodes is not None:
        episode = next((each for each in episodes if each.pk == patient.current_episode_id), None)
        care_team = (
            [member for member in episode.care_team.all() if member.ended_on is None] if episode else []
        )
    else:
        episode = (
            patient.current_episode  # already read with the patient (`get_visible_patient`)
            if Patient.current_episode.is_cached(patient)
            else Episode.objects.select_related("program", "current_phase", "site")
            .filter(pk=patient.current_episode_id)
            .first()
        )
        care_team = (
            list(episode.care_team.filter(ended_on__isnull=True).select_related("user")) if episode else []
        )
    alerts = list(patient.alerts.filter(resolved_at__isnull=True))
    return ChartHeader(patient, episode, care_team, alerts, patient.age_on(timezone.localdate()))


def episodes_of(patient: Patient) -> QuerySet[Episode]:
    return patient.episodes.select_related("program", "site", "current_phase").prefetch_related(
        Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user"))
    )


def visible_episodes(user) -> QuerySet[Episode]:
    """Episodes of the patients `user` may see; admins and supervisors only at their own sites."""
    episodes = Episode.objects.filter(patient__in=visible_patients(user))
    if user.sees_whole_site and not user.is_superuser:
        episodes = episodes.filter(site__in=user.sites.all())
    return episodes.select_related("patient", "program", "site", "current_phase").prefetch_related(
        Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user"))
    )


def active_programs() -> QuerySet[Program]:
    return Program.objects.filter(is_active=True).prefetch_related("phases")


def phases_for_filter() -> QuerySet[Phase]:
    return Phase.objects.select_related("program").order_by("program__name", "order")


def break_glass_log(site_ids: list[int] | None) -> QuerySet[BreakGlassGrant]:
    """Break-the-glass grants on patients held at the given sites (None: all), newest first."""
    grants = BreakGlassGrant.objects.select_related("user", "patient", "site")
    return grants if site_ids is None else grants.filter(site_id__in=site_ids)


def duplicate_attachment_log(site_ids: list[int] | None):
    """Referrals attached to records out of the attaching user's reach (through a duplicate
    reference), on records held at the given sites (None: all), newest first: they widen reach
    as emergency access does, so the access log lists them beside the grants."""
    from patients.models import DuplicateReference

    used = DuplicateReference.objects.filter(used_at__isnull=False).select_related(
        "user", "patient", "site", "referral__site"
    )
    if site_ids is not None:  # the site that held the record, and the site referred to
        used = used.filter(Q(site_id__in=site_ids) | Q(referral__site_id__in=site_ids))
    return used.order_by("-used_at")


def active_episode_count():
    """An annotation for a Site queryset: how many active episodes it has (a subquery, so it
    composes with other counts without multiplying joins)."""
    from django.db.models import Count
    from django.db.models.functions import Coalesce

    active = (
        Episode.objects.filter(site=OuterRef("pk"), status=EpisodeStatus.ACTIVE)
        .values("site")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(active), 0)
