"""Business events of the daily random draw: month keys, the draw itself, missed draws, reveal.

The rule is `testing.draw_rule` (pure). Here it meets the database: who is in a site's pool,
what state each patient is in, the one-draw-per-site-and-day constraint and the audit chain.
ADR 0011 explains the choices.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from iop.accounts.models import Site
from iop.accounts.permissions import may_manage_clinic
from iop.audit.models import AuditAction
from iop.audit.services import record_event, record_events
from patients.models import Episode, EpisodeStatus, Patient
from scheduling.selectors import missed_days_by_episode
from testing import draw_rule
from testing.models import (
    CollectionOutcome,
    Draw,
    DrawKey,
    DrawSelection,
    DrawTrigger,
    DrugTestOrder,
    OrderKind,
    OrderStatus,
    ResultReview,
    SelectionStatus,
    Specimen,
    SpecimenType,
    TestingPolicy,
)

logger = logging.getLogger(__name__)

KEY_OBJECT = "testing.drawkey"
DRAW_OBJECT = "testing.draw"


class DrawRefused(Exception):
    """A draw that may not run (not an operating day, in the future, no permission)."""


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_start(site: Site, month: date) -> datetime:
    return datetime.combine(month, time(0, 0), tzinfo=site.timezone)


def pseudonym_for(patient: Patient) -> str:
    """A stable pseudonym for the draw records: an HMAC of the patient's public id under a
    server secret, so the snapshot names nobody even once the month key is revealed."""
    return pseudonym_of(patient.public_id)


def pseudonym_of(patient_public_id) -> str:
    return salted_hmac("testing.draw.pseudonym", str(patient_public_id), algorithm="sha256").hexdigest()[:20]


def commitment_reason(key: DrawKey) -> str:
    return f"draw key commitment site={key.site.public_id} month={key.month:%Y-%m} sha256={key.commitment}"


def draw_reason(draw: Draw) -> str:
    return (
        f"draw site={draw.site.public_id} date={draw.date.isoformat()} algorithm={draw.algorithm_version} "
        f"snapshot sha256={draw.snapshot_hash} pool={draw.pool_size} selected={draw.selected_count} "
        f"trigger={draw.trigger}"
    )


@transaction.atomic
def commit_month_key(*, site: Site, month: date, actor=None) -> tuple[DrawKey, bool]:
    """Create the site's key for `month` with `secrets` and write its SHA-256 commitment to the
    audit chain. Idempotent (one key per site and month). A key made after the month started
    (the periodic task was down) is marked `committed_late`, and verification says so."""
    month = first_of_month(month)
    existing = DrawKey.objects.filter(site=site, month=month).first()
    if existing is not None:
        return existing, False
    secret = secrets.token_bytes(32)
    try:
        with transaction.atomic():
            key = DrawKey.objects.create(
                site=site,
                month=month,
                secret=secret.hex(),
                commitment=draw_rule.commitment_of(secret),
                committed_late=timezone.now() >= month_start(site, month),
            )
    except IntegrityError:  # another process committed the same month meanwhile
        return DrawKey.objects.get(site=site, month=month), False
    entry = record_event(
        actor=actor,
        action=AuditAction.COMMITMENT,
        object_type=KEY_OBJECT,
        object_id=key.public_id,
        reason=commitment_reason(key),
    )
    DrawKey.objects.filter(pk=key.pk).update(commitment_sequence=entry.sequence)
    key.commitment_sequence = entry.sequence
    return key, True


def commit_next_month_keys(*, today: date | None = None) -> int:
    """For every active site, commit next month's key if it is not yet committed (periodic)."""
    today = today or timezone.localdate()
    created = 0
    for site in Site.objects.filter(is_active=True):
        _, was_created = commit_month_key(site=site, month=next_month(today))
        created += was_created
    return created


@transaction.atomic
def reveal_ended_month_keys(*, today: date | None = None) -> int:
    """Mark the keys of months that have ended as revealed: the draw records show them."""
    today = today or timezone.localdate()
    keys = list(
        DrawKey.objects.select_for_update()
        .filter(revealed_at__isnull=True, month__lt=first_of_month(today))
        .order_by("pk")
    )
    now = timezone.now()
    for key in keys:
        DrawKey.objects.filter(pk=key.pk, revealed_at__isnull=True).update(revealed_at=now)
        record_event(
            actor=None,
            action=AuditAction.UPDATE,
            object_type=KEY_OBJECT,
            object_id=key.public_id,
            reason=f"draw key revealed site={key.site_id} month={key.month:%Y-%m}",
            changed_fields=["revealed_at"],
        )
    return len(keys)


