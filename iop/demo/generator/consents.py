"""Consents, as `patients.services.consents.record_consent` stores them.

Every admitted patient signed a consent to treatment shortly before admission, witnessed by
the primary clinician (admission requires one). About a third also signed a 42 CFR Part 2
consent to disclose: court referrals to their probation department, employer referrals to the
employee assistance program, a few others to their primary care provider or a family member.
The texts are the service's own (`treatment_consent_text`, `part2_consent_text`).
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from iop.demo.generator.clinic import DemoClinic, seeded_uuid
from iop.demo.generator.roster import DemoPatient, roster
from patients.models import Consent, ConsentKind, ReferralSource
from patients.services.consents import part2_consent_text, treatment_consent_text

OTHER_PART2_SHARE = 0.12  # of patients not referred by a court or an employer


@dataclass(frozen=True)
class Disclosure:
    recipient: str
    purpose: str
    information_description: str
    expiry_event: str = ""


PROBATION = Disclosure(
    recipient="{county} County Probation Department",
    purpose="Monitoring compliance with the treatment condition of probation",
    information_description=(
        "Dates of admission and discharge, attendance at scheduled sessions, drug test results, "
        "and whether I am following the treatment plan"
    ),
    expiry_event="my probation ends",
)
EMPLOYER = Disclosure(
    recipient="{employer_program}",
    purpose="Confirming participation in treatment for my return-to-work agreement",
    information_description="Whether I attend treatment as scheduled and the date I complete the program",
)
PRIMARY_CARE = Disclosure(
    recipient="My primary care provider, {city} Family Medicine",
    purpose="Coordinating my medical care with my substance use treatment",
    information_description="Diagnoses, medications, drug test results and the treatment plan",
)
FAMILY = Disclosure(
    recipient="{relative}, my {relationship}",
    purpose="Family involvement in my treatment and recovery",
    information_description="Whether I attend treatment, and my progress as discussed with me",
)


class Consents:
    def build(self, clinic: DemoClinic) -> None:
        for batch in roster(clinic, "Demo consents"):
            self._build_batch(clinic, batch)

    def _build_batch(self, clinic: DemoClinic, batch: list[DemoPatient]) -> None:
        treated = [patient for patient in batch if patient.episode is not None]
        consented = set(
            Consent.objects.filter(
                patient_id__in=[patient.pk for patient in treated], kind=ConsentKind.TREATMENT
            ).values_list("patient_id", flat=True)
        )
        unconsented = [patient for patient in treated if patient.pk not in consented]
        consents = [consent for patient in unconsented for consent in self._consents(clinic, patient)]
        Consent.objects.bulk_create(consents)
        clinic.created["consents"] += len(consents)

    def _consents(self, clinic: DemoClinic, patient: DemoPatient) -> list[Consent]:
        episode = patient.episode
        if episode is None or episode.primary_clinician_id is None:
            return []
        rng = clinic.rng("consents", patient.index, episode.admitted_on)
        record = patient.record()
        admitted_at = episode.admitted_at or datetime.combine(
            episode.admitted_on, time(12), tzinfo=ZoneInfo(str(patient.site.timezone))
        )
        signed_at = admitted_at - timedelta(minutes=rng.randint(20, 90))
        signed = {
            "patient_id": patient.pk,
            "signed_by_name": patient.legal_name,
            "signed_ip_address": None,
            "witnessed_by_id": episode.primary_clinician_id,
        }
        consents = [
            Consent(
                public_id=seeded_uuid(rng),
                kind=ConsentKind.TREATMENT,
                text_presented=treatment_consent_text(record),
                signed_at=signed_at,
                **signed,
            )
        ]
        terms = self._part2_terms(clinic, rng, patient)
        if terms is not None:
            terms["expires_on"] = signed_at.date() + timedelta(days=rng.choice((180, 270, 365)))
            consents.append(
                Consent(
                    public_id=seeded_uuid(rng),
                    kind=ConsentKind.PART2_DISCLOSURE,
                    text_presented=part2_consent_text(record, **terms),
                    signed_at=signed_at + timedelta(minutes=rng.randint(3, 10)),
                    **terms,
                    **signed,
                )
            )
        return consents

    def _part2_terms(self, clinic: DemoClinic, rng: random.Random, patient: DemoPatient) -> dict | None:
        source = patient.episode.referral_source if patient.episode else None
        detail = (patient.episode.referral_source_detail if patient.episode else None) or ""
        if source == ReferralSource.COURT:
            disclosure = PROBATION
        elif source == ReferralSource.EMPLOYER:
            disclosure = EMPLOYER
        elif rng.random() < OTHER_PART2_SHARE:
            disclosure = rng.choice((PRIMARY_CARE, FAMILY))
        else:
            return None
        fake = clinic.faker("part2", patient.index)
        values = {
            "county": detail.partition(" County")[0] or fake.city(),
            "employer_program": detail or f"{fake.company()} employee assistance program",
            "city": fake.city(),
            "relative": f"{fake.first_name()} {patient.legal_last_name}",
            "relationship": rng.choice(("spouse", "mother", "father", "sister", "brother", "partner")),
        }
        return {
            "recipient": disclosure.recipient.format(**values),
            "purpose": disclosure.purpose,
            "information_description": disclosure.information_description,
            "expiry_event": disclosure.expiry_event,
        }
