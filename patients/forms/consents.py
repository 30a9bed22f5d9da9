"""Forms: consents, availability windows, medications. They parse; the services decide."""

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError

from iop.accounts.models import WEEKDAY_NAMES
from iop.core.forms import VersionField
from iop.core.text_limits import NOTE_MAX, REASON_MAX
from patients.models import AvailabilityKind, MedicationClass
from patients.services import consents as consent_services

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
WEEKDAY_LONG = {
    1: "Monday",
    2: "Tuesday",
    3: "Wednesday",
    4: "Thursday",
    5: "Friday",
    6: "Saturday",
    7: "Sunday",
}


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class _VersionedForm(_CrispyForm):
    """A form that adds a record (`new=True`) or edits one: an edit carries the version it
    started from (hidden, required; see `iop.core.concurrency`)."""

    version = VersionField()

    def __init__(self, *args, new: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if new:
            del self.fields["version"]


# --- Consents -----------------------------------------------------------------------------


class Part2TermsForm(_CrispyForm):
    """Step 1 of a Part 2 consent: its terms (42 CFR 2.31). Hidden in step 2, carried to signing."""

    recipient = forms.CharField(
        max_length=200,
        required=False,
        help_text="The person or organisation that may receive the information, e.g. “Dr Jane Roe, "
        "Lakeside Family Practice” or “County Probation Department”.",
    )
    purpose = forms.CharField(
        max_length=255, required=False, help_text="Why it is disclosed, e.g. “coordination of care”."
    )
    information_description = forms.CharField(
        label="Information to disclose",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How much and what kind, e.g. “attendance and drug-test results since admission”.",
    )
    expires_on = forms.DateField(label="Expires on", required=False, widget=DATE_INPUT)
    expiry_event = forms.CharField(
        label="Or expires when",
        max_length=255,
        required=False,
        help_text="An event or condition that ends it, e.g. “my probation ends”. "
        "Give a date, an event or both.",
    )

    def __init__(self, *args, hidden: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if hidden:
            for field in self.fields.values():
                field.widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data.update(consent_services.validate_part2_terms(**data))
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data


class SignatureForm(_CrispyForm):
    """The patient signs: types their legal name and ticks that they read and agree.

    The digest of the text shown travels beside it (the page renders it next to the text).
    """

    signed_by_name = forms.CharField(
        label="Patient: type your full legal name to sign",
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    agreed = forms.BooleanField(
        label="I have read and agree",
        error_messages={"required": "The patient must tick “I have read and agree” to sign."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_by_name"].error_messages["required"] = (
            "The patient must type their full legal name."
        )


class RevokeConsentForm(_CrispyForm):
    note = forms.CharField(
        label="How the patient asked",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In person, by phone or in writing, when, and anything they said. Kept with the consent.",
        error_messages={"required": "Say how the patient asked to revoke (in person, by phone, in writing)."},
    )


# --- Availability windows -----------------------------------------------------------------


class AvailabilityWindowForm(_VersionedForm):
    kind = forms.ChoiceField(choices=AvailabilityKind.choices, help_text="What keeps the patient busy then.")
    weekday = forms.TypedChoiceField(
        choices=[(number, WEEKDAY_LONG[number]) for number in WEEKDAY_NAMES], coerce=int
    )
    starts_at = forms.TimeField(label="From", widget=TIME_INPUT)
    ends_at = forms.TimeField(label="To", widget=TIME_INPUT)
    note = forms.CharField(
        max_length=120, required=False, help_text="e.g. “night shift ends”, “pick up kids”."
    )


# --- Medications --------------------------------------------------------------------------


class MedicationForm(_VersionedForm):
    name = forms.CharField(max_length=120, help_text="e.g. “Suboxone 8 mg/2 mg film”.")
    medication_class = forms.ChoiceField(
        label="Class",
        choices=MedicationClass.choices,
        help_text="What a drug test would detect: results of this class are marked expected.",
    )
    dose = forms.CharField(max_length=80, required=False, help_text="e.g. “16 mg daily”.")
    prescriber = forms.CharField(max_length=120, required=False)
    started_on = forms.DateField(required=False, widget=DATE_INPUT)
    stopped_on = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty while the patient takes it."
    )


class StopMedicationForm(_CrispyForm):
    stopped_on = forms.DateField(
        label="Stopped on", widget=DATE_INPUT, help_text="The last day the patient took it."
    )
