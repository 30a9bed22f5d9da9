"""Screening results, as `patients.services.screening` stores them.

- Every admitted patient: at the screening visit (the referral's `screened_at`) a PHQ-9, a
  GAD-7, and an AUDIT (mainly alcohol) or a DAST-10 (mainly drugs, where this installation
  offers it; otherwise an AUDIT), then an ASAM assessment (3rd edition) whose ratings the rule
  (`patients.asam_rule.recommend_level`) turns into Level 2.1, chosen as recommended. Then a
  PHQ-9 and a GAD-7 every four weeks or so from admission until discharge (or yesterday): most
  patients' totals fall, some stay where they were, so the score charts show both.
- Pre-admission patients whose open referral is screened: a PHQ-9 and an AUDIT then.

Answers are drawn near each patient's story; totals, bands and flags are the engine's. PHQ-9
item 9 stays 0 here, so these results raise no safety alert (`SafetyAlerts` adds the ones
the demo shows, with the PHQ-9 that raised them).
"""

import random
from datetime import datetime, timedelta

from iop.accounts.models import Role
from iop.demo.generator.answers import answers_for, response
from iop.demo.generator.clinic import DemoClinic, previous_weekday, seeded_uuid
from iop.demo.generator.roster import DemoPatient, roster
from iop.demo.generator.story import Story, story_of
from patients.asam_rule import DIMENSIONS, EDITION_3, IOP_LEVEL, recommend_level
from patients.instruments import AUDIT, DAST_10, GAD_7, PHQ_9
from patients.models import AsamAssessment, InstrumentResponse, Referral, ReferralStatus
from patients.selectors.screening import offered_instrument

SITTING_GAP = timedelta(minutes=8)  # between instruments at one visit
FOLLOW_UP_EVERY = timedelta(weeks=4)
PHQ9_TARGET_MAX = 24  # item 9 stays 0
GAD7_TARGET_MAX = 21
D1_WEIGHTS = {0: 40, 1: 45, 2: 15}  # Dimension 1 at 2 means "medical review before IOP"
OTHER_DIMENSION_WEIGHTS = {0: 15, 1: 40, 2: 35, 3: 10}


