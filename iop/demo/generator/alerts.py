"""A few unresolved safety alerts on the demo clinician's active patients, each with the PHQ-9
that raised it: item 9 answered "Several days" today, scored by the engine, and the alert that
`administer_instrument` raises for its flag (same kind, severity and message)."""

from datetime import timedelta

from iop.demo.generator.answers import alerts_raised_by, phq9_answers, response
from iop.demo.generator.clinic import DemoClinic, demo_index, demo_patients
from iop.demo.generator.story import story_of
from patients.instruments import FLAG_SUICIDE_RISK, PHQ_9
from patients.models import CareTeamRole, ClinicalAlert, EpisodeStatus, InstrumentResponse
from patients.selectors.screening import short_name
from patients.services.screening import ALERT_RULES

SAFETY_ALERTS_FOR_DEMO_CLINICIAN = 3
SAFETY_ALERT_KIND = FLAG_SUICIDE_RISK
SAFETY_ALERT_MESSAGE = ALERT_RULES[FLAG_SUICIDE_RISK].message.format(name=short_name(PHQ_9), band="")


class SafetyAlerts:
    def build(self, clinic: DemoClinic) -> None:
        clinician = clinic.login("clinician")
        candidates = list(
            demo_patients()
            .filter(
                current_episode__status=EpisodeStatus.ACTIVE,
                current_episode__care_team__user=clinician,
                current_episode__care_team__role=CareTeamRole.PRIMARY_CLINICIAN,
                current_episode__care_team__ended_on__isnull=True,
            )
            .order_by("mrn")
            .values("pk", "mrn", "current_episode__referral__admitted_at")[:SAFETY_ALERTS_FOR_DEMO_CLINICIAN]
        )
        # Any alert with this message counts (earlier versions of the demo used another kind).
        already_alerted = set(
            ClinicalAlert.objects.filter(
                patient_id__in=[patient["pk"] for patient in candidates], message=SAFETY_ALERT_MESSAGE
            ).values_list("patient_id", flat=True)
        )
        results: list[InstrumentResponse] = []
        alerts: list[ClinicalAlert] = []
        for patient in candidates:
            if patient["pk"] in already_alerted:
                continue
            rng = clinic.rng("alert", patient["mrn"])
            story = story_of(clinic, demo_index(patient["mrn"]))
            administered_at = clinic.now - timedelta(minutes=rng.randint(30, 180))
            admitted_at = patient["current_episode__referral__admitted_at"]
            if admitted_at is not None:
                administered_at = max(administered_at, admitted_at)
            result = response(
                rng,
                patient_id=patient["pk"],
                code=PHQ_9,
                answers=phq9_answers(rng, max(10, story.phq9_at_intake), item_9=1),
                administered_at=administered_at,
                administered_by_id=clinician.pk,
                referral_id=None,
            )
            results.append(result)
            alerts += alerts_raised_by(rng, result)
        InstrumentResponse.objects.bulk_create(results)
        ClinicalAlert.objects.bulk_create(alerts)
        clinic.created["instrument results"] += len(results)
        clinic.created["alerts"] += len(alerts)
