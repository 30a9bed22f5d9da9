"""Forms of pre-admission screening: one instrument's items, and the ASAM assessment.

They parse and validate the shape of what was posted; the scoring engine
(`patients.instruments`) and the ASAM rule (`patients.asam_rule`), called by the services,
decide what is legal. Their errors come back beside each item.
"""

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError

from iop.core.forms import add_service_errors
from patients import asam_rule
from patients.instruments import SEX_FEMALE, SEX_MALE, YES_NO
from patients.instruments.definitions import Instrument, Item
from patients.models import AsamEdition, SexAssignedAtBirth
from patients.services.screening import MAX_NOTES

YES, NO = "yes", "no"
RADIO = forms.RadioSelect(attrs={"class": "form-check-input"})
SEX_CHOICES = [("", "Choose…"), (SEX_FEMALE, "Female"), (SEX_MALE, "Male")]
# The edition new assessments start in (most state criteria still use the 3rd edition).
DEFAULT_ASAM_EDITION = asam_rule.EDITION_3


# --- instruments ----------------------------------------------------------------------------------


def encode_answer(item: Item, value) -> str:
    """The form value of an answer: "yes"/"no" for yes/no items, the number otherwise."""
    if item.kind == YES_NO:
        return YES if value else NO
    return str(value)


def decode_answer(item: Item, raw) -> int | bool | None:
    """The answer a posted value means, or None when it is not one of the item's answers."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if item.kind == YES_NO:
        return {YES: True, NO: False}.get(raw.lower())
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value in item.legal_values else None


def parse_answer(item: Item, raw: str) -> int | bool | str:
    """A submitted answer as the engine takes it; a value that is not an answer is passed on
    as given, so the engine's message about it appears beside the item."""
    value = decode_answer(item, raw)
    if value is not None:
        return value
    if item.kind != YES_NO:
        try:
            return int(raw.strip())
        except ValueError:
            pass
    return raw


class ItemChoiceField(forms.ChoiceField):
    """Radio buttons for an item. Legality is the engine's to judge (so every bad item is
    reported at once, in the same words as the API), not the form's."""

    def valid_value(self, value) -> bool:
        return True


def option_label(item: Item, option) -> str:
    """Yes/No as such; a choice shows its points too, as the published forms do."""
    if item.kind == YES_NO:
        return option.label
    return f"{option.label} ({option.value})"


def is_asked(item: Item, answers: Mapping[str, int | bool]) -> bool:
    """Branching (C-SSRS): an item with a condition is asked only when its condition holds."""
    condition = item.asked_when
    return condition is None or answers.get(condition.item) == condition.answer


def lenient_answers(instrument: Instrument, data: Mapping) -> dict[str, int | bool]:
    """The valid answers found in posted data, ignoring anything else (for live scoring).

    Answers to items that are not asked (C-SSRS branches) are dropped, so the running score
    matches what will be stored once the hidden items are cleared.
    """
    answers: dict[str, int | bool] = {}
    for item in instrument.items:
        value = decode_answer(item, data.get(item.key))
        if value is not None:
            answers[item.key] = value
    return {key: value for key, value in answers.items() if is_asked(instrument.item(key), answers)}


