"""Referrals, as `patients.services.intake` and admission leave them.

- Every admitted patient (active or discharged): a closed referral per episode, outcome
  admitted, referred a few days before the admission, screened in between and admitted on the
  admission day; it is the episode's `referral` (time to admission). Its eligibility checklist,
  all met, was done after the screening (admission without one needs a reason).
- Every pre-admission patient: an open referral (the intake queue), referred 1 hour to 6 days
  before `now`, about half already screened (the screening part adds their PHQ-9 and AUDIT at
  `screened_at`), some with the eligibility checklist done.
"""

import random
import re
from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Subquery, Value
from faker import Faker

from iop.accounts.models import Role
from iop.demo.generator.clinic import DemoClinic, seeded_uuid
from iop.demo.generator.roster import DemoPatient, roster
from iop.demo.generator.story import ALCOHOL, BENZODIAZEPINES, CANNABIS, OPIOIDS, STIMULANTS, story_of
from patients.models import (
    EligibilityReview,
    Episode,
    Referral,
    ReferralOutcome,
    ReferralSource,
    ReferralStatus,
    Urgency,
)

SOURCE_WEIGHTS = {
    ReferralSource.SELF: 25,
    ReferralSource.FAMILY: 10,
    ReferralSource.COURT: 18,
    ReferralSource.EMPLOYER: 10,
    ReferralSource.HOSPITAL: 15,
    ReferralSource.RESIDENTIAL_STEP_DOWN: 12,
    ReferralSource.OTHER: 10,
}
URGENCY_WEIGHTS = {Urgency.ROUTINE: 70, Urgency.URGENT: 22, Urgency.EMERGENT: 8}
# Days from referral to admission, by urgency.
DAYS_TO_ADMISSION = {Urgency.EMERGENT: (1, 1, 1), Urgency.URGENT: (1, 3, 2), Urgency.ROUTINE: (2, 12, 4)}
OPEN_REFERRAL_AGE = (timedelta(hours=1), timedelta(days=6))
SCREENED_SHARE = 0.5  # of open referrals older than SCREENED_AFTER
SCREENED_AFTER = timedelta(hours=3)
SCREENED_AT = (0.1, 0.7)  # how far from the referral to now an open referral was screened
# The eligibility checklist follows the screening visit (PHQ-9, GAD-7, AUDIT or DAST-10, ASAM:
# at most 32 minutes). Before `now` and before admission: an open referral was screened at
# least 0.3 x 3 hours before now, an admitted one at least 3 hours before admission (or a
# third of the way from a referral made the day before).
REVIEWED_AFTER_SCREENING = timedelta(minutes=40)
ELIGIBILITY_SHARE = 0.6  # of screened open referrals

USE = {
    ALCOHOL: "Drinking daily, unable to cut down despite two attempts; blackouts and missed work.",
    OPIOIDS: "Opioid use disorder (fentanyl, pills); wants to stay in recovery with structured support.",
    STIMULANTS: "Methamphetamine and cocaine use, several days a week; sleep and mood problems.",
    CANNABIS: "Heavy daily cannabis use affecting work and family; asks for help to stop.",
    BENZODIAZEPINES: "Benzodiazepine misuse (non-prescribed alprazolam) with alcohol at weekends.",
}
WHY_NOW = {
    ReferralSource.SELF: "Self-referred after a relapse; asks for an evening group.",
    ReferralSource.FAMILY: "Family worried after a recent crisis; the person agrees to treatment.",
    ReferralSource.COURT: "Treatment is a condition of probation; the court asks for attendance reports.",
    ReferralSource.EMPLOYER: "Referred by the employee assistance program after a positive workplace test.",
    ReferralSource.HOSPITAL: "Seen in the emergency department; medically stable, discharged with referral.",
    ReferralSource.RESIDENTIAL_STEP_DOWN: "Stepping down from 28-day residential treatment.",
    ReferralSource.OTHER: "Referred by the primary care provider for a higher level of care.",
}
FAMILY_REFERRERS = ("Spouse", "Parent", "Sibling", "Partner", "Adult child")
OTHER_REFERRERS = ("Primary care provider", "Outpatient therapist", "Community health center")
UNMET_CRITERIA = ("has_transportation", "stable_home_and_support", "has_obligations_to_keep")
UNMET_NOTES = {
    "has_transportation": "No car; bus route takes 90 minutes. Case manager to look at ride options.",
    "stable_home_and_support": "Staying with a friend for now; housing referral made.",
    "has_obligations_to_keep": "Not working at present; residential was discussed and declined.",
}