# --- The pool --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolMember:
    patient_id: int
    episode_id: int
    patient_public_id: str
    pseudonym: str
    state: draw_rule.PatientState
    policy: TestingPolicy | None


def pool_for(site: Site, day: date) -> list[PoolMember]:
    """Every active patient of the site on `day` whose phase tests at a rate above 0 (and who is
    not excused that day), with the state their probability follows from: k counts operating
    days without the patient's excused days, and `owed` the selections since their last collected
    specimen on days they missed. Six queries, whatever the pool's size; plain rows (no model
    instances), since a site can have thousands of patients."""
    weekdays = sorted(site.operating_days)
    active = Episode.objects.filter(
        site=site,
        admitted_on__lte=day,
        current_phase__isnull=False,
        current_phase__tests_per_week__gt=0,
    )
    if day < timezone.localdate(timezone=site.timezone):
        # A missed past day (an admin's manual draw): the episodes that were open THAT day, even
        # if discharged since, and not those admitted after it. The draw runs before opening, so
        # an episode discharged that day was still open. There is no phase history yet, so the
        # rate is the episode's current phase (ADR 0011).
        active = active.filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=day))
    else:
        active = active.filter(status=EpisodeStatus.ACTIVE, patient__current_episode=F("pk"))
    episodes = list(
        active.values_list(
            "id",
            "patient_id",
            "patient__public_id",
            "admitted_on",
            "current_phase_id",
            "current_phase__tests_per_week",
            "current_phase__max_days_untested",
        )
    )
    in_pool = active.values("patient_id")
    policies = {
        policy.phase_id: policy
        for policy in TestingPolicy.objects.filter(phase_id__in={row[4] for row in episodes})
    }
    last_tests = dict(
        Specimen.objects.filter(
            patient_id__in=in_pool, outcome=CollectionOutcome.COLLECTED, collected_at__date__lt=day
        )
        .values("patient_id")
        .annotate(last=Max("collected_at"))
        .values_list("patient_id", "last")
    )
    increases = dict(
        ResultReview.objects.filter(
            patient_id__in=in_pool, increased_until__gte=day, increased_tests_per_week__isnull=False
        )
        .values("patient_id")
        .annotate(rate=Max("increased_tests_per_week"))
        .values_list("patient_id", "rate")
    )
    since_by_episode = {}
    for episode_id, patient_id, _, admitted_on, *_rest in episodes:
        last = last_tests.get(patient_id)
        since_by_episode[episode_id] = timezone.localtime(last, site.timezone).date() if last else admitted_on
    # Scheduling's attendance (ADR 0011): excused days leave the patient's calendar, and a day the
    # patient was selected and then missed (absent or excused) leaves them a test owed until the
    # next collected specimen. Two queries over the whole pool.
    earliest = min(since_by_episode.values(), default=day)
    missed = missed_days_by_episode(active.values("id"), first=earliest, last=day)
    selected_days: dict[int, list[date]] = {}
    for episode_id, selected_on in DrawSelection.objects.filter(
        episode_id__in=active.values("id"), draw__date__gte=earliest, draw__date__lt=day
    ).values_list("episode_id", "draw__date"):
        selected_days.setdefault(episode_id, []).append(selected_on)
    members = []
    ceiling = Decimal(len(weekdays))
    for episode_id, patient_id, patient_public_id, _admitted_on, phase_id, tests, max_gap in episodes:
        since = since_by_episode[episode_id]
        episode_missed = missed.get(episode_id, {})
        if episode_missed.get(day) == "excused":
            continue  # excused today (recorded ahead): not on their calendar, not in today's pool
        excused = sum(
            1
            for missed_on, status in episode_missed.items()
            if status == "excused" and since < missed_on < day and missed_on.isoweekday() in weekdays
        )
        owed = sum(
            1
            for selected_on in selected_days.get(episode_id, ())
            if selected_on > since and selected_on in episode_missed
        )
        rate = min(max(tests, increases.get(patient_id) or Decimal(0)), ceiling)
        policy = policies.get(phase_id)
        state = draw_rule.PatientState(
            tests_per_week=_decimal_text(rate),
            eligible_days_per_week=len(weekdays),
            max_gap=max_gap,
            ramp=min(policy.ramp if policy else draw_rule.DEFAULT_RAMP, max_gap),
            days_since_test=max(1, draw_rule.eligible_days_between(since, day, weekdays=weekdays) - excused),
            owed=str(owed),
        )
        members.append(
            PoolMember(
                patient_id=patient_id,
                episode_id=episode_id,
                patient_public_id=str(patient_public_id),
                pseudonym=pseudonym_of(patient_public_id),
                state=state,
                policy=policy,
            )
        )
    return members


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


