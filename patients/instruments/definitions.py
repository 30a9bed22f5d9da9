"""Validated screening instruments, encoded as data.

Source: /work/shared/CLINICAL.md section 3. Each `Instrument` carries its published item
wording, the legal answer values for every item, how items turn into points, the bands
(ordered from least to most severe), the flags it can raise, its version and its licence
note. The scoring engine (`engine.py`) reads only this data: there is no per-instrument code.

Conventions:
- Items are keyed by their published number as a string ("1".."10"); the C-SSRS follow-up
  to item 6 ("within the past 3 months?") is keyed "6a".
- Choice items take an integer answer, which is also the item's points.
- Yes/no items take a boolean, True meaning "Yes" to the question as asked; the item says how
  many points Yes and No are worth (DAST-10 item 3 is reverse scored: No = 1).
- Bands are ordered from least to most severe; flag rules such as "moderate or worse" rely
  on that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

# --- instrument codes -----------------------------------------------------------------------

PHQ_9: Final = "phq-9"
GAD_7: Final = "gad-7"
AUDIT: Final = "audit"
AUDIT_C: Final = "audit-c"
DAST_10: Final = "dast-10"
CAGE: Final = "cage"
CIWA_AR: Final = "ciwa-ar"
COWS: Final = "cows"
C_SSRS: Final = "c-ssrs"

# --- band names -----------------------------------------------------------------------------
# Severity words as published, shared where instruments use the same word.

BAND_NONE: Final = "none"
BAND_MINIMAL: Final = "minimal"
BAND_LOW: Final = "low"
BAND_MILD: Final = "mild"
BAND_MODERATE: Final = "moderate"
BAND_MODERATELY_SEVERE: Final = "moderately severe"
BAND_SUBSTANTIAL: Final = "substantial"
BAND_SEVERE: Final = "severe"

# AUDIT risk zones (WHO): the zone's risk level followed by its Roman numeral.
AUDIT_ZONE_I: Final = "low risk (zone I)"
AUDIT_ZONE_II: Final = "hazardous (zone II)"
AUDIT_ZONE_III: Final = "harmful (zone III)"
AUDIT_ZONE_IV: Final = "possible dependence (zone IV)"

# AUDIT-C: the band is the screen result, with a sex-specific threshold.
SCREEN_NEGATIVE: Final = "negative"
SCREEN_POSITIVE: Final = "positive"

# CAGE: one cut-off (total >= 2).
CAGE_NOT_SIGNIFICANT: Final = "not clinically significant"
CAGE_SIGNIFICANT: Final = "clinically significant"

# C-SSRS screener risk tiers (the C-SSRS has no total; its band is the tier).
CSSRS_TIER_NONE: Final = "none"
CSSRS_TIER_LOW: Final = "low"
CSSRS_TIER_MODERATE: Final = "moderate"
CSSRS_TIER_HIGH: Final = "high"

# --- flag names -----------------------------------------------------------------------------

FLAG_SUICIDE_RISK: Final = "suicide_risk"
FLAG_HIGH_SUICIDE_RISK: Final = "high_suicide_risk"
FLAG_FURTHER_EVALUATION: Final = "further_evaluation"
FLAG_POSITIVE_SCREEN: Final = "positive_screen"
FLAG_CLINICALLY_SIGNIFICANT: Final = "clinically_significant"
FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP: Final = "withdrawal_management_before_iop"
FLAG_MEDICAL_REVIEW_BEFORE_IOP: Final = "medical_review_before_iop"

# Flags that call for action the same day, whatever else the result says.
SAFETY_FLAGS: Final = frozenset({FLAG_SUICIDE_RISK, FLAG_HIGH_SUICIDE_RISK})

# --- sex used by AUDIT-C ----------------------------------------------------------------------

SEX_FEMALE: Final = "female"
SEX_MALE: Final = "male"

# --- item kinds -------------------------------------------------------------------------------

CHOICE: Final = "choice"  # integer answer; the value is the points
YES_NO: Final = "yes_no"  # boolean answer; points_for_yes / points_for_no


# --- the data model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerOption:
    """One legal answer: the label shown to the person and the value recorded."""

    label: str
    value: int | bool


@dataclass(frozen=True)
class AskedWhen:
    """Branching: the item is asked only when item `item` was answered `answer`.

    When the condition does not hold the item must be left unanswered.
    """

    item: str
    answer: bool


@dataclass(frozen=True)
class Item:
    key: str
    wording: str
    kind: str
    options: tuple[AnswerOption, ...]
    scored: bool = True
    required: bool = True
    points_for_yes: int | None = None
    points_for_no: int | None = None
    asked_when: AskedWhen | None = None
    prompt: str = ""  # published administration note (what to ask or observe)
    # The period the question asks about, as the published form heads it ("In the past
    # month"), when the item wording does not say it; shown before the wording.
    timeframe: str = ""

    @property
    def legal_values(self) -> tuple[int | bool, ...]:
        return tuple(option.value for option in self.options)

    @property
    def is_reverse_scored(self) -> bool:
        return self.kind == YES_NO and (self.points_for_no or 0) > (self.points_for_yes or 0)

    def points_range(self) -> tuple[int, int]:
        if not self.scored:
            return (0, 0)
        if self.kind == YES_NO:
            points = (self.points_for_yes or 0, self.points_for_no or 0)
        else:
            points = tuple(int(value) for value in self.legal_values)
        return (min(points), max(points))


@dataclass(frozen=True)
class Band:
    """An inclusive range of totals with a name; `guidance` is the published action, if any."""

    name: str
    low: int
    high: int
    guidance: str = ""

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class RiskTier:
    """A tier reached when any item in `any_yes` was answered Yes.

    Tiers are listed from least to most severe; the most severe tier reached wins. A tier
    with an empty `any_yes` is the fallback (nothing answered Yes).
    """

    name: str
    any_yes: frozenset[str]
    guidance: str = ""


@dataclass(frozen=True)
class ItemAnswerAbove:
    """Flag condition: the answer to `item` is greater than `threshold`."""

    item: str
    threshold: int


@dataclass(frozen=True)
class TotalAtLeast:
    """Flag condition: the total is at least `minimum`."""

    minimum: int


@dataclass(frozen=True)
class BandAtLeast:
    """Flag condition: the band (or risk tier) is `band` or a more severe one."""

    band: str


FlagCondition = ItemAnswerAbove | TotalAtLeast | BandAtLeast


@dataclass(frozen=True)
class FlagRule:
    flag: str
    when: FlagCondition
    description: str

    @property
    def is_safety(self) -> bool:
        return self.flag in SAFETY_FLAGS


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    source: str
    licence_note: str
    instructions: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    # AUDIT-C: bands depend on the sex used for scoring; `bands` is then empty.
    bands_by_sex: MappingProxyType[str, tuple[Band, ...]] | None = field(default=None, hash=False)
    # C-SSRS: no total; the band is the risk tier reached.
    risk_tiers: tuple[RiskTier, ...] = ()
    flag_rules: tuple[FlagRule, ...] = ()
    bands_configurable: bool = False
    requires_licence_confirmation: bool = False
    credit_line: str = ""
    # A drop in total of at least this many points counts as a response to treatment.
    response_drop: int | None = None

    @property
    def has_total(self) -> bool:
        return not self.risk_tiers

    @property
    def requires_sex(self) -> bool:
        return self.bands_by_sex is not None

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def min_total(self) -> int:
        return sum(item.points_range()[0] for item in self.items)

    @property
    def max_total(self) -> int:
        return sum(item.points_range()[1] for item in self.items)

    @property
    def band_names(self) -> tuple[str, ...]:
        """Every band or tier name this instrument can report, least severe first."""
        if self.risk_tiers:
            return tuple(tier.name for tier in self.risk_tiers)
        if self.bands_by_sex is not None:
            names: list[str] = []
            for bands in self.bands_by_sex.values():
                names.extend(band.name for band in bands if band.name not in names)
            return tuple(names)
        return tuple(band.name for band in self.bands)


# --- builders (keep the tables below readable) ------------------------------------------------


def _options(*pairs: tuple[int, str]) -> tuple[AnswerOption, ...]:
    return tuple(AnswerOption(label=label, value=value) for value, label in pairs)


_YES_NO_OPTIONS = (AnswerOption("Yes", True), AnswerOption("No", False))


def _choice(key: str, wording: str, options: tuple[AnswerOption, ...], **extra) -> Item:
    return Item(key=key, wording=wording, kind=CHOICE, options=options, **extra)


def _yes_no(key: str, wording: str, *, yes: int = 1, no: int = 0, **extra) -> Item:
    return Item(
        key=key,
        wording=wording,
        kind=YES_NO,
        options=_YES_NO_OPTIONS,
        points_for_yes=yes,
        points_for_no=no,
        **extra,
    )


# --- PHQ-9 and GAD-7 --------------------------------------------------------------------------

_OVER_LAST_TWO_WEEKS = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
_FREQUENCY_OPTIONS = _options(
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)
_PFIZER_NOTICE = 'Free to use: "No permission required to reproduce, translate, display or distribute."'

PHQ_9_DEFINITION = Instrument(
    code=PHQ_9,
    name="Patient Health Questionnaire (PHQ-9)",
    version="1",
    source="Kroenke, Spitzer and Williams 2001",
    licence_note=_PFIZER_NOTICE,
    instructions=_OVER_LAST_TWO_WEEKS,
    items=(
        _choice("1", "Little interest or pleasure in doing things", _FREQUENCY_OPTIONS),
        _choice("2", "Feeling down, depressed, or hopeless", _FREQUENCY_OPTIONS),
        _choice("3", "Trouble falling or staying asleep, or sleeping too much", _FREQUENCY_OPTIONS),
        _choice("4", "Feeling tired or having little energy", _FREQUENCY_OPTIONS),
        _choice("5", "Poor appetite or overeating", _FREQUENCY_OPTIONS),
        _choice(
            "6",
            "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
            _FREQUENCY_OPTIONS,
        ),
        _choice(
            "7",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            _FREQUENCY_OPTIONS,
        ),
        _choice(
            "8",
            "Moving or speaking so slowly that other people could have noticed, or the opposite, "
            "being so fidgety or restless that you have been moving around a lot more than "
            "usual",
            _FREQUENCY_OPTIONS,
        ),
        _choice(
            "9",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            _FREQUENCY_OPTIONS,
        ),
        _choice(
            "10",
            "If you checked off any problems, how difficult have these problems made it for "
            "you to do your work, take care of things at home, or get along with other people?",
            _options(
                (0, "Not difficult at all"),
                (1, "Somewhat difficult"),
                (2, "Very difficult"),
                (3, "Extremely difficult"),
            ),
            scored=False,
            required=False,
        ),
    ),
    bands=(
        Band(BAND_MINIMAL, 0, 4),
        Band(BAND_MILD, 5, 9),
        Band(BAND_MODERATE, 10, 14),
        Band(BAND_MODERATELY_SEVERE, 15, 19),
        Band(BAND_SEVERE, 20, 27),
    ),
    flag_rules=(
        FlagRule(
            FLAG_SUICIDE_RISK,
            ItemAnswerAbove("9", 0),
            "Safety alert: item 9 answered above 'Not at all'. Same-day suicide risk "
            "assessment (C-SSRS), whatever the total.",
        ),
    ),
    response_drop=5,
)

GAD_7_DEFINITION = Instrument(
    code=GAD_7,
    name="Generalized Anxiety Disorder scale (GAD-7)",
    version="1",
    source="Spitzer, Kroenke, Williams and Lowe 2006",
    licence_note=_PFIZER_NOTICE,
    instructions=_OVER_LAST_TWO_WEEKS,
    items=(
        _choice("1", "Feeling nervous, anxious, or on edge", _FREQUENCY_OPTIONS),
        _choice("2", "Not being able to stop or control worrying", _FREQUENCY_OPTIONS),
        _choice("3", "Worrying too much about different things", _FREQUENCY_OPTIONS),
        _choice("4", "Trouble relaxing", _FREQUENCY_OPTIONS),
        _choice("5", "Being so restless that it is hard to sit still", _FREQUENCY_OPTIONS),
        _choice("6", "Becoming easily annoyed or irritable", _FREQUENCY_OPTIONS),
        _choice("7", "Feeling afraid, as if something awful might happen", _FREQUENCY_OPTIONS),
    ),
    bands=(
        Band(BAND_MINIMAL, 0, 4),
        Band(BAND_MILD, 5, 9),
        Band(BAND_MODERATE, 10, 14),
        Band(BAND_SEVERE, 15, 21),
    ),
    flag_rules=(
        FlagRule(
            FLAG_FURTHER_EVALUATION,
            TotalAtLeast(10),
            "GAD-7 total of 10 or more: warrants further evaluation.",
        ),
    ),
)

# --- AUDIT and AUDIT-C ------------------------------------------------------------------------

_HOW_OFTEN_LAST_YEAR = _options(
    (0, "Never"),
    (1, "Less than monthly"),
    (2, "Monthly"),
    (3, "Weekly"),
    (4, "Daily or almost daily"),
)
_INJURY_OR_CONCERN = _options(
    (0, "No"), (2, "Yes, but not in the last year"), (4, "Yes, during the last year")
)
_AUDIT_CONSUMPTION_ITEMS = (
    _choice(
        "1",
        "How often do you have a drink containing alcohol?",
        _options(
            (0, "Never"),
            (1, "Monthly or less"),
            (2, "2 to 4 times a month"),
            (3, "2 to 3 times a week"),
            (4, "4 or more times a week"),
        ),
    ),
    _choice(
        "2",
        "How many drinks containing alcohol do you have on a typical day when you are drinking?",
        _options(
            (0, "1 or 2"),
            (1, "3 or 4"),
            (2, "5 or 6"),
            (3, "7, 8, or 9"),
            (4, "10 or more"),
        ),
    ),
    _choice(
        "3",
        "How often do you have six or more drinks on one occasion?",
        _HOW_OFTEN_LAST_YEAR,
    ),
)
_AUDIT_INSTRUCTIONS = (
    "The following questions are about your use of alcoholic beverages during the past year. "
    "One drink means one standard drink."
)
_AUDIT_LICENCE = "World Health Organization instrument; licence terms not recorded (unconfirmed)."

AUDIT_DEFINITION = Instrument(
    code=AUDIT,
    name="Alcohol Use Disorders Identification Test (AUDIT)",
    version="1",
    source="WHO, Babor et al. 2001",
    licence_note=_AUDIT_LICENCE,
    instructions=_AUDIT_INSTRUCTIONS,
    items=(
        *_AUDIT_CONSUMPTION_ITEMS,
        _choice(
            "4",
            "How often during the last year have you found that you were not able to stop drinking once you "
            "had started?",
            _HOW_OFTEN_LAST_YEAR,
        ),
        _choice(
            "5",
            "How often during the last year have you failed to do what was normally expected from you "
            "because of drinking?",
            _HOW_OFTEN_LAST_YEAR,
        ),
        _choice(
            "6",
            "How often during the last year have you needed a first drink in the morning to get yourself "
            "going after a heavy drinking session?",
            _HOW_OFTEN_LAST_YEAR,
        ),
        _choice(
            "7",
            "How often during the last year have you had a feeling of guilt or remorse after drinking?",
            _HOW_OFTEN_LAST_YEAR,
        ),
        _choice(
            "8",
            "How often during the last year have you been unable to remember what happened the night before "
            "because you had been drinking?",
            _HOW_OFTEN_LAST_YEAR,
        ),
        _choice(
            "9",
            "Have you or someone else been injured as a result of your drinking?",
            _INJURY_OR_CONCERN,
        ),
        _choice(
            "10",
            "Has a relative or friend or a doctor or another health worker been concerned about "
            "your drinking or suggested you cut down?",
            _INJURY_OR_CONCERN,
        ),
    ),
    bands=(
        Band(AUDIT_ZONE_I, 0, 7, "Alcohol education."),
        Band(AUDIT_ZONE_II, 8, 15, "Simple advice."),
        Band(
            AUDIT_ZONE_III,
            16,
            19,
            "Simple advice plus brief counselling and monitoring.",
        ),
        Band(AUDIT_ZONE_IV, 20, 40, "Refer for diagnostic evaluation and treatment."),
    ),
)

AUDIT_C_DEFINITION = Instrument(
    code=AUDIT_C,
    name="AUDIT-Consumption (AUDIT-C)",
    version="1",
    source="Bush et al. 1998; Bradley et al. 2003",
    licence_note=_AUDIT_LICENCE,
    instructions=_AUDIT_INSTRUCTIONS + " Not the UK 'units' AUDIT-C, which is a different instrument.",
    items=_AUDIT_CONSUMPTION_ITEMS,
    bands_by_sex=MappingProxyType(
        {
            SEX_FEMALE: (Band(SCREEN_NEGATIVE, 0, 2), Band(SCREEN_POSITIVE, 3, 12)),
            SEX_MALE: (Band(SCREEN_NEGATIVE, 0, 3), Band(SCREEN_POSITIVE, 4, 12)),
        }
    ),
    flag_rules=(
        FlagRule(
            FLAG_POSITIVE_SCREEN,
            BandAtLeast(SCREEN_POSITIVE),
            "Positive AUDIT-C screen (4 or more for men, 3 or more for women).",
        ),
    ),
)

# --- DAST-10 and CAGE -------------------------------------------------------------------------

DAST_10_DEFINITION = Instrument(
    code=DAST_10,
    name="Drug Abuse Screening Test (DAST-10)",
    version="1",
    source="Skinner 1982",
    licence_note=(
        "(c) Harvey A. Skinner and the Centre for Addiction and Mental Health (CAMH). Free for "
        "non-commercial clinical, research and training use with credit; commercial use needs "
        "permission. Shown only when this installation has confirmed its licence."
    ),
    credit_line=(
        "DAST-10 (c) 1982 Harvey A. Skinner, PhD, and the Centre for Addiction and Mental "
        "Health, Toronto, Canada."
    ),
    requires_licence_confirmation=True,
    instructions=(
        "These questions refer to the past 12 months and do not include alcohol. Answer Yes or No."
    ),
    items=(
        _yes_no("1", "Have you used drugs other than those required for medical reasons?"),
        _yes_no("2", "Do you abuse more than one drug at a time?"),
        _yes_no(
            "3",
            "Are you always able to stop using drugs when you want to?",
            yes=0,
            no=1,
        ),
        _yes_no("4", 'Have you had "blackouts" or "flashbacks" as a result of drug use?'),
        _yes_no("5", "Do you ever feel bad or guilty about your drug use?"),
        _yes_no(
            "6",
            "Does your spouse (or parents) ever complain about your involvement with drugs?",
        ),
        _yes_no("7", "Have you neglected your family because of your use of drugs?"),
        _yes_no("8", "Have you engaged in illegal activities in order to obtain drugs?"),
        _yes_no(
            "9",
            "Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking drugs?",
        ),
        _yes_no(
            "10",
            "Have you had medical problems as a result of your drug use (e.g. memory loss, "
            "hepatitis, convulsions, bleeding, etc.)?",
        ),
    ),
    bands=(
        Band(BAND_NONE, 0, 0),
        Band(BAND_LOW, 1, 2),
        Band(BAND_MODERATE, 3, 5),
        Band(BAND_SUBSTANTIAL, 6, 8),
        Band(BAND_SEVERE, 9, 10),
    ),
)

CAGE_DEFINITION = Instrument(
    code=CAGE,
    name="CAGE questionnaire",
    version="1",
    source="Ewing 1984",
    licence_note="Licence terms not recorded (unconfirmed).",
    instructions="Lifetime. Answer Yes or No.",
    items=(
        _yes_no("1", "Have you ever felt you should Cut down on your drinking?"),
        _yes_no("2", "Have people Annoyed you by criticizing your drinking?"),
        _yes_no("3", "Have you ever felt bad or Guilty about your drinking?"),
        _yes_no(
            "4",
            "Have you ever had a drink first thing in the morning to steady your nerves or to "
            "get rid of a hangover (Eye-opener)?",
        ),
    ),
    bands=(Band(CAGE_NOT_SIGNIFICANT, 0, 1), Band(CAGE_SIGNIFICANT, 2, 4)),
    flag_rules=(
        FlagRule(
            FLAG_CLINICALLY_SIGNIFICANT,
            TotalAtLeast(2),
            "CAGE total of 2 or more: clinically significant.",
        ),
    ),
)

# --- CIWA-Ar ----------------------------------------------------------------------------------


def _ciwa_options(anchors: dict[int, str], top: int) -> tuple[AnswerOption, ...]:
    """Every integer 0..top is legal; published anchors label some, the rest are intermediate."""
    return tuple(AnswerOption(anchors.get(value, "Intermediate"), value) for value in range(top + 1))


_HALLUCINATIONS = {
    4: "Moderately severe hallucinations",
    5: "Severe hallucinations",
    6: "Extremely severe hallucinations",
    7: "Continuous hallucinations",
}

# Default bands: ASAM Alcohol Withdrawal Management guideline 2020.
CIWA_AR_DEFAULT_BANDS: Final = (
    Band(BAND_MILD, 0, 9),
    Band(BAND_MODERATE, 10, 18),
    Band(BAND_SEVERE, 19, 67),
)

CIWA_AR_DEFINITION = Instrument(
    code=CIWA_AR,
    name="Clinical Institute Withdrawal Assessment for Alcohol, revised (CIWA-Ar)",
    version="1",
    source="Sullivan et al. 1989",
    licence_note="Licence terms not recorded (unconfirmed).",
    instructions=(
        "Clinician-rated. Items 1-9 are rated 0-7 (intermediate values allowed); item 10 "
        "is rated 0-4. Bands are protocol-dependent and configurable; the default is the "
        "ASAM 2020 guideline (<10 mild, 10-18 moderate, >=19 severe)."
    ),
    items=(
        _choice(
            "1",
            "Nausea and vomiting",
            _ciwa_options(
                {
                    0: "No nausea and no vomiting",
                    1: "Mild nausea with no vomiting",
                    4: "Intermittent nausea with dry heaves",
                    7: "Constant nausea, frequent dry heaves and vomiting",
                },
                7,
            ),
            prompt="Ask: 'Do you feel sick to your stomach? Have you vomited?' Observation.",
        ),
        _choice(
            "2",
            "Tremor",
            _ciwa_options(
                {
                    0: "No tremor",
                    1: "Not visible, but can be felt fingertip to fingertip",
                    4: "Moderate, with patient's arms extended",
                    7: "Severe, even with arms not extended",
                },
                7,
            ),
            prompt="Arms extended and fingers spread apart. Observation.",
        ),
        _choice(
            "3",
            "Paroxysmal sweats",
            _ciwa_options(
                {
                    0: "No sweat visible",
                    1: "Barely perceptible sweating, palms moist",
                    4: "Beads of sweat obvious on forehead",
                    7: "Drenching sweats",
                },
                7,
            ),
            prompt="Observation.",
        ),
        _choice(
            "4",
            "Anxiety",
            _ciwa_options(
                {
                    0: "No anxiety, at ease",
                    1: "Mildly anxious",
                    4: "Moderately anxious, or guarded, so anxiety is inferred",
                    7: "Equivalent to acute panic states as seen in severe delirium or acute "
                    "schizophrenic reactions",
                },
                7,
            ),
            prompt="Ask: 'Do you feel nervous?' Observation.",
        ),
        _choice(
            "5",
            "Agitation",
            _ciwa_options(
                {
                    0: "Normal activity",
                    1: "Somewhat more than normal activity",
                    4: "Moderately fidgety and restless",
                    7: "Paces back and forth during most of the interview, or constantly thrashes about",
                },
                7,
            ),
            prompt="Observation.",
        ),
        _choice(
            "6",
            "Tactile disturbances",
            _ciwa_options(
                {
                    0: "None",
                    1: "Very mild itching, pins and needles, burning or numbness",
                    2: "Mild itching, pins and needles, burning or numbness",
                    3: "Moderate itching, pins and needles, burning or numbness",
                    **_HALLUCINATIONS,
                },
                7,
            ),
            prompt=(
                "Ask: 'Have you any itching, pins and needles sensations, any burning, any "
                "numbness, or do you feel bugs crawling on or under your skin?' Observation."
            ),
        ),
        _choice(
            "7",
            "Auditory disturbances",
            _ciwa_options(
                {
                    0: "Not present",
                    1: "Very mild harshness or ability to frighten",
                    2: "Mild harshness or ability to frighten",
                    3: "Moderate harshness or ability to frighten",
                    **_HALLUCINATIONS,
                },
                7,
            ),
            prompt=(
                "Ask: 'Are you more aware of sounds around you? Are they harsh? Do they "
                "frighten you? Are you hearing anything that is disturbing to you? Are you "
                "hearing things you know are not there?' Observation."
            ),
        ),
        _choice(
            "8",
            "Visual disturbances",
            _ciwa_options(
                {
                    0: "Not present",
                    1: "Very mild sensitivity",
                    2: "Mild sensitivity",
                    3: "Moderate sensitivity",
                    **_HALLUCINATIONS,
                },
                7,
            ),
            prompt=(
                "Ask: 'Does the light appear to be too bright? Is its color different? Does it "
                "hurt your eyes? Are you seeing anything that is disturbing to you? Are you "
                "seeing things you know are not there?' Observation."
            ),
        ),
        _choice(
            "9",
            "Headache, fullness in head",
            _ciwa_options(
                {
                    0: "Not present",
                    1: "Very mild",
                    2: "Mild",
                    3: "Moderate",
                    4: "Moderately severe",
                    5: "Severe",
                    6: "Very severe",
                    7: "Extremely severe",
                },
                7,
            ),
            prompt=(
                "Ask: 'Does your head feel different? Does it feel like there is a band around "
                "your head?' Do not rate for dizziness or lightheadedness."
            ),
        ),
        _choice(
            "10",
            "Orientation and clouding of sensorium",
            _ciwa_options(
                {
                    0: "Oriented and can do serial additions",
                    1: "Cannot do serial additions or is uncertain about date",
                    2: "Disoriented for date by no more than 2 calendar days",
                    3: "Disoriented for date by more than 2 calendar days",
                    4: "Disoriented for place and/or person",
                },
                4,
            ),
            prompt="Ask: 'What day is this? Where are you? Who am I?'",
        ),
    ),
    bands=CIWA_AR_DEFAULT_BANDS,
    bands_configurable=True,
    flag_rules=(
        FlagRule(
            FLAG_WITHDRAWAL_MANAGEMENT_BEFORE_IOP,
            BandAtLeast(BAND_MODERATE),
            "CIWA-Ar moderate or worse: IOP not suitable now; withdrawal management first "
            "(ASAM Dimension 1).",
        ),
    ),
)

# --- COWS -------------------------------------------------------------------------------------

COWS_DEFINITION = Instrument(
    code=COWS,
    name="Clinical Opiate Withdrawal Scale (COWS)",
    version="1",
    source="Wesson and Ling 2003",
    licence_note="Licence terms not recorded (unconfirmed).",
    instructions=(
        "Clinician-rated. For each item choose the description that best matches the "
        "patient's sign or symptom; rate only on apparent relationship to opiate withdrawal. "
        "Only the listed values are legal."
    ),
    items=(
        _choice(
            "1",
            "Resting pulse rate",
            _options(
                (0, "80 or below"),
                (1, "81-100"),
                (2, "101-120"),
                (4, "Greater than 120"),
            ),
            prompt="Beats per minute, measured after the patient has been sitting for 1 minute.",
        ),
        _choice(
            "2",
            "Sweating",
            _options(
                (0, "No report of chills or flushing"),
                (1, "Subjective report of chills or flushing"),
                (2, "Flushed or observable moistness on face"),
                (3, "Beads of sweat on brow or face"),
                (4, "Sweat streaming off face"),
            ),
            prompt="Over the past half hour, not accounted for by room temperature or activity.",
        ),
        _choice(
            "3",
            "Restlessness",
            _options(
                (0, "Able to sit still"),
                (1, "Reports difficulty sitting still, but is able to do so"),
                (3, "Frequent shifting or extraneous movements of legs/arms"),
                (5, "Unable to sit still for more than a few seconds"),
            ),
            prompt="Observation during assessment.",
        ),
        _choice(
            "4",
            "Pupil size",
            _options(
                (0, "Pupils pinned or normal size for room light"),
                (1, "Pupils possibly larger than normal for room light"),
                (2, "Pupils moderately dilated"),
                (5, "Pupils so dilated that only the rim of the iris is visible"),
            ),
        ),
        _choice(
            "5",
            "Bone or joint aches",
            _options(
                (0, "Not present"),
                (1, "Mild diffuse discomfort"),
                (2, "Patient reports severe diffuse aching of joints/muscles"),
                (
                    4,
                    "Patient is rubbing joints or muscles and is unable to sit still because of discomfort",
                ),
            ),
            prompt="If the patient was having pain previously, score only the additional "
            "component attributed to opiate withdrawal.",
        ),
        _choice(
            "6",
            "Runny nose or tearing",
            _options(
                (0, "Not present"),
                (1, "Nasal stuffiness or unusually moist eyes"),
                (2, "Nose running or tearing"),
                (4, "Nose constantly running or tears streaming down cheeks"),
            ),
            prompt="Not accounted for by cold symptoms or allergies.",
        ),
        _choice(
            "7",
            "GI upset",
            _options(
                (0, "No GI symptoms"),
                (1, "Stomach cramps"),
                (2, "Nausea or loose stool"),
                (3, "Vomiting or diarrhea"),
                (5, "Multiple episodes of diarrhea or vomiting"),
            ),
            prompt="Over the last half hour.",
        ),
        _choice(
            "8",
            "Tremor",
            _options(
                (0, "No tremor"),
                (1, "Tremor can be felt, but not observed"),
                (2, "Slight tremor observable"),
                (4, "Gross tremor or muscle twitching"),
            ),
            prompt="Observation of outstretched hands.",
        ),
        _choice(
            "9",
            "Yawning",
            _options(
                (0, "No yawning"),
                (1, "Yawning once or twice during assessment"),
                (2, "Yawning three or more times during assessment"),
                (4, "Yawning several times a minute"),
            ),
            prompt="Observation during assessment.",
        ),
        _choice(
            "10",
            "Anxiety or irritability",
            _options(
                (0, "None"),
                (1, "Patient reports increasing irritability or anxiousness"),
                (2, "Patient obviously irritable or anxious"),
                (
                    4,
                    "Patient so irritable or anxious that participation in the assessment is difficult",
                ),
            ),
        ),
        _choice(
            "11",
            "Gooseflesh skin",
            _options(
                (0, "Skin is smooth"),
                (3, "Piloerection of skin can be felt or hairs standing up on arms"),
                (5, "Prominent piloerection"),
            ),
        ),
    ),
    bands=(
        Band(BAND_NONE, 0, 4),
        Band(BAND_MILD, 5, 12),
        Band(BAND_MODERATE, 13, 24),
        Band(BAND_MODERATELY_SEVERE, 25, 36),
        Band(BAND_SEVERE, 37, 48),
    ),
    flag_rules=(
        FlagRule(
            FLAG_MEDICAL_REVIEW_BEFORE_IOP,
            BandAtLeast(BAND_MODERATE),
            "COWS moderate or worse: medical review before IOP.",
        ),
    ),
)

# --- C-SSRS screener --------------------------------------------------------------------------

_IF_TWO_IS_YES = AskedWhen(item="2", answer=True)


# The "recent" screener's periods: ideation (1-5) in the past month; behaviour (6) ever, with
# the follow-up asking whether it was within the past 3 months.
CSSRS_PAST_MONTH: Final = "In the past month"
CSSRS_LIFETIME: Final = "Lifetime"


def _triage_question(
    key: str, wording: str, *, timeframe: str = "", asked_when: AskedWhen | None = None
) -> Item:
    """A C-SSRS yes/no question: it earns no points; the answers pick the risk tier."""
    return Item(
        key=key,
        wording=wording,
        kind=YES_NO,
        options=_YES_NO_OPTIONS,
        scored=False,
        asked_when=asked_when,
        timeframe=timeframe,
    )


def _past_month(key: str, wording: str, **extra) -> Item:
    return _triage_question(key, wording, timeframe=CSSRS_PAST_MONTH, **extra)


C_SSRS_DEFINITION = Instrument(
    code=C_SSRS,
    name="Columbia Suicide Severity Rating Scale, screener (C-SSRS)",
    # The "recent" screener: ideation in the past month, behaviour in the past 3 months.
    version="1-recent",
    source="Columbia Protocol; Columbia triage guidelines",
    licence_note="Free for clinical use; terms for embedding in commercial software unconfirmed.",
    instructions=(
        "Questions 1-5 ask about the past month: 'In the past month, have you ...?' Always ask "
        "1 and 2. If 2 is Yes, ask 3, 4 and 5. Always ask 6, over the lifetime: 'Have you "
        "ever ...?'; if 6 is Yes, ask whether it was within the past 3 months."
    ),
    items=(
        _past_month("1", "Wished you were dead or could go to sleep and not wake up?"),
        _past_month("2", "Actually had any thoughts of killing yourself?"),
        _past_month("3", "Thinking about how you might do this?", asked_when=_IF_TWO_IS_YES),
        _past_month(
            "4",
            "Had these thoughts and had some intention of acting on them?",
            asked_when=_IF_TWO_IS_YES,
        ),
        _past_month(
            "5",
            "Started to work out or worked out the details of how to kill yourself, and intend "
            "to carry out this plan?",
            asked_when=_IF_TWO_IS_YES,
        ),
        _triage_question(
            "6",
            "Ever done anything, started to do anything, or prepared to do anything to end your life?",
            timeframe=CSSRS_LIFETIME,
        ),
        _triage_question(
            "6a",
            "Within the past 3 months?",
            asked_when=AskedWhen(item="6", answer=True),
        ),
    ),
    risk_tiers=(
        RiskTier(CSSRS_TIER_NONE, frozenset()),
        RiskTier(CSSRS_TIER_LOW, frozenset({"1", "2"})),
        RiskTier(
            CSSRS_TIER_MODERATE,
            # 6 Yes reaches "high" instead when 6a is also Yes (behaviour within 3 months).
            frozenset({"3", "6"}),
            "Yes to 3, or suicidal behaviour more than 3 months ago.",
        ),
        RiskTier(
            CSSRS_TIER_HIGH,
            frozenset({"4", "5", "6a"}),
            "Safety precautions now: do not leave the person alone; immediate evaluation.",
        ),
    ),
    flag_rules=(
        FlagRule(
            FLAG_HIGH_SUICIDE_RISK,
            BandAtLeast(CSSRS_TIER_HIGH),
            "Safety alert: high C-SSRS risk. Safety precautions now, do not leave the person "
            "alone, immediate evaluation.",
        ),
    ),
)

# --- the registry -----------------------------------------------------------------------------

DEFINITIONS: Final[MappingProxyType[str, Instrument]] = MappingProxyType(
    {
        instrument.code: instrument
        for instrument in (
            PHQ_9_DEFINITION,
            GAD_7_DEFINITION,
            AUDIT_DEFINITION,
            AUDIT_C_DEFINITION,
            DAST_10_DEFINITION,
            CAGE_DEFINITION,
            CIWA_AR_DEFINITION,
            COWS_DEFINITION,
            C_SSRS_DEFINITION,
        )
    }
)

LICENCE_GATED_CODES: Final = frozenset(
    code for code, instrument in DEFINITIONS.items() if instrument.requires_licence_confirmation
)
