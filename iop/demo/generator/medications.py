"""Prescribed medications, as `patients.services.medications.add_medication` stores them:
about 15% of admitted patients, mostly medication for opioid use disorder (buprenorphine,
methadone), a few a prescribed stimulant or benzodiazepine. Each has the class a drug test
would detect, so matching results count as expected."""

import random
from dataclasses import dataclass
from datetime import timedelta

from iop.demo.generator.clinic import DemoClinic, seeded_uuid
from iop.demo.generator.roster import DemoPatient, roster
from iop.demo.generator.story import OPIOIDS, story_of
from patients.models import Medication, MedicationClass

MOUD_SHARE = 0.55  # of patients mainly using opioids
OTHER_PRESCRIPTION_SHARE = 0.03  # of everyone else


@dataclass(frozen=True)
class Prescription:
    name: str
    medication_class: str
    doses: tuple[str, ...]


BUPRENORPHINE = Prescription(
    "Buprenorphine/naloxone (Suboxone)",
    MedicationClass.BUPRENORPHINE,
    (
        "8 mg/2 mg sublingual film daily",
        "12 mg/3 mg sublingual film daily",
        "16 mg/4 mg sublingual film daily",
    ),
)
METHADONE = Prescription(
    "Methadone", MedicationClass.METHADONE, ("60 mg oral daily", "80 mg oral daily", "100 mg oral daily")
)
OTHER_PRESCRIPTIONS = (
    Prescription("Methylphenidate ER", MedicationClass.STIMULANT, ("36 mg oral every morning",)),
    Prescription("Mixed amphetamine salts", MedicationClass.STIMULANT, ("10 mg oral twice daily",)),
    Prescription("Clonazepam", MedicationClass.BENZODIAZEPINE, ("0.5 mg oral twice daily",)),
    Prescription("Lorazepam", MedicationClass.BENZODIAZEPINE, ("1 mg oral at bedtime",)),
)


class Medications:
    def build(self, clinic: DemoClinic) -> None:
        for batch in roster(clinic, "Demo medications"):
            treated = [patient for patient in batch if patient.episode is not None]
            with_medications = set(
                Medication.objects.filter(patient_id__in=[patient.pk for patient in treated]).values_list(
                    "patient_id", flat=True
                )
            )
            medications = [
                medication
                for patient in treated
                if patient.pk not in with_medications
                and (medication := self._medication(clinic, patient)) is not None
            ]
            Medication.objects.bulk_create(medications)
            clinic.created["medications"] += len(medications)

    def _medication(self, clinic: DemoClinic, patient: DemoPatient) -> Medication | None:
        episode = patient.episode
        if episode is None:
            return None
        rng = clinic.rng("medication", patient.index)
        prescription = self._prescription(rng, story_of(clinic, patient.index).substance)
        if prescription is None:
            return None
        fake = clinic.faker("prescriber", patient.index)
        return Medication(
            public_id=seeded_uuid(rng),
            patient_id=patient.pk,
            name=prescription.name,
            medication_class=prescription.medication_class,
            dose=rng.choice(prescription.doses),
            prescriber=f"Dr. {fake.first_name()} {fake.last_name()}, {rng.choice(('MD', 'DO', 'NP'))}",
            started_on=episode.admitted_on - timedelta(days=rng.randint(0, 400)),
        )

    @staticmethod
    def _prescription(rng: random.Random, substance: str) -> Prescription | None:
        if substance == OPIOIDS:
            if rng.random() < MOUD_SHARE:
                return BUPRENORPHINE if rng.random() < 0.7 else METHADONE
            return None
        if rng.random() < OTHER_PRESCRIPTION_SHARE:
            return rng.choice(OTHER_PRESCRIPTIONS)
        return None