# --- The draw --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawOutcome:
    draw: Draw
    created: bool


@transaction.atomic
def run_daily_draw(
    *,
    site: Site,
    day: date,
    actor=None,
    trigger: str = DrawTrigger.SCHEDULED,
    reason: str = "",
    nonce: str = "",
    notify: bool = True,
) -> DrawOutcome:
    """Draw once for `site` on `day`. Exactly one draw per site and day: a second run (a second
    beat, a retry, a hand-run) gets the existing draw back and changes nothing (database
    constraint; a concurrent run waits on the unique index and then finds the first)."""
    existing = Draw.objects.filter(site=site, date=day).first()
    if existing is not None:
        return DrawOutcome(existing, False)
    if day.isoweekday() not in site.operating_days:
        raise DrawRefused(f"{site} is closed on {day:%A}s: there is no draw that day.")
    if day > timezone.localdate(timezone=site.timezone):
        raise DrawRefused("A draw is never run ahead of its day.")
    key, _ = commit_month_key(site=site, month=day, actor=None)
    members = pool_for(site, day)
    snapshot = draw_rule.draw(
        key.key_bytes,
        site=str(site.public_id),
        day=day.isoformat(),
        pool=[draw_rule.PoolEntry(m.pseudonym, m.state) for m in members],
        nonce=nonce,
    )
    selected = {entry["pseudonym"]: entry for entry in snapshot["pool"] if entry["selected"]}
    try:
        with transaction.atomic():
            draw = Draw.objects.create(
                site=site,
                date=day,
                key=key,
                algorithm_version=draw_rule.ALGORITHM_VERSION,
                nonce=nonce,
                snapshot=snapshot,
                snapshot_hash=draw_rule.snapshot_hash(snapshot),
                pool_size=len(members),
                selected_count=len(selected),
                trigger=trigger,
                triggered_by=actor if actor is not None and actor.pk else None,
                reason=reason,
            )
    except IntegrityError:
        return DrawOutcome(Draw.objects.get(site=site, date=day), False)
    record_event(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=DRAW_OBJECT,
        object_id=draw.public_id,
        reason=draw_reason(draw),
    )
    chosen = [m for m in members if m.pseudonym in selected]
    orders = _insert_selections_and_orders(draw=draw, site=site, day=day, chosen=chosen, selected=selected)
    public_ids = {m.patient_id: m.patient_public_id for m in chosen}
    record_events(
        actor=actor,
        action=AuditAction.CREATE,
        events=[
            {
                "object_type": "testing.drugtestorder",
                "object_id": order_public_id,
                "patient_public_id": public_ids[patient_id],
                "reason": f"selected in the random draw of {day.isoformat()}",
            }
            for order_public_id, patient_id in orders
        ],
    )
    if chosen and notify:
        from testing.tasks import notify_draw_selections_task

        draw_id = draw.pk
        transaction.on_commit(lambda: notify_draw_selections_task.delay(draw_id))
    logger.info(
        "Draw %s for site %s on %s: %s of %s selected", draw.pk, site.pk, day, len(chosen), len(members)
    )
    return DrawOutcome(draw, True)


