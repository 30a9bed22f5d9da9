"""Rolling admission: an episode joins or leaves a running series on any date. Each enrolment
is its own dated row, so joining or leaving never touches the series' occurrences or anyone
else's enrolment."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from iop.audit.models import AuditAction
from patients.access import require_clinical_write
from patients.models import Episode, EpisodeStatus
from patients.services.auditing import audit_patient_change
from scheduling import hours, permissions
from scheduling.models import Enrolment, GroupSeries

# Capacity is checked this far ahead for an open-ended enrolment (occurrences exist 8 weeks ahead).
CAPACITY_HORIZON_DAYS = 366


def _peak(enrolments, first: date, last: date) -> int:
    """The most of `enrolments` that hold a place on one day in [first, last]."""
    events: list[tuple[date, int]] = []
    for enrolment in enrolments:
        start = max(enrolment.joined_on, first)
        end = min(enrolment.left_on or last, last)
        if start <= end:
            events += [(start, 1), (end + timedelta(days=1), -1)]
    peak = current = 0
    for _day, delta in sorted(events):
        current += delta
        peak = max(peak, current)
    return peak


def _overlapping(series: GroupSeries, first: date, last: date | None):
    queryset = Enrolment.objects.filter(series=series).filter(Q(left_on__isnull=True) | Q(left_on__gte=first))
    if last is not None:
        queryset = queryset.filter(joined_on__lte=last)
    return queryset


@transaction.atomic
def enrol(
    *,
    actor,
    series: GroupSeries,
    episode: Episode,
    joined_on: date,
    left_on: date | None = None,
    phase_override_reason: str = "",
) -> Enrolment:
    """Put an episode on a series' rosters from `joined_on` (to `left_on`, inclusive). Refuses an
    enrolment over capacity, overlapping one the episode already has, outside the series' or
    episode's dates, or (without a reason) in a series that does not serve the patient's phase."""
    permissions.require(permissions.may_enrol(actor), "enrol patients in groups")
    series = GroupSeries.objects.select_for_update().select_related("site").get(pk=series.pk)  # capacity race
    episode = Episode.objects.select_related("patient", "current_phase").get(pk=episode.pk)
    require_clinical_write(
        actor, episode.patient, allow_break_glass=False, what="enrol this patient in groups"
    )
    errors: dict[str, str] = {}
    if episode.status != EpisodeStatus.ACTIVE:
        errors["episode"] = "The episode is discharged: admit the patient again first."
    elif episode.site_id != series.site_id:
        errors["series"] = "The series meets at another site than the patient's episode."
    if not series.is_active:
        errors["series"] = "This series has ended."
    if not all(hours.FIRST_DAY <= day <= hours.LAST_DAY for day in (joined_on, left_on or joined_on)):
        raise ValidationError({"joined_on": hours.OUT_OF_RANGE})
    if left_on is not None and left_on < joined_on:
        errors["left_on"] = "The last day is before the first day."
    if joined_on < episode.admitted_on:
        errors["joined_on"] = (
            f"The patient was admitted on {episode.admitted_on:%Y-%m-%d}: join on or after it."
        )
    if joined_on < series.starts_on or (series.ends_on and joined_on > series.ends_on):
        errors["joined_on"] = "The series does not meet then."
    if errors:
        raise ValidationError(errors)
    served = list(series.phases.values_list("pk", flat=True))
    reason = (phase_override_reason or "").strip()
    if served and episode.current_phase_id not in served and not reason:
        raise ValidationError(
            {"series": "This series does not serve the patient's phase: give a reason to enrol them anyway."}
        )
    if _overlapping(series, joined_on, left_on).filter(episode=episode).exists():
        raise ValidationError(
            {"joined_on": "The patient is already enrolled in this series on some of these days."}
        )
    last = left_on or min(
        [day for day in (series.ends_on,) if day] + [joined_on + timedelta(days=CAPACITY_HORIZON_DAYS)]
    )
    if _peak(_overlapping(series, joined_on, last), joined_on, last) >= series.capacity:
        raise ValidationError(
            {"series": f"{series.name} is full (capacity {series.capacity}) on some of these days."}
        )
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                series=series, episode=episode, joined_on=joined_on, left_on=left_on, enrolled_by=actor
            )
    except IntegrityError as error:  # the exclusion constraint, under a race we did not lock out
        raise ValidationError(
            {"joined_on": "The patient is already enrolled in this series then."}
        ) from error
    audit_patient_change(
        actor,
        AuditAction.CREATE,
        enrolment,
        episode.patient,
        changed_fields=["series", "joined_on", "left_on"],
        reason=f"Enrolled outside the series' phases: {reason}"
        if served and episode.current_phase_id not in served
        else "",
    )
    return enrolment


@transaction.atomic
def leave(*, actor, enrolment: Enrolment, left_on: date, reason: str = "") -> Enrolment:
    """End an enrolment on `left_on` (inclusive): the patient is off the rosters after it."""
    permissions.require(permissions.may_enrol(actor), "change group enrolments")
    enrolment = Enrolment.objects.select_for_update().select_related("episode__patient").get(pk=enrolment.pk)
    require_clinical_write(
        actor, enrolment.episode.patient, allow_break_glass=False, what="change group enrolments"
    )
    if left_on < enrolment.joined_on:
        raise ValidationError(
            {"left_on": f"The patient joined on {enrolment.joined_on:%Y-%m-%d}: leave on or after it."}
        )
    if enrolment.left_on is not None and left_on > enrolment.left_on:
        raise ValidationError({"left_on": "The enrolment already ends before that day."})
    enrolment.left_on = left_on
    enrolment.leave_reason = (reason or "").strip()[:200]
    enrolment.save(update_fields=["left_on", "leave_reason", "updated_at"])
    audit_patient_change(
        actor, AuditAction.UPDATE, enrolment, enrolment.episode.patient, changed_fields=["left_on"]
    )
    return enrolment