class Screening:
    def build(self, clinic: DemoClinic) -> None:
        self.drug_instrument = DAST_10 if offered_instrument(DAST_10) is not None else AUDIT
        for batch in roster(clinic, "Demo screening"):
            self._build_batch(clinic, batch)

    def _build_batch(self, clinic: DemoClinic, batch: list[DemoPatient]) -> None:
        ids = [patient.pk for patient in batch]
        with_results = set(
            InstrumentResponse.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True)
        )
        assessed = set(AsamAssessment.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True))
        screened_referrals = {
            patient_id: (referral_id, screened_at, clinician_id)
            for referral_id, patient_id, screened_at, clinician_id in Referral.objects.filter(
                patient_id__in=[patient.pk for patient in batch if patient.episode is None],
                status=ReferralStatus.OPEN,
                screened_at__isnull=False,
            )
            .order_by("referred_at")
            .values_list("pk", "patient_id", "screened_at", "intake_clinician_id")
        }
        results: list[InstrumentResponse] = []
        assessments: list[AsamAssessment] = []
        for patient in batch:
            episode = patient.episode
            if episode is not None:
                if not (episode.referral_id and episode.screened_at and episode.primary_clinician_id):
                    continue  # not admitted by the demo (no referral to date the screening by)
                if patient.pk not in with_results:
                    results += self._treated(clinic, patient)
                if patient.pk not in assessed:
                    assessments.append(self._asam(clinic, patient))
            elif patient.pk in screened_referrals and patient.pk not in with_results:
                results += self._waiting(clinic, patient, *screened_referrals[patient.pk])
        InstrumentResponse.objects.bulk_create(results)
        AsamAssessment.objects.bulk_create(assessments)
        clinic.created["instrument results"] += len(results)
        clinic.created["ASAM assessments"] += len(assessments)

    def _treated(self, clinic: DemoClinic, patient: DemoPatient) -> list[InstrumentResponse]:
        episode = patient.episode
        if episode is None or episode.screened_at is None or episode.primary_clinician_id is None:
            return []
        rng = clinic.rng("instruments", patient.index, episode.admitted_on)
        story = story_of(clinic, patient.index)
        gap = _sitting_gap(episode.screened_at, episode.admitted_at or clinic.now)
        substance_instrument = AUDIT if story.uses_alcohol_mainly else self.drug_instrument
        substance_target = story.dast_positives if substance_instrument == DAST_10 else story.audit_at_intake

        def result(code: str, target: int, at: datetime, referral_id: int | None) -> InstrumentResponse:
            return response(
                rng,
                patient_id=patient.pk,
                code=code,
                answers=answers_for(code, rng, target),
                administered_at=at,
                administered_by_id=episode.primary_clinician_id,
                referral_id=referral_id,
            )

        at = episode.screened_at
        results = [
            result(PHQ_9, story.phq9_at_intake, at, episode.referral_id),
            result(GAD_7, story.gad7_at_intake, at + gap, episode.referral_id),
            result(substance_instrument, substance_target, at + 2 * gap, episode.referral_id),
        ]
        # Every four weeks or so after admission, up to discharge, before today (so the series
        # does not depend on the time of day of the run). The referral is closed by then.
        last_day = min(episode.last_day(clinic.today), clinic.today - timedelta(days=1))
        for number in range(1, 1000):
            due = episode.admitted_on + number * FOLLOW_UP_EVERY + timedelta(days=rng.randint(-2, 3))
            day = previous_weekday(due)
            if day > last_day:
                break
            at = clinic.moment(day, rng, 9, 16, patient.site)
            results.append(result(PHQ_9, _follow_up(rng, story, number, PHQ9_TARGET_MAX), at, None))
            results.append(
                result(GAD_7, _follow_up(rng, story, number, GAD7_TARGET_MAX, gad=True), at + gap, None)
            )
        return results

    def _waiting(
        self,
        clinic: DemoClinic,
        patient: DemoPatient,
        referral_id: int,
        screened_at: datetime,
        clinician_id: int | None,
    ) -> list[InstrumentResponse]:
        """A PHQ-9 and an AUDIT at the screening of an open referral, by its intake clinician."""
        rng = clinic.rng("instruments", patient.index, "screening")
        story = story_of(clinic, patient.index)
        clinician_id = clinician_id or rng.choice(clinic.staff_for(patient.site_index, Role.CLINICIAN)).pk
        gap = _sitting_gap(screened_at, clinic.now)
        return [
            response(
                rng,
                patient_id=patient.pk,
                code=code,
                answers=answers_for(code, rng, target),
                administered_at=screened_at + number * gap,
                administered_by_id=clinician_id,
                referral_id=referral_id,
            )
            for number, (code, target) in enumerate(
                ((PHQ_9, story.phq9_at_intake), (AUDIT, story.audit_at_intake))
            )
        ]

    def _asam(self, clinic: DemoClinic, patient: DemoPatient) -> AsamAssessment:
        """What `assess_asam` stores when the clinician accepts the rule's Level 2.1."""
        episode = patient.episode
        if episode is None or episode.screened_at is None or episode.primary_clinician_id is None:
            raise ValueError(f"{patient.mrn} was not screened by the demo.")
        rng = clinic.rng("asam", patient.index, episode.admitted_on)
        while True:  # draw until the rule says IOP (most draws do)
            ratings = {"1": _weighted(rng, D1_WEIGHTS)}
            ratings.update(
                {dimension: _weighted(rng, OTHER_DIMENSION_WEIGHTS) for dimension in DIMENSIONS[1:]}
            )
            recommendation = recommend_level(EDITION_3, ratings)
            if recommendation.level == IOP_LEVEL:
                break
        gap = _sitting_gap(episode.screened_at, episode.admitted_at or clinic.now)
        return AsamAssessment(
            public_id=seeded_uuid(rng),
            patient_id=patient.pk,
            referral_id=episode.referral_id,
            edition=EDITION_3,
            ratings=ratings,
            dimension_notes={},
            recommended_level=recommendation.level,
            recommendation_reasons=list(recommendation.reasons),
            chosen_level=recommendation.level,
            override_reason="",
            assessed_at=episode.screened_at + 4 * gap,
            assessed_by_id=episode.primary_clinician_id,
        )


def _sitting_gap(start: datetime, before: datetime) -> timedelta:
    """The time between instruments at one visit; shorter when the next event is close."""
    return max(timedelta(0), min(SITTING_GAP, (before - start) / 6))


def _follow_up(rng: random.Random, story: Story, number: int, most: int, *, gad: bool = False) -> int:
    at_intake = story.gad7_at_intake if gad else story.phq9_at_intake
    expected = at_intake * story.change_per_four_weeks**number
    return max(0, min(most, round(expected + rng.gauss(0, 1.5))))


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    values, value_weights = zip(*weights.items(), strict=True)
    return rng.choices(values, weights=value_weights)[0]