class InstrumentForm(forms.Form):
    """One field per item, named by the item's published number ("1", "6a", ...).

    Every item field is optional here: a missing required answer is reported by the engine
    (through the service), which knows the C-SSRS branching, so the message is the same in
    the browser and the API.
    """

    notes = forms.CharField(
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: context for this administration (not scored).",
    )

    def __init__(self, *args, instrument: Instrument, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[item.key] = ItemChoiceField(
                label=item.wording,
                required=False,
                choices=[(encode_answer(item, o.value), option_label(item, o)) for o in item.options],
                widget=RADIO,
                help_text=item.prompt,
            )
        if instrument.requires_sex:
            initial = getattr(patient, "sex_assigned_at_birth", "")
            self.fields["sex"] = forms.ChoiceField(
                label="Sex used for scoring",
                required=False,
                choices=SEX_CHOICES,
                initial=initial if initial in (SexAssignedAtBirth.FEMALE, SexAssignedAtBirth.MALE) else "",
                help_text="The positive-screen threshold is 3 or more for women, 4 or more for men.",
            )
        self.order_fields([*instrument.item_keys, "sex", "notes"])

    def item_fields(self) -> list[tuple[Item, forms.BoundField]]:
        return [(item, self[item.key]) for item in self.instrument.items]

    def answers(self) -> dict[str, int | bool]:
        """The answered items, decoded (call after `is_valid()`)."""
        answers = {}
        for item in self.instrument.items:
            raw = self.cleaned_data.get(item.key)
            if raw not in (None, ""):
                answers[item.key] = parse_answer(item, raw)
        return answers

    def sex(self) -> str | None:
        return self.cleaned_data.get("sex") or None

    def add_engine_errors(self, error: Exception) -> None:
        """Show the service's refusal beside each item, in words a clinician reads."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            friendly = {}
            for key, messages in error.message_dict.items():
                if key == "sex":
                    friendly[key] = ["Choose the sex used for scoring (female or male)."]
                elif key in self.fields:
                    friendly[key] = [message[:1].upper() + message[1:] + "." for message in messages]
                else:
                    friendly[key] = messages
            error = ValidationError(friendly)
        add_service_errors(self, error)


# --- ASAM -----------------------------------------------------------------------------------------

ACCEPT, OVERRIDE = "accept", "override"
RATING_CHOICES = [(str(rating), f"{rating} {label}") for rating, label in asam_rule.RATING_LABELS.items()]
ALL_LEVELS = sorted({level for levels in asam_rule.LEVELS.values() for level in levels})


def rating_field(dimension: str) -> str:
    return f"rating_{dimension}"


def notes_field(dimension: str) -> str:
    return f"notes_{dimension}"


class AsamForm(forms.Form):
    edition = forms.ChoiceField(
        choices=AsamEdition.choices,
        initial=DEFAULT_ASAM_EDITION,
        widget=RADIO,
        help_text="The dimension names and levels follow the edition.",
    )
    decision = forms.ChoiceField(
        choices=[(ACCEPT, "Accept the recommended level"), (OVERRIDE, "Choose another level")],
        initial=ACCEPT,
        widget=RADIO,
    )
    chosen_level = forms.ChoiceField(
        required=False, choices=[("", "Choose…"), *[(level, level) for level in ALL_LEVELS]]
    )
    override_reason = forms.CharField(
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for choosing another level",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for dimension in asam_rule.DIMENSIONS:
            self.fields[rating_field(dimension)] = forms.ChoiceField(
                label=f"Dimension {dimension}",
                required=False,
                choices=RATING_CHOICES,
                widget=RADIO,
            )
            self.fields[notes_field(dimension)] = forms.CharField(
                label=f"Dimension {dimension} notes",
                required=False,
                max_length=MAX_NOTES,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == OVERRIDE and not cleaned.get("chosen_level"):
            self.add_error("chosen_level", "Choose the level of care you chose instead.")
        return cleaned

    def edition_value(self) -> str:
        return self.cleaned_data.get("edition") or DEFAULT_ASAM_EDITION

    def ratings(self) -> dict[str, int]:
        ratings = {}
        for dimension in asam_rule.DIMENSIONS:
            raw = self.cleaned_data.get(rating_field(dimension))
            if raw not in (None, ""):
                ratings[dimension] = int(raw)
        return ratings

    def dimension_notes(self) -> dict[str, str]:
        return {
            dimension: self.cleaned_data.get(notes_field(dimension), "") for dimension in asam_rule.DIMENSIONS
        }

    def level_chosen(self) -> str | None:
        if self.cleaned_data.get("decision") == OVERRIDE:
            return self.cleaned_data.get("chosen_level") or None
        return None

    def dimension_rows(self, edition: str) -> list[dict]:
        """Each dimension with its name in both editions (the page switches with the edition)."""
        return [
            {
                "dimension": dimension,
                "name": asam_rule.DIMENSION_NAMES[edition][dimension],
                "names": {key: names[dimension] for key, names in asam_rule.DIMENSION_NAMES.items()},
                "rating": self[rating_field(dimension)],
                "notes": self[notes_field(dimension)],
            }
            for dimension in asam_rule.DIMENSIONS
        ]

    def add_rule_errors(self, error: Exception) -> None:
        """The rule names dimensions "1".."6"; on the form they are the rating fields."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            renamed = {}
            for key, messages in error.message_dict.items():
                target = rating_field(key) if key in asam_rule.DIMENSIONS else key
                if target.startswith("rating_"):
                    messages = [message[:1].upper() + message[1:] + "." for message in messages]
                renamed[target] = messages
            error = ValidationError(renamed)
        add_service_errors(self, error)


def lenient_ratings(data: Mapping) -> dict[str, int]:
    """The valid ratings found in posted data (for the live recommendation)."""
    ratings = {}
    for dimension in asam_rule.DIMENSIONS:
        raw = data.get(rating_field(dimension))
        if isinstance(raw, str) and raw.strip().isdigit():
            value = int(raw.strip())
            if asam_rule.LOWEST_RATING <= value <= asam_rule.HIGHEST_RATING:
                ratings[dimension] = value
    return ratings


def lenient_edition(data: Mapping) -> str:
    edition = data.get("edition")
    return edition if edition in asam_rule.EDITIONS else DEFAULT_ASAM_EDITION
