"""Drug testing in the demo clinic: the default panel and policies, and the last few weeks of
real daily draws (the real rule and service, day by day, so each day's state follows from the
collections before it), with collections, results and the clinical reviews they opened.

Collections and results are written in bulk with the values the services would store
(validity from `testing.validity`, "expected" from `testing.expected_results`), and so are the
reviews with their alerts for the primary clinician (older ones already answered). Only the
draws write audit entries of their own (key commitments, draws, orders): verification needs them.
The month keys of the seeded past were committed when the demo was seeded, so verification of
those draws reports a late commitment; draws the clinic makes from then on verify fully.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from iop.accounts.models import Role
from iop.demo.generator.clinic import DEMO_PROGRAM_NAME, DemoClinic, demo_index, seeded_uuid
from iop.demo.generator.drug_test_history import build_history
from iop.demo.generator.story import ALCOHOL, BENZODIAZEPINES, CANNABIS, OPIOIDS, STIMULANTS, story_of
from patients.models import AlertSeverity, ClinicalAlert, Medication, Program
from testing import expected_results, validity
from testing.default_panel import ensure_default_panel, ensure_default_policies
from testing.models import (
    Analyte,
    AnalyteResult,
    CollectionOutcome,
    Draw,
    DrawSelection,
    DrugTestOrder,
    OrderStatus,
    Panel,
    ResponseAction,
    ResultOutcome,
    ResultReview,
    ResultStage,
    ReviewTrigger,
    SelectionStatus,
    Specimen,
    TestingPolicy,
)
from testing.services import collection, draws

HISTORY_WEEKS = {"demo": 4, "reference": 1}  # of real daily draws, at most the run's `weeks`
# The reference workload's first site gets a month and a bit of real draws, so that the benchmark
# verifies a month of them (bench_draw); at every site one week would cost minutes at full scale.
REFERENCE_FIRST_SITE_WEEKS = 5
SUBSTANCE_ANALYTE = {
    ALCOHOL: "etg",
    OPIOIDS: "fty",
    STIMULANTS: "amp",
    CANNABIS: "thc",
    BENZODIAZEPINES: "bzo",
}
NO_SHOW, REFUSED, DILUTE, SUBSTITUTED = 0.03, 0.01, 0.02, 0.004
DEVICE = "DemoCup 10-panel (fictional)"
LAB = "LC-MS/MS, Demo Reference Lab (fictional)"


class DrugTesting:
    def build(self, clinic: DemoClinic) -> None:
        panel = ensure_default_panel(Panel, Analyte)
        program = Program.objects.filter(name=DEMO_PROGRAM_NAME).first()
        if program is not None:
            before = TestingPolicy.objects.count()
            ensure_default_policies(program, panel, TestingPolicy)
            clinic.created["testing policies"] += TestingPolicy.objects.count() - before
        analytes = {analyte.code: analyte for analyte in panel.analytes.all()}
        for site_index, site in enumerate(clinic.site_list):
            self._site(clinic, site_index, site, analytes)

    def _site(self, clinic, site_index, site, analytes) -> None:
        local_today = timezone.localdate(clinic.now, ZoneInfo(str(site.timezone)))
        # The reference workload's real draws: the last weeks; generated history before them.
        weeks = HISTORY_WEEKS.get(clinic.mix, 1)
        if clinic.mix == "reference" and site_index == 0:
            weeks = REFERENCE_FIRST_SITE_WEEKS
        start = local_today - timedelta(weeks=min(weeks, clinic.weeks))
        days = [
            start + timedelta(days=n)
            for n in range((local_today - start).days + 1)
            if (start + timedelta(days=n)).isoweekday() in site.operating_days
        ]
        drawn = set(Draw.objects.filter(site=site, date__in=days).values_list("date", flat=True))
        medical = clinic.staff_for(site_index, Role.MEDICAL)[0]
        clinicians = clinic.staff_for(site_index, Role.CLINICIAN)
        if clinic.mix == "reference":
            # Two years before the real draws, generated set-based (drug_test_history, ADR 0011).
            build_history(clinic, site, until=start, collector=medical, clinician=clinicians[0])
        for day in days:
            if day in drawn:
                continue
            try:
                draw = draws.run_daily_draw(site=site, day=day, notify=False).draw
            except draws.DrawRefused:
                continue
            clinic.created["draws"] += 1
            self._collect(clinic, site, draw, day, local_today, medical, clinicians[0], analytes)

    def _collect(self, clinic, site, draw, day, today, collector, clinician, analytes) -> None:
        orders = list(
            DrugTestOrder.objects.filter(selection__draw=draw).select_related("patient", "selection")
        )
        zone = ZoneInfo(str(site.timezone))
        medications = defaultdict(list)
        for medication in Medication.objects.filter(patient_id__in=[o.patient_id for o in orders]):
            medications[medication.patient_id].append(
                expected_results.Prescription(
                    medication.name, medication.medication_class, medication.started_on, medication.stopped_on
                )
            )
        specimens, results, statuses, triggers = [], [], {}, []
        for order in orders:
            rng = clinic.rng("drug-test", order.patient.mrn, day.isoformat())
            if day == today and rng.random() < 0.6:
                continue  # today's worklist: most still to collect
            at = datetime.combine(day, time(9), tzinfo=zone) + timedelta(minutes=rng.randint(0, 420))
            if at > clinic.now:
                continue
            roll = rng.random()
            outcome = (
                CollectionOutcome.NO_SHOW
                if roll < NO_SHOW
                else CollectionOutcome.REFUSED
                if roll < NO_SHOW + REFUSED
                else CollectionOutcome.COLLECTED
            )
            collected = outcome == CollectionOutcome.COLLECTED
            measures = validity.Measures(
                creatinine=Decimal(str(round(rng.uniform(40, 250), 1))),
                specific_gravity=Decimal("1.0150"),
                ph=Decimal("6.0"),
            )
            tamper = rng.random()
            if collected and tamper < SUBSTITUTED:
                measures = validity.Measures(
                    creatinine=Decimal("1.2"), specific_gravity=Decimal("1.0005"), ph=Decimal("6.5")
                )
            elif collected and tamper < SUBSTITUTED + DILUTE:
                measures = validity.Measures(
                    creatinine=Decimal("14.0"), specific_gravity=Decimal("1.0020"), ph=Decimal("6.5")
                )
            classification = validity.classify(measures)
            specimen = Specimen(
                public_id=seeded_uuid(rng),
                order=order,
                patient_id=order.patient_id,
                outcome=outcome,
                counts_as_positive=not collected or classification.tampered,
                collector=collector,
                collected_at=at,
                specimen_type=order.specimen_type,
                observed=order.observed_required,
                temperature_c=Decimal(str(round(rng.uniform(33, 36.5), 1))) if collected else None,
                temperature_in_range=True if collected else None,
                chain_of_custody_number=f"DEMO-{order.public_id.hex[:12].upper()}" if collected else "",
                creatinine=measures.creatinine if collected else None,
                specific_gravity=measures.specific_gravity if collected else None,
                ph=measures.ph if collected else None,
                validity=classification.validity.value if collected else validity.Validity.NOT_ASSESSED.value,
                validity_findings=list(classification.findings) if collected else [],
            )
            specimens.append(specimen)
            statuses[order.pk] = (
                {
                    CollectionOutcome.COLLECTED: OrderStatus.COLLECTED,
                    CollectionOutcome.NO_SHOW: OrderStatus.NO_SHOW,
                    CollectionOutcome.REFUSED: OrderStatus.REFUSED,
                }[outcome],
                order.selection_id,
                collected,
            )
            if not collected:
                triggers.append(
                    (specimen, ReviewTrigger.NO_SHOW if outcome == "no_show" else ReviewTrigger.REFUSAL)
                )
                continue
            if classification.tampered:
                triggers.append((specimen, ReviewTrigger.TAMPERED))
            story = story_of(clinic, demo_index(order.patient.mrn))
            relapse = rng.random() < (0.05 if story.improving else 0.2)
            unexpected = False
            for code, analyte in analytes.items():
                explanation = expected_results.explain_positive(
                    explained_by=analyte.explained_by,
                    collected_on=day,
                    prescriptions=medications[order.patient_id],
                    window_days=analyte.detection_window_days,
                )
                positive = explanation.expected or (
                    relapse and SUBSTANCE_ANALYTE.get(story.substance) == code
                )
                unexpected |= positive and not explanation.expected
                finalised = day < today
                results.append(
                    AnalyteResult(
                        public_id=seeded_uuid(rng),
                        specimen=specimen,
                        analyte=analyte,
                        stage=ResultStage.SCREEN,
                        device_or_assay=DEVICE,
                        lot=f"L{day:%y%m}",
                        cutoff=analyte.screen_cutoff,
                        outcome=ResultOutcome.POSITIVE if positive else ResultOutcome.NEGATIVE,
                        expected=explanation.expected,
                        expected_because=explanation.medication,
                        entered_by=collector,
                        finalised_at=at + timedelta(hours=1) if finalised else None,
                        finalised_by=clinician if finalised else None,
                    )
                )
                if positive and not explanation.expected and finalised:
                    results.append(
                        AnalyteResult(
                            public_id=seeded_uuid(rng),
                            specimen=specimen,
                            analyte=analyte,
                            stage=ResultStage.CONFIRMATION,
                            device_or_assay=LAB,
                            cutoff=analyte.confirmation_cutoff or analyte.screen_cutoff,
                            value=(analyte.confirmation_cutoff or analyte.screen_cutoff) * rng.randint(2, 12),
                            outcome=ResultOutcome.POSITIVE,
                            entered_by=collector,
                            finalised_at=at + timedelta(days=2),
                            finalised_by=clinician,
                        )
                    )
            if unexpected and day < today:
                triggers.append((specimen, ReviewTrigger.UNEXPECTED_POSITIVE))
        Specimen.objects.bulk_create(specimens)
        AnalyteResult.objects.bulk_create(results)
        clinic.created["specimens"] += len(specimens)
        clinic.created["drug test results"] += len(results)
        by_status: dict[str, list[int]] = defaultdict(list)
        by_selection: dict[str, list[int]] = defaultdict(list)
        for order_id, (status, selection_id, collected) in statuses.items():
            by_status[status].append(order_id)
            selection_status = SelectionStatus.COLLECTED if collected else SelectionStatus.NOT_COLLECTED
            by_selection[selection_status].append(selection_id)
        for status, order_ids in by_status.items():
            DrugTestOrder.objects.filter(pk__in=order_ids).update(status=status)
        for status, selection_ids in by_selection.items():
            DrawSelection.objects.filter(pk__in=selection_ids).update(status=status)
        primary = {
            order.patient_id: collection.primary_clinician(order.patient) for order in orders if triggers
        }
        alerts, reviews = [], []
        for specimen, trigger in triggers:
            rng = clinic.rng("drug-test-review", specimen.public_id, trigger)
            old = (today - day).days > 7  # the care team responded to the older ones
            assigned = primary.get(specimen.patient_id) or clinician
            alert = ClinicalAlert(
                public_id=seeded_uuid(rng),
                patient_id=specimen.patient_id,
                kind=collection.ALERT_KIND,
                severity=AlertSeverity.HIGH if trigger == ReviewTrigger.TAMPERED else AlertSeverity.MEDIUM,
                message=f"{collection.ALERT_MESSAGES[trigger]} ({day:%Y-%m-%d})",
                resolved_at=clinic.now if old else None,
                resolved_by=assigned if old else None,
            )
            alerts.append(alert)
            reviews.append(
                ResultReview(
                    public_id=seeded_uuid(rng),
                    patient_id=specimen.patient_id,
                    specimen=specimen,
                    trigger=trigger,
                    alert=alert,
                    assigned_to=assigned,
                    reviewed_at=clinic.now - timedelta(days=(today - day).days - 2) if old else None,
                    reviewed_by=assigned if old else None,
                    actions=[ResponseAction.DISCUSS_IN_SESSION] if old else [],
                    note="Discussed in the next individual session." if old else "",
                )
            )
        ClinicalAlert.objects.bulk_create(alerts)
        ResultReview.objects.bulk_create(reviews)
        clinic.created["test reviews"] += len(reviews)
