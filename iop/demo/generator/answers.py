"""Item-by-item answers near a target total, and the stored result the real engine gives them.

The demo never invents a score: it draws plausible answers and stores what
`patients.instruments.score` makes of them (total, band, flags), as
`patients.services.screening.administer_instrument` does.
"""

import random
from datetime import datetime

from iop.demo.generator.clinic import seeded_uuid
from patients.instruments import AUDIT, DAST_10, GAD_7, PHQ_9, get_definition, score
from patients.models import ClinicalAlert, InstrumentResponse
from patients.selectors.screening import short_name
from patients.services.screening import ALERT_RULES

Answers = dict[str, int | bool]


def spread(rng: random.Random, total: int, maxima: list[int]) -> list[int]:
    """`total` points over items worth at most `maxima`, one point at a time at random."""
    points = [0] * len(maxima)
    open_items = [item for item, most in enumerate(maxima) if most > 0]
    for _ in range(max(0, min(total, sum(maxima)))):
        item = rng.choice(open_items)
        points[item] += 1
        if points[item] == maxima[item]:
            open_items.remove(item)
    return points


def phq9_answers(rng: random.Random, total: int, *, item_9: int = 0) -> Answers:
    """PHQ-9 answers near `total`. Item 9 (thoughts of self-harm) is 0 unless asked for: a
    positive item 9 raises a safety alert, which the demo raises only where it means to."""
    answers: Answers = {
        str(item): points for item, points in enumerate(spread(rng, total - item_9, [3] * 8), 1)
    }
    answers["9"] = item_9
    if rng.random() < 0.85:  # item 10 (how difficult) is optional and unscored
        answers["10"] = min(3, (total + 3) // 7)
    return answers


def gad7_answers(rng: random.Random, total: int) -> Answers:
    return {str(item): points for item, points in enumerate(spread(rng, total, [3] * 7), 1)}


def audit_answers(rng: random.Random, total: int) -> Answers:
    """AUDIT answers near `total`: items 1-8 score 0-4, items 9 and 10 score 0, 2 or 4. Anyone
    scoring at all drinks (item 1 at least "Monthly or less")."""
    item_10 = 4 if total >= 16 else rng.choice((0, 0, 2)) if total >= 4 else 0
    item_9 = rng.choice((0, 2, 4)) if total >= 20 else 0
    rest = max(0, total - item_9 - item_10)
    points = spread(rng, rest - 1, [3] + [4] * 7) if rest else [0] * 8
    if rest:
        points[0] += 1
    answers: Answers = {str(item): value for item, value in enumerate(points, 1)}
    answers.update({"9": item_9, "10": item_10})
    return answers


def dast10_answers(rng: random.Random, positives: int) -> Answers:
    """DAST-10 yes/no answers with `positives` answers that score (item 3 scores on "No")."""
    keys = [str(item) for item in range(1, 11)]
    chosen = set(["1", *rng.sample(keys[1:], max(0, min(positives, 10) - 1))] if positives > 0 else [])
    return {key: (key in chosen) != (key == "3") for key in keys}


def answers_for(code: str, rng: random.Random, target: int) -> Answers:
    drawers = {PHQ_9: phq9_answers, GAD_7: gad7_answers, AUDIT: audit_answers, DAST_10: dast10_answers}
    return drawers[code](rng, target)


def response(
    rng: random.Random,
    *,
    patient_id: int,
    code: str,
    answers: Answers,
    administered_at: datetime,
    administered_by_id: int,
    referral_id: int | None,
) -> InstrumentResponse:
    """The row `administer_instrument` stores: the engine's total, band and flags."""
    instrument = get_definition(code)
    result = score(code, answers, sex=None)  # none of the demo's instruments is scored by sex
    return InstrumentResponse(
        public_id=seeded_uuid(rng),
        patient_id=patient_id,
        referral_id=referral_id,
        instrument_code=code,
        instrument_version=instrument.version,
        answers=answers,
        sex_used="",
        total=result.total,
        band=result.band,
        flags=list(result.flags),
        administered_at=administered_at,
        administered_by_id=administered_by_id,
    )


def alerts_raised_by(rng: random.Random, result: InstrumentResponse) -> list[ClinicalAlert]:
    """The alerts `administer_instrument` raises for a stored result's flags (the same rules)."""
    alerts = []
    for flag in result.flags:
        rule = ALERT_RULES.get(flag)
        if rule is None:
            continue
        alerts.append(
            ClinicalAlert(
                public_id=seeded_uuid(rng),
                patient_id=result.patient_id,
                kind=flag,
                severity=rule.severity_for(result.band),
                message=rule.message.format(name=short_name(result.instrument_code), band=result.band)[:255],
                raised_by_id=result.administered_by_id,
            )
        )
    return alerts