class Referrals:
    def build(self, clinic: DemoClinic) -> None:
        for batch in roster(clinic, "Demo referrals"):
            self._build_batch(clinic, batch)

    def _build_batch(self, clinic: DemoClinic, batch: list[DemoPatient]) -> None:
        waiting = [patient.pk for patient in batch if patient.episode is None]
        ever_referred = set(
            Referral.objects.filter(patient_id__in=waiting).values_list("patient_id", flat=True)
        )
        admitted: list[tuple[DemoPatient, Referral]] = []
        open_referrals: list[tuple[DemoPatient, Referral]] = []
        for patient in batch:
            if patient.episode is not None and patient.episode.referral_id is None:
                admitted.append((patient, self._admitted(clinic, patient)))
            elif patient.episode is None and patient.pk not in ever_referred:
                open_referrals.append((patient, self._open(clinic, patient)))
        referrals = [referral for _, referral in admitted] + [referral for _, referral in open_referrals]
        if not referrals:
            return
        Referral.objects.bulk_create(referrals)
        # Each admitted episode answers its patient's newest admitted referral: the one just made.
        Episode.objects.filter(
            pk__in=[patient.episode.pk for patient, _ in admitted if patient.episode]
        ).update(
            referral=Subquery(
                Referral.objects.filter(patient_id=OuterRef("patient_id"), outcome=ReferralOutcome.ADMITTED)
                .order_by("-pk")
                .values("pk")[:1]
            )
        )
        reviews = [
            review
            for patient, referral in [*admitted, *open_referrals]
            if (review := self._eligibility(clinic, patient, referral)) is not None
        ]
        EligibilityReview.objects.bulk_create(reviews)
        # bulk_create stamps created_at with the time of the run: date the reviews back.
        reviewed_at = ExpressionWrapper(
            Subquery(Referral.objects.filter(pk=OuterRef("referral_id")).values("screened_at")[:1])
            + Value(REVIEWED_AFTER_SCREENING),
            output_field=DateTimeField(),
        )
        EligibilityReview.objects.filter(pk__in=[review.pk for review in reviews]).update(
            created_at=reviewed_at, updated_at=reviewed_at
        )
        clinic.created["referrals"] += len(referrals)
        clinic.created["eligibility reviews"] += len(reviews)

    def _admitted(self, clinic: DemoClinic, patient: DemoPatient) -> Referral:
        """Referred a few days before the admission day, screened in between, admitted that day."""
        episode = patient.episode
        if episode is None:
            raise ValueError(f"{patient.mrn} was never admitted.")
        rng = clinic.rng("referral", patient.index, episode.admitted_on)
        referral = self._referral(clinic, rng, patient)
        referral.intake_clinician_id = episode.primary_clinician_id
        admitted_at = clinic.moment(episode.admitted_on, rng, 9, 15, patient.site)
        low, high, mode = DAYS_TO_ADMISSION[Urgency(referral.urgency)]
        days_before = round(rng.triangular(low, high, mode))
        referred_on = episode.admitted_on - timedelta(days=days_before)
        referral.referred_at = clinic.moment(referred_on, rng, 8, 17, patient.site)
        screened_on = referred_on + timedelta(days=rng.randint(0, days_before - 1))
        screened_at = clinic.moment(screened_on, rng, 9, 16, patient.site)
        earliest, latest = referral.referred_at + timedelta(minutes=30), admitted_at - timedelta(hours=3)
        if earliest <= latest:
            screened_at = min(max(screened_at, earliest), latest)
        else:  # admitted just after midnight today: squeeze the screening in between
            screened_at = referral.referred_at + (admitted_at - referral.referred_at) / 3
        referral.screened_at = screened_at
        # What admission (`patients.services.records.admit_patient`) leaves on its referral.
        referral.status = ReferralStatus.CLOSED
        referral.outcome = ReferralOutcome.ADMITTED
        referral.admitted_at = referral.closed_at = admitted_at
        referral.version = 2
        return referral

    def _open(self, clinic: DemoClinic, patient: DemoPatient) -> Referral:
        rng = clinic.rng("referral", patient.index, "open")
        referral = self._referral(clinic, rng, patient)
        shortest, longest = OPEN_REFERRAL_AGE
        age = timedelta(seconds=rng.randint(int(shortest.total_seconds()), int(longest.total_seconds())))
        referral.referred_at = clinic.now - age
        clinicians = clinic.staff_for(patient.site_index, Role.CLINICIAN)
        draw = rng.random()
        if patient.site_index == 0 and draw < 0.4:
            referral.intake_clinician = clinic.login("clinician")
        elif draw < 0.8:
            referral.intake_clinician = rng.choice(clinicians)
        if age >= SCREENED_AFTER and rng.random() < SCREENED_SHARE:
            referral.screened_at = referral.referred_at + age * rng.uniform(*SCREENED_AT)
        return referral

    def _referral(self, clinic: DemoClinic, rng: random.Random, patient: DemoPatient) -> Referral:
        """What `record_referral` stores: source, who referred, why, how urgent; recorded by
        one of the site's case managers."""
        fake = clinic.faker("referral", patient.index)
        sources, source_weights = zip(*SOURCE_WEIGHTS.items(), strict=True)
        source = rng.choices(sources, weights=source_weights)[0]
        urgencies, urgency_weights = zip(*URGENCY_WEIGHTS.items(), strict=True)
        referral = Referral(
            public_id=seeded_uuid(rng),
            patient_id=patient.pk,
            site=patient.site,
            source=source,
            source_detail=_source_detail(rng, fake, source),
            reason=f"{USE[story_of(clinic, patient.index).substance]} {WHY_NOW[source]}",
            urgency=rng.choices(urgencies, weights=urgency_weights)[0],
            created_by=rng.choice(clinic.staff_for(patient.site_index, Role.CASE_MANAGER)),
        )
        if source != ReferralSource.SELF:
            first = fake.first_name()
            last = patient.legal_last_name if source == ReferralSource.FAMILY else fake.last_name()
            referral.referrer_name = f"{first} {last}"
            referral.referrer_phone = f"+1617555{rng.randint(100, 199):04d}"  # 555-0100..0199: fiction
            if source != ReferralSource.FAMILY:
                referral.referrer_email = f"{_ascii(first)}.{_ascii(last)}@example.test"
        return referral

    def _eligibility(
        self, clinic: DemoClinic, patient: DemoPatient, referral: Referral
    ) -> EligibilityReview | None:
        """The checklist, as `review_eligibility` stores it, done `REVIEWED_AFTER_SCREENING`
        after the screening: all met for the admitted; for some screened open referrals,
        usually all met."""
        rng = clinic.rng("eligibility", patient.index, referral.status)
        if referral.screened_at is None:
            return None
        if referral.admitted_at is None and rng.random() >= ELIGIBILITY_SHARE:
            return None
        criteria = dict.fromkeys(EligibilityReview.CRITERIA, True)
        notes = ""
        if referral.admitted_at is None and rng.random() < 0.2:
            unmet = rng.choice(UNMET_CRITERIA)
            criteria[unmet], notes = False, UNMET_NOTES[unmet]
        reviewer_id = (
            referral.intake_clinician_id
            or rng.choice(clinic.staff_for(patient.site_index, Role.CLINICIAN)).pk
        )
        return EligibilityReview(
            public_id=seeded_uuid(rng), referral=referral, notes=notes, reviewed_by_id=reviewer_id, **criteria
        )


def _source_detail(rng: random.Random, fake: Faker, source: str) -> str:
    match source:
        case ReferralSource.FAMILY:
            return rng.choice(FAMILY_REFERRERS)
        case ReferralSource.COURT:
            return f"{fake.city()} County {rng.choice(('Drug Court', 'Probation Department'))}"
        case ReferralSource.EMPLOYER:
            return f"{fake.company()} employee assistance program"[:120]
        case ReferralSource.HOSPITAL:
            return (
                f"{fake.city()} General Hospital, {rng.choice(('emergency department', 'inpatient detox'))}"
            )
        case ReferralSource.RESIDENTIAL_STEP_DOWN:
            return f"{fake.last_name()} House residential program"
        case ReferralSource.OTHER:
            return rng.choice(OTHER_REFERRERS)
    return ""


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower()) or "referrer"
