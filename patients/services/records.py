"""Business events on patients and episodes: one transaction each, audit inside."""

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from iop.accounts.models import Role, Site
from iop.accounts.permissions import ADMITTING_ROLES, PATIENT_WRITER_ROLES, may_break_glass, require_role
from iop.audit.models import AuditAction
from iop.audit.services import record_event, record_events
from iop.core.concurrency import StaleEdit, save_if_unchanged
from iop.core.request_facts import forget
from patients.access import (
    active_break_glass_grant,
    may_manage_care_team,
    require_clinical_write,
    require_standing_reach,
    site_ids_of,
)
from patients.models import (
    AlertSeverity,
    BreakGlassGrant,
    BreakGlassReason,
    CareTeamMember,
    CareTeamRole,
    ClinicalAlert,
    Episode,
    EpisodeStatus,
    Patient,
    Program,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    new_mrn,
)
from patients.services.auditing import audit_patient_change

PATIENT_IDENTITY_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "sex_assigned_at_birth",
    "gender_identity",
)
PATIENT_CONTACT_FIELDS = (
    "phone",
    "email",
    "preferred_contact_channel",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
)
PATIENT_EMERGENCY_CONTACT_FIELDS = (
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
)
PATIENT_COVERAGE_FIELDS = ("payer", "payer_member_id")
PATIENT_SPECIAL_POPULATION_FIELDS = ("is_pregnant", "is_adolescent", "is_justice_involved", "is_veteran")
PATIENT_EDITABLE_FIELDS = (
    *PATIENT_IDENTITY_FIELDS,
    *PATIENT_CONTACT_FIELDS,
    *PATIENT_EMERGENCY_CONTACT_FIELDS,
    *PATIENT_COVERAGE_FIELDS,
    *PATIENT_SPECIAL_POPULATION_FIELDS,
)
# Which staff roles may fill which care-team role.
CARE_TEAM_STAFF_ROLES = {
    CareTeamRole.PRIMARY_CLINICIAN: {Role.CLINICIAN},
    CareTeamRole.CLINICIAN: {Role.CLINICIAN},
    CareTeamRole.CASE_MANAGER: {Role.CASE_MANAGER},
    CareTeamRole.MEDICAL: {Role.MEDICAL},
    CareTeamRole.PEER_SUPPORT: {Role.PEER_SUPPORT},
}
MIN_BREAK_GLASS_REASON = 20  # at least a sentence


def _require_site(actor, site: Site) -> None:
    if not (actor.is_superuser or actor.sites.filter(pk=site.pk).exists()):
        raise ValidationError({"site": "You do not work at that site."})


def validate_date_of_birth(date_of_birth: date) -> None:
    """Refuse a date of birth in the future or more than 120 years ago (forms call it too, so that
    the message comes with the form's other errors, not in a second round)."""
    today = timezone.localdate()
    if date_of_birth > today:
        raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
    if date_of_birth < today.replace(year=today.year - 120):
        raise ValidationError({"date_of_birth": "Date of birth is more than 120 years ago."})


