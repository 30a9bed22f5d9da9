"""Reads of testing's tables that pages, the API and other apps rely on.

Patient-scoped reads start from `patients.access` (a patient out of reach is a 404, a list
holds only visible patients); queries have a fixed count whatever the data size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from iop.accounts.models import Role, Site
from patients.access import DataClass, may_read_data_class, visible_patients
from patients.models import Patient
from testing.models import (
    AnalyteResult,
    Draw,
    DrugTestOrder,
    OrderStatus,
    ResultOutcome,
    ResultReview,
    ResultStage,
    SelfReportedUse,
    Specimen,
)

WORKLIST_ROLES = frozenset({Role.CLINICIAN, Role.MEDICAL, Role.CASE_MANAGER, Role.ADMIN})


def may_use_worklist(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in WORKLIST_ROLES)


def may_see_results(user) -> bool:
    return may_read_data_class(user, DataClass.DRUG_TEST_RESULTS)


def worklist_sites(user) -> QuerySet[Site]:
    sites = Site.objects.filter(is_active=True)
    return sites if user.is_superuser else sites.filter(staff=user)


def worklist(user, site: Site, day: date) -> QuerySet[DrugTestOrder]:
    """Orders due at `site` on `day` (random selections and others) for the patients `user`
    sees, with what the worklist shows: patient, kind, status, last collection attempt."""
    return (
        DrugTestOrder.objects.filter(site=site, due_on=day, patient__in=visible_patients(user))
        .select_related("patient", "selection")
        .annotate(attempts=Count("specimens"))
        .order_by("status", "patient__legal_last_name", "patient__legal_first_name", "pk")
    )


@dataclass(frozen=True)
class Compliance:
    selected: int
    collected: int
    refused: int
    no_show: int
    open: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.collected / self.selected) if self.selected else None


def compliance(site: Site, since: date, until: date) -> Compliance:
    """Random selections versus collections at a site over a period (one aggregate query)."""
    counts = DrugTestOrder.objects.filter(
        site=site, kind="random", due_on__gte=since, due_on__lte=until
    ).aggregate(
        selected=Count("pk"),
        collected=Count("pk", filter=Q(status=OrderStatus.COLLECTED)),
        refused=Count("pk", filter=Q(status=OrderStatus.REFUSED)),
        no_show=Count("pk", filter=Q(status=OrderStatus.NO_SHOW)),
        open=Count("pk", filter=Q(status=OrderStatus.OPEN)),
    )
    return Compliance(**counts)


def orders_of(patient: Patient) -> QuerySet[DrugTestOrder]:
    """A chart's timeline: orders with their collection attempts and results (fixed queries)."""
    results = AnalyteResult.objects.select_related("analyte").order_by(
        "analyte__position", "analyte__name", "stage"
    )
    specimens = (
        Specimen.objects.select_related("collector")
        .prefetch_related(Prefetch("results", queryset=results))
        .order_by("collected_at")
    )
    return (
        DrugTestOrder.objects.filter(patient=patient)
        .select_related("ordered_by", "panel")
        .prefetch_related(Prefetch("specimens", queryset=specimens))
        .order_by("-due_on", "-created_at")
    )


def reviews_of(patient: Patient) -> QuerySet[ResultReview]:
    return ResultReview.objects.filter(patient=patient).select_related(
        "specimen", "assigned_to", "reviewed_by"
    )


def open_reviews_for(user) -> QuerySet[ResultReview]:
    """Reviews waiting for `user` (their home page task list)."""
    return (
        ResultReview.objects.filter(
            assigned_to=user, reviewed_at__isnull=True, patient__in=visible_patients(user)
        )
        .select_related("patient", "specimen")
        .order_by("created_at")
    )


@dataclass(frozen=True)
class SobrietyEvidence:
    since: date | None
    evidence: str
    specimen: Specimen | None
    self_report: SelfReportedUse | None = None


