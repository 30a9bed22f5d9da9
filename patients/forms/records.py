from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError

from iop.accounts.models import Site
from iop.core.forms import VersionField
from iop.core.text_limits import REASON_MAX
from patients.models import BreakGlassReason, Patient
from patients.services.records import (
    PATIENT_CONTACT_FIELDS,
    PATIENT_COVERAGE_FIELDS,
    PATIENT_EDITABLE_FIELDS,
    PATIENT_EMERGENCY_CONTACT_FIELDS,
    PATIENT_IDENTITY_FIELDS,
    PATIENT_SPECIAL_POPULATION_FIELDS,
    validate_date_of_birth,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


def clean_date_of_birth_field(form: forms.Form):
    """The service's own date-of-birth rule, run with the form's other checks (all errors at once)."""
    date_of_birth = form.cleaned_data.get("date_of_birth")
    if date_of_birth:
        try:
            validate_date_of_birth(date_of_birth)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["date_of_birth"]) from None
    return date_of_birth


def _row(*names: str) -> Div:
    return Div(*[Div(name, css_class="col-md") for name in names], css_class="row")


class PatientRecordForm(forms.ModelForm):
    """The patient record. Validates only: the service writes (never `form.save()`)."""

    version = VersionField()

    class Meta:
        model = Patient
        fields = PATIENT_EDITABLE_FIELDS
        widgets = {"date_of_birth": DATE_INPUT}
        help_texts = {
            "phone": "US numbers as (555) 555-0100; others with +country code.",
            "gender_identity": "In the patient's words.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*self.sections())

    def sections(self) -> list:
        return [
            Fieldset(
                "Identity",
                _row("legal_first_name", "legal_last_name"),
                _row("preferred_name", "pronouns", "date_of_birth"),
                _row("sex_assigned_at_birth", "gender_identity"),
            ),
            Fieldset(
                "Contact",
                _row("phone", "email", "preferred_contact_channel"),
                _row("address_line1", "address_line2"),
                _row("city", "state", "postal_code"),
            ),
            Fieldset("Emergency contact", _row(*PATIENT_EMERGENCY_CONTACT_FIELDS)),
            Fieldset("Coverage", _row(*PATIENT_COVERAGE_FIELDS)),
            Fieldset("Special populations", _row(*PATIENT_SPECIAL_POPULATION_FIELDS)),
            "version",
        ]

    @staticmethod
    def initial_for(patient: Patient) -> dict:
        initial = {name: getattr(patient, name) for name in PATIENT_EDITABLE_FIELDS}
        initial["version"] = patient.version
        return initial

    def clean_date_of_birth(self):
        return clean_date_of_birth_field(self)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in PATIENT_EDITABLE_FIELDS}


class NewPatientForm(PatientRecordForm):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), to_field_name="public_id")

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites if sites is not None else Site.objects.none()
        del self.fields["version"]
        if sites is not None and len(sites) == 1:
            self.fields["site"].initial = sites.first().public_id

    def sections(self) -> list:
        return ["site", *super().sections()[:-1]]


class BreakGlassForm(_CrispyForm):
    mrn = forms.CharField(
        label="MRN", max_length=20, help_text="The patient's medical record number, exactly."
    )
    category = forms.ChoiceField(choices=BreakGlassReason.choices, label="Why", widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="In a sentence",
        help_text="Why you need this chart now. Your access is logged, time-limited and reviewed by admins.",
    )


__all__ = [
    "PATIENT_CONTACT_FIELDS",
    "PATIENT_IDENTITY_FIELDS",
    "BreakGlassForm",
    "NewPatientForm",
    "PatientRecordForm",
]