def _insert_selections_and_orders(*, draw: Draw, site: Site, day: date, chosen, selected) -> list[tuple]:
    """The selections and their random orders; returns (order public id, patient id) pairs.

    On PostgreSQL two set-based INSERTs (arrays unnested; each order joined to its selection and
    the patient's phase policy): a site of thousands of patients selects a thousand or more a
    day, and building that many model instances cost most of the draw's time. Elsewhere (the
    embedded SQLite clinic) plain bulk_create, which yields the same rows."""
    if not chosen:
        return []
    if connection.vendor == "postgresql":
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO testing_drawselection "
                "(public_id, created_at, updated_at, draw_id, patient_id, episode_id, pseudonym, "
                "probability, status, notified_at) "
                "SELECT gen_random_uuid(), %s, %s, %s, u.patient_id, u.episode_id, u.pseudonym, "
                "u.probability, %s, NULL FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
                "AS u(patient_id, episode_id, pseudonym, probability)",
                [
                    now,
                    now,
                    draw.pk,
                    SelectionStatus.PENDING,
                    [m.patient_id for m in chosen],
                    [m.episode_id for m in chosen],
                    [m.pseudonym for m in chosen],
                    [selected[m.pseudonym]["p"] for m in chosen],
                ],
            )
            cursor.execute(
                "INSERT INTO testing_drugtestorder "
                "(public_id, created_at, updated_at, version, patient_id, episode_id, site_id, kind, reason, "
                "due_on, selection_id, panel_id, specimen_type, observed_required, status, ordered_by_id) "
                "SELECT gen_random_uuid(), %s, %s, 1, s.patient_id, s.episode_id, %s, %s, '', %s, s.id, "
                "p.panel_id, COALESCE(p.specimen_type, %s), COALESCE(p.observed_collection, false), %s, NULL "
                "FROM testing_drawselection s "
                "JOIN patients_episode e ON e.id = s.episode_id "
                "LEFT JOIN testing_testingpolicy p ON p.phase_id = e.current_phase_id "
                "WHERE s.draw_id = %s ORDER BY s.id "
                "RETURNING public_id, patient_id",
                [now, now, site.pk, OrderKind.RANDOM, day, SpecimenType.URINE, OrderStatus.OPEN, draw.pk],
            )
            return [(str(public_id), patient_id) for public_id, patient_id in cursor.fetchall()]
    selections = DrawSelection.objects.bulk_create(
        [
            DrawSelection(
                draw=draw,
                patient_id=m.patient_id,
                episode_id=m.episode_id,
                pseudonym=m.pseudonym,
                probability=selected[m.pseudonym]["p"],
            )
            for m in chosen
        ]
    )
    orders = DrugTestOrder.objects.bulk_create(
        [
            DrugTestOrder(
                patient_id=m.patient_id,
                episode_id=m.episode_id,
                site=site,
                kind=OrderKind.RANDOM,
                due_on=day,
                selection=selection,
                panel_id=m.policy.panel_id if m.policy else None,
                specimen_type=m.policy.specimen_type if m.policy else SpecimenType.URINE,
                observed_required=m.policy.observed_collection if m.policy else False,
            )
            for m, selection in zip(chosen, selections, strict=True)
        ]
    )
    return [(str(order.public_id), order.patient_id) for order in orders]


def run_missed_draw(*, site: Site, day: date, actor, reason: str) -> DrawOutcome:
    """An admin runs a draw the periodic task missed (the machine was down at opening). Logged
    with the admin and their reason; still one draw per site and day."""
    if not may_manage_clinic(actor) or not (actor.is_superuser or actor.sites.filter(pk=site.pk).exists()):
        raise PermissionError("Only an admin of the site may run a missed draw.")
    reason = (reason or "").strip()
    if not reason:
        raise DrawRefused("Say why the draw is being run by hand.")
    return run_daily_draw(site=site, day=day, actor=actor, trigger=DrawTrigger.MANUAL, reason=reason)


def draw_is_due(site: Site, now: datetime | None = None) -> date | None:
    """The local day whose draw is due at `site` now (an operating day, at or after the site's
    draw time), or None."""
    now = timezone.localtime(now or timezone.now(), site.timezone)
    if now.isoweekday() not in site.operating_days or now.time() < site.daily_draw_time:
        return None
    return now.date()


def run_due_draws(now: datetime | None = None) -> list[int]:
    """Draw for every active site whose draw is due and not yet drawn today (periodic, frequent:
    a missed or doubled beat tick changes nothing)."""
    drawn = []
    for site in Site.objects.filter(is_active=True):
        day = draw_is_due(site, now)
        if day is None or Draw.objects.filter(site=site, date=day).exists():
            continue
        outcome = run_daily_draw(site=site, day=day)
        if outcome.created:
            drawn.append(outcome.draw.pk)
    return drawn


def mark_notified(selection_ids: list[int]) -> list[int]:
    """Compare-and-set: the selections this call claims for notification (each claimed once)."""
    claimed = []
    now = timezone.now()
    for selection_id in selection_ids:
        if DrawSelection.objects.filter(Q(pk=selection_id), Q(notified_at__isnull=True)).update(
            notified_at=now
        ):
            claimed.append(selection_id)
    return claimed