def sobriety_date(patient: Patient) -> SobrietyEvidence:
    """Derived, never typed: the day after the latest of (a) a finalised, current (not amended
    away), unexpected positive confirmation, (b) a presumptive positive (tampered specimen,
    refusal or no-show counted as positive) and (c) the last use the patient reported
    (structured self-report: substance, date of last use, when and to whom); else the episode's
    admission. The evidence that decided it is shown with it."""
    positive = (
        AnalyteResult.objects.filter(
            specimen__patient=patient,
            finalised_at__isnull=False,
            amended_by__isnull=True,
            outcome=ResultOutcome.POSITIVE,
            expected=False,
            stage=ResultStage.CONFIRMATION,
        )
        .select_related("specimen", "analyte")
        .order_by("-specimen__collected_at")
        .first()
    )
    presumed = (
        Specimen.objects.filter(patient=patient, counts_as_positive=True).order_by("-collected_at").first()
    )
    reported = (
        SelfReportedUse.objects.filter(patient=patient)
        .select_related("reported_to")
        .order_by("-last_used_on", "-reported_on", "-pk")
        .first()
    )
    candidates = []  # (the day of use, evidence, specimen, self-report)
    if positive is not None:
        candidates.append(
            (
                timezone.localdate(positive.specimen.collected_at),
                f"confirmed positive for {positive.analyte.name}",
                positive.specimen,
                None,
            )
        )
    if presumed is not None:
        label = (
            presumed.get_outcome_display().lower() if presumed.outcome != "collected" else "tampered specimen"
        )
        candidates.append(
            (timezone.localdate(presumed.collected_at), f"{label} (counted as positive)", presumed, None)
        )
    if reported is not None:
        candidates.append(
            (
                reported.last_used_on,
                f"self-reported use of {reported.get_substance_display().lower()} on "
                f"{reported.last_used_on:%Y-%m-%d} "
                f"(told {reported.reported_to} on {reported.reported_on:%Y-%m-%d})",
                None,
                reported,
            )
        )
    if candidates:
        # on the same day, a test result is stronger evidence than a report
        day, evidence, specimen, report = max(candidates, key=lambda c: (c[0], c[2] is not None))
        return SobrietyEvidence(day + timedelta(days=1), evidence, specimen, report)
    episode = patient.current_episode
    if episode is not None:
        return SobrietyEvidence(
            episode.admitted_on, "admission (no positive result or reported use since)", None
        )
    return SobrietyEvidence(None, "no episode", None)


def self_reports_of(patient: Patient) -> QuerySet[SelfReportedUse]:
    return SelfReportedUse.objects.filter(patient=patient).select_related("reported_to", "recorded_by")


def draws_for(user) -> QuerySet[Draw]:
    sites = Site.objects.all() if user.is_superuser else Site.objects.filter(staff=user)
    return (
        Draw.objects.filter(site__in=sites)
        .select_related("site", "key", "triggered_by")
        .order_by("-date", "site")
    )


def may_see_site_report(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.sees_whole_site)


@dataclass(frozen=True)
class SiteReport:
    weeks: list[str]  # ISO dates of each week's Monday
    selected: list[int]
    collected: list[int]
    not_collected: list[int]
    positivity: dict[str, list[float | None]]  # substance -> share of collected specimens, per week

    def as_json(self) -> dict:
        return {
            "weeks": self.weeks,
            "selected": self.selected,
            "collected": self.collected,
            "not_collected": self.not_collected,
            "positivity": self.positivity,
        }

    @property
    def rows(self) -> list[tuple]:
        return list(zip(self.weeks, self.selected, self.collected, self.not_collected, strict=True))


def site_report(site: Site, *, weeks: int = 12, today: date | None = None) -> SiteReport:
    """Random selections versus collections, and unexpected positives by substance as a share of
    collected specimens, per week over the last `weeks` weeks. Three aggregate queries."""
    from django.db.models.functions import TruncWeek

    today = today or timezone.localdate(timezone=site.timezone)
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=weeks - 1)
    labels = [(start + timedelta(weeks=n)).isoformat() for n in range(weeks)]
    index = {label: n for n, label in enumerate(labels)}

    def week_of(value) -> str:
        value = value.date() if hasattr(value, "date") else value
        return value.isoformat()

    selected, collected, missed = [0] * weeks, [0] * weeks, [0] * weeks
    for row in (
        DrugTestOrder.objects.filter(site=site, kind="random", due_on__gte=start, due_on__lte=today)
        .annotate(week=TruncWeek("due_on"))
        .values("week")
        .annotate(
            selected=Count("pk"),
            collected=Count("pk", filter=Q(status=OrderStatus.COLLECTED)),
            missed=Count(
                "pk", filter=Q(status__in=[OrderStatus.REFUSED, OrderStatus.NO_SHOW, OrderStatus.UNABLE])
            ),
        )
    ):
        n = index.get(week_of(row["week"]))
        if n is not None:
            selected[n], collected[n], missed[n] = row["selected"], row["collected"], row["missed"]
    zone = site.timezone
    specimens = [0] * weeks
    for row in (
        Specimen.objects.filter(order__site=site, outcome="collected", collected_at__date__gte=start)
        .annotate(week=TruncWeek("collected_at", tzinfo=zone))
        .values("week")
        .annotate(n=Count("pk"))
    ):
        n = index.get(week_of(row["week"]))
        if n is not None:
            specimens[n] = row["n"]
    positives: dict[str, list[int]] = {}
    for row in (
        AnalyteResult.objects.filter(
            specimen__order__site=site,
            specimen__collected_at__date__gte=start,
            finalised_at__isnull=False,
            amended_by__isnull=True,
            outcome=ResultOutcome.POSITIVE,
            expected=False,
        )
        .annotate(week=TruncWeek("specimen__collected_at", tzinfo=zone))
        .values("week", "analyte__name")
        .annotate(n=Count("specimen", distinct=True))
    ):
        n = index.get(week_of(row["week"]))
        if n is not None:
            positives.setdefault(row["analyte__name"], [0] * weeks)[n] = row["n"]
    positivity = {
        name: [round(count / specimens[n], 4) if specimens[n] else None for n, count in enumerate(counts)]
        for name, counts in sorted(positives.items())
    }
    return SiteReport(labels, selected, collected, missed, positivity)
