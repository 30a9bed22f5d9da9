"""Each demo patient's clinical story, drawn once from its own stream so that every part
tells the same one: the main substance, how depressed and anxious the person was at intake,
and whether they get better in treatment."""

from dataclasses import dataclass

from iop.demo.generator.clinic import DemoClinic

ALCOHOL = "alcohol"
OPIOIDS = "opioids"
STIMULANTS = "stimulants"
CANNABIS = "cannabis"
BENZODIAZEPINES = "benzodiazepines"
SUBSTANCE_WEIGHTS = {ALCOHOL: 40, OPIOIDS: 25, STIMULANTS: 15, CANNABIS: 12, BENZODIAZEPINES: 8}
IMPROVING_SHARE = 0.8


@dataclass(frozen=True)
class Story:
    substance: str
    phq9_at_intake: int  # target totals; the engine scores the answers drawn near them
    gad7_at_intake: int
    audit_at_intake: int
    dast_positives: int
    change_per_four_weeks: float  # PHQ-9 and GAD-7 totals are multiplied by this every 4 weeks

    @property
    def improving(self) -> bool:
        return self.change_per_four_weeks < 1

    @property
    def uses_alcohol_mainly(self) -> bool:
        return self.substance == ALCOHOL


def story_of(clinic: DemoClinic, index: int) -> Story:
    rng = clinic.rng("story", index)
    substances, weights = zip(*SUBSTANCE_WEIGHTS.items(), strict=True)
    substance = rng.choices(substances, weights=weights)[0]
    alcohol = substance == ALCOHOL
    improving = rng.random() < IMPROVING_SHARE
    return Story(
        substance=substance,
        phq9_at_intake=round(rng.triangular(5, 23, 13)),
        gad7_at_intake=round(rng.triangular(3, 20, 10)),
        audit_at_intake=round(rng.triangular(14, 36, 23) if alcohol else rng.triangular(0, 12, 4)),
        dast_positives=0 if alcohol else round(rng.triangular(3, 10, 6)),
        change_per_four_weeks=rng.uniform(0.68, 0.88) if improving else rng.uniform(0.96, 1.08),
    )