@transaction.atomic
def register_patient(*, actor, site: Site, **fields) -> Patient:
    """Create a patient record at a site (before any admission). `fields`: PATIENT_EDITABLE_FIELDS;
    legal names and date of birth are required."""
    require_role(actor, PATIENT_WRITER_ROLES, "register patients")
    _require_site(actor, site)
    unknown = set(fields) - set(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    missing = [
        name for name in ("legal_first_name", "legal_last_name", "date_of_birth") if not fields.get(name)
    ]
    if missing:
        raise ValidationError({name: "This field is required." for name in missing})
    validate_date_of_birth(fields["date_of_birth"])
    values = {name: value.strip() if isinstance(value, str) else value for name, value in fields.items()}
    for _attempt in range(5):
        try:
            with transaction.atomic():
                patient = Patient.objects.create(site=site, mrn=new_mrn(), **values)
            break
        except IntegrityError:  # an MRN collision: draw another
            continue
    else:
        raise RuntimeError("Could not allocate a unique MRN.")
    audit_patient_change(actor, AuditAction.CREATE, patient, patient, changed_fields=sorted(values))
    return patient


@transaction.atomic
def update_patient(
    *, actor, patient: Patient, expected_version: int | None, changes: Mapping[str, object]
) -> Patient:
    """Change demographic fields; refuses (StaleEdit) if someone saved since `expected_version`."""
    require_role(actor, PATIENT_WRITER_ROLES, "edit patients")
    require_clinical_write(actor, patient, allow_break_glass=False, what="edit the patient record")
    unknown = set(changes) - set(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if "date_of_birth" in changes:
        validate_date_of_birth(changes["date_of_birth"])
    changed = [name for name, value in changes.items() if getattr(patient, name) != value]
    for name in changed:
        value = changes[name]
        setattr(patient, name, value.strip() if isinstance(value, str) else value)
    save_if_unchanged(patient, expected_version=expected_version, fields=changed)
    if changed:
        audit_patient_change(actor, AuditAction.UPDATE, patient, patient, changed_fields=changed)
    return patient


def _validate_care_team(site: Site, care_team: Mapping[str, object]) -> None:
    errors = {}
    if not care_team.get(CareTeamRole.PRIMARY_CLINICIAN):
        errors[CareTeamRole.PRIMARY_CLINICIAN] = "A primary clinician is required."
    for team_role, user in care_team.items():
        if user is None:
            continue
        if team_role not in CareTeamRole.values:
            errors[team_role] = "Unknown care-team role."
        elif not user.sites.filter(pk=site.pk).exists():
            errors[team_role] = f"That staff member does not work at {site}."
        elif user.role not in CARE_TEAM_STAFF_ROLES[team_role] or not user.is_active:
            errors[team_role] = f"That staff member is not an active {CareTeamRole(team_role).label.lower()}."
    if errors:
        raise ValidationError(errors)


def _admission_moment(admitted_on: date, referred_at):
    """When the referral counts as answered: now for today's admissions, else noon of the
    (back-dated) admission day, never before the referral itself."""
    now = timezone.now()
    if admitted_on >= timezone.localdate(now):
        return now
    noon = timezone.make_aware(datetime.combine(admitted_on, time(12, 0)))
    return max(noon, referred_at)


@transaction.atomic
def admit_patient(
    *,
    actor,
    patient: Patient,
    program: Program,
    site: Site,
    admitted_on: date,
    care_team: Mapping[str, object],
    referral: Referral | None = None,
    acknowledge_concerns: bool = False,
    admission_note: str = "",
) -> Episode:
    """Open an episode of care in Phase 1 of `program` with its care team.

    Refused without an active, signed consent to treatment. When the intake leaves concerns
    (no ASAM assessment, a level other than IOP, eligibility not met, open alerts, withdrawal
    risk), the admitting clinician must acknowledge them and say why (`admission_note`, kept
    on the episode). Closes the patient's open referral (or the one given) as admitted, which
    records the time to admission.
    """
    from patients.selectors.intake import admission_readiness

    require_role(actor, ADMITTING_ROLES, "admit patients")
    _require_site(actor, site)
    require_standing_reach(actor, patient, what="admit this patient")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if Episode.objects.filter(patient=patient, status=EpisodeStatus.ACTIVE).exists():
        raise ValidationError("This patient already has an active episode of care.")
    if referral is None:
        referral = (
            Referral.objects.select_for_update().filter(patient=patient, status=ReferralStatus.OPEN).first()
        )
    elif referral.patient_id != patient.pk or referral.status != ReferralStatus.OPEN:
        raise ValidationError("That referral is not an open referral of this patient.")
    readiness = admission_readiness(patient, referral)
    if readiness.blockers:
        raise ValidationError(" ".join(readiness.blockers))
    if readiness.concerns and not (acknowledge_concerns and admission_note.strip()):
        raise ValidationError(
            {
                "acknowledge_concerns": "Admitting despite these concerns needs your confirmation and a "
                "reason: " + " ".join(readiness.concerns)
            }
        )
    if not program.is_active:
        raise ValidationError({"program": "That program is not accepting admissions."})
    if admitted_on > timezone.localdate():
        raise ValidationError({"admitted_on": "Admission date cannot be in the future."})
    if referral is not None and admitted_on < timezone.localtime(referral.referred_at).date():
        raise ValidationError({"admitted_on": "Admission cannot be before the referral."})
    first_phase = program.phases.order_by("order").first()
    if first_phase is None:
        raise ValidationError({"program": "That program has no phases defined."})
    _validate_care_team(site, care_team)
    episode = Episode.objects.create(
        patient=patient,
        program=program,
        site=site,
        admitted_on=admitted_on,
        current_phase=first_phase,
        phase_started_on=admitted_on,
        referral=referral,
        admission_note=admission_note.strip() if readiness.concerns else "",
    )
    for team_role, user in care_team.items():
        if user is not None:
            CareTeamMember.objects.create(episode=episode, user=user, role=team_role, assigned_on=admitted_on)
    forget()  # who reaches the patient through which way changed (iop.core.request_facts)
    patient.current_episode = episode
    patient.site = site
    save_if_unchanged(patient, expected_version=None, fields=["current_episode", "site"])
    if referral is not None:
        referral.status = ReferralStatus.CLOSED
        referral.outcome = ReferralOutcome.ADMITTED
        referral.admitted_at = _admission_moment(admitted_on, referral.referred_at)
        referral.closed_at = timezone.now()
        save_if_unchanged(
            referral, expected_version=None, fields=["status", "outcome", "admitted_at", "closed_at"]
        )
        audit_patient_change(
            actor, AuditAction.UPDATE, referral, patient, changed_fields=["status", "outcome"]
        )
    changed = ["program", "site", "admitted_on", "current_phase", "care_team"]
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        episode,
        patient,
        changed_fields=[*changed, "admission_note"] if episode.admission_note else changed,
    )
    return episode


@transaction.atomic
def set_care_team(
    *, actor, episode: Episode, expected_version: int | None, care_team: Mapping[str, object]
) -> Episode:
    """Replace the current holders of the given care-team roles (others stay as they are)."""
    episode = Episode.objects.select_for_update().select_related("site", "patient").get(pk=episode.pk)
    if expected_version is not None and episode.version != expected_version:
        raise StaleEdit()
    require_standing_reach(actor, episode.patient, what="change this care team")
    if not may_manage_care_team(actor, episode):
        raise PermissionError(
            "Only the site's admins and supervisors, and the episode's primary clinician or case "
            "manager, may change its care team."
        )
    if episode.status != EpisodeStatus.ACTIVE:
        raise ValidationError("The care team of a discharged episode cannot change.")
    current = {m.role: m for m in episode.care_team.filter(ended_on__isnull=True).select_related("user")}
    merged = {role: member.user for role, member in current.items()}
    merged.update(care_team)
    _validate_care_team(episode.site, merged)
    today = timezone.localdate()
    changed = []
    for team_role, user in care_team.items():
        existing = current.get(team_role)
        if existing is not None and existing.user == user:
            continue
        if existing is not None:
            existing.ended_on = today
            existing.save(update_fields=["ended_on", "updated_at"])
        if user is not None:
            CareTeamMember.objects.create(episode=episode, user=user, role=team_role, assigned_on=today)
        changed.append(f"care_team.{team_role}")
    if changed:
        forget()  # who reaches the patient through which way changed (iop.core.request_facts)
    save_if_unchanged(episode, expected_version=episode.version, fields=[])
    if changed:
        audit_patient_change(actor, AuditAction.UPDATE, episode, episode.patient, changed_fields=changed)
    return episode


@transaction.atomic(savepoint=False)
def record_chart_view(*, actor, patient: Patient, section: str) -> BreakGlassGrant | None:
    """Every read of a chart is audited; a break-the-glass read names the grant it went through.

    Returns the break-the-glass grant the read went through, if any (the chart shows it).
    """
    grant = active_break_glass_grant(actor, patient)
    record_event(
        actor=actor,
        action=AuditAction.READ,
        object_type=f"patients.chart.{section}",
        object_id=patient.public_id,
        patient_public_id=patient.public_id,
        reason=f"break-the-glass grant {grant.public_id}" if grant else "",
    )
    return grant


@transaction.atomic(savepoint=False)
def record_list_disclosure(*, actor, patients, section: str) -> None:
    """A list that shows identifiable patients (a list page, search results, an API list page)
    discloses each of them: one audited read per distinct patient (`patients.list.<section>`),
    in a fixed number of queries whatever the page size (ONC 170.315(d)(2))."""
    record_chart_views(actor=actor, patients=patients, section=section, kind="list")


@transaction.atomic(savepoint=False)
def record_chart_views(*, actor, patients, section: str, kind: str = "chart") -> None:
    """One audited chart read per distinct patient (an API list page), in one append."""
    patients = list({patient.pk: patient for patient in patients}.values())
    if not patients:
        return
    grants = {}
    if not (actor.is_superuser or actor.sees_whole_site):
        live = list(
            BreakGlassGrant.objects.filter(
                user=actor, patient__in=patients, expires_at__gt=timezone.now()
            ).order_by("expires_at")
        )
        # Care-team membership matters only for patients with a grant (rare): asked only then.
        on_team = (
            set(
                CareTeamMember.objects.filter(
                    user=actor,
                    ended_on__isnull=True,
                    episode__patient__in={grant.patient_id for grant in live},
                    episode__site_id__in=site_ids_of(actor),
                ).values_list("episode__patient_id", flat=True)
            )
            if live
            else set()
        )
        for grant in live:
            if grant.patient_id not in on_team:
                grants[grant.patient_id] = grant
    record_events(
        actor=actor,
        action=AuditAction.READ,
        events=[
            {
                "object_type": f"patients.{kind}.{section}",
                "object_id": patient.public_id,
                "patient_public_id": patient.public_id,
                "reason": f"break-the-glass grant {grants[patient.pk].public_id}"
                if patient.pk in grants
                else "",
            }
            for patient in patients
        ],
    )


@transaction.atomic
def break_the_glass(*, actor, mrn: str, category: str, reason: str) -> BreakGlassGrant:
    """Grant `actor` time-limited access to a chart outside their care team, at their sites.

    The reason is a category (imminent risk, continuity of care, patient request, other) and at
    least a sentence of text."""
    if not may_break_glass(actor):
        raise PermissionError("Only clinicians and medical staff may use emergency access.")
    if category not in BreakGlassReason.values:
        raise ValidationError(
            {"category": "Choose why: imminent risk, continuity of care, patient request or other."}
        )
    reason = reason.strip()
    if len(reason) < MIN_BREAK_GLASS_REASON:
        raise ValidationError({"reason": f"Give a reason of at least {MIN_BREAK_GLASS_REASON} characters."})
    patient = Patient.objects.filter(mrn=mrn.strip().upper(), site__in=actor.sites.all()).first()
    if patient is None:
        raise ValidationError({"mrn": "No patient with that MRN at your sites."})
    grant = BreakGlassGrant.objects.create(
        user=actor,
        patient=patient,
        site=patient.site,
        category=category,
        reason=reason,
        expires_at=timezone.now() + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    forget()  # a remembered "no grant" for this patient is no longer true (iop.core.request_facts)
    audit_patient_change(
        actor, AuditAction.BREAK_GLASS, grant, patient, reason=f"{grant.get_category_display()}: {reason}"
    )
    return grant


ALERT_RESOLVER_ROLES = {Role.CLINICIAN, Role.MEDICAL, Role.ADMIN}


@transaction.atomic
def resolve_alert(*, actor, alert: ClinicalAlert) -> ClinicalAlert:
    """Mark an alert handled. Compare-and-set: two people resolving at once is one resolution."""
    require_role(actor, ALERT_RESOLVER_ROLES, "resolve clinical alerts")
    now = timezone.now()
    updated = ClinicalAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, updated_at=now
    )
    if not updated:
        raise ValidationError("This alert was already resolved by someone else.")
    alert.refresh_from_db()
    audit_patient_change(
        actor, AuditAction.UPDATE, alert, alert.patient, changed_fields=["resolved_at", "resolved_by"]
    )
    return alert


@transaction.atomic
def raise_alert(
    *, actor, patient: Patient, kind: str, message: str, severity: str = AlertSeverity.MEDIUM
) -> ClinicalAlert:
    """Raise an alert on the chart and on the care team's (and intake clinician's) home pages.

    Idempotent per open alert: an identical unresolved alert is not raised twice.
    """
    existing = ClinicalAlert.objects.filter(
        patient=patient, kind=kind, message=message, resolved_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    alert = ClinicalAlert.objects.create(
        patient=patient, kind=kind, message=message, severity=severity, raised_by=actor
    )
    audit_patient_change(
        actor, AuditAction.CREATE, alert, patient, changed_fields=["kind", "severity", "message"]
    )
    return alert
