"""Forms: validate and hand the values to a service (never `form.save()`)."""

from crispy_forms.helper import FormHelper
from django import forms

from testing.models import (
    Analyte,
    CollectionOutcome,
    Consequence,
    OrderKind,
    ResponseAction,
    ResultOutcome,
    ResultStage,
    SpecimenType,
    Substance,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


def _number(label, *, max_digits, decimal_places, help_text="", min_value=0):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=min_value,
        max_digits=max_digits,
        decimal_places=decimal_places,
        help_text=help_text,
    )


class OrderForm(_CrispyForm):
    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in OrderKind.choices if k != OrderKind.RANDOM],
        help_text="Random tests come only from the daily draw.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000)
    due_on = forms.DateField(widget=DATE_INPUT)
    specimen_type = forms.ChoiceField(choices=SpecimenType.choices)
    observed_required = forms.BooleanField(required=False, label="Observed collection")


class CollectionForm(_CrispyForm):
    outcome = forms.ChoiceField(choices=CollectionOutcome.choices, widget=forms.RadioSelect)
    collected_at = forms.DateTimeField(
        widget=DATETIME_INPUT, required=False, help_text="Leave empty for now."
    )
    specimen_type = forms.ChoiceField(choices=SpecimenType.choices)
    observed = forms.BooleanField(required=False, label="Collection observed")
    temperature_c = _number(
        "Temperature (°C)",
        max_digits=4,
        decimal_places=1,
        help_text="Read within 4 minutes; 32-38 °C is in range.",
    )
    chain_of_custody_number = forms.CharField(max_length=40, required=False)
    self_report = forms.CharField(
        label="Self-report before collection",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="A self-reported use is a clinical conversation.",
    )
    creatinine = _number("Creatinine (mg/dL)", max_digits=7, decimal_places=2)
    specific_gravity = _number("Specific gravity", max_digits=6, decimal_places=4)
    ph = _number("pH", max_digits=4, decimal_places=2)
    nitrite = _number("Nitrite (mcg/mL)", max_digits=8, decimal_places=1)
    foreign_substance = forms.BooleanField(required=False, label="Foreign substance found")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


class ResultForm(_CrispyForm):
    analyte = forms.ModelChoiceField(queryset=Analyte.objects.none(), to_field_name="public_id")
    stage = forms.ChoiceField(choices=ResultStage.choices)
    device_or_assay = forms.CharField(max_length=120, label="Device or assay")
    lot = forms.CharField(max_length=60, required=False)
    cutoff = _number(
        "Cutoff", max_digits=10, decimal_places=3, help_text="Empty: the panel's cutoff for the stage."
    )
    value = _number("Value", max_digits=12, decimal_places=3)
    outcome = forms.ChoiceField(choices=ResultOutcome.choices, widget=forms.RadioSelect)

    def __init__(self, *args, analytes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analyte"].queryset = analytes if analytes is not None else Analyte.objects.all()


class AmendForm(_CrispyForm):
    outcome = forms.ChoiceField(choices=ResultOutcome.choices, widget=forms.RadioSelect)
    value = _number("Value", max_digits=12, decimal_places=3)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class ReviewForm(_CrispyForm):
    actions = forms.MultipleChoiceField(
        choices=ResponseAction.choices, widget=forms.CheckboxSelectMultiple, label="Response"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    increased_tests_per_week = _number("Tests per week for the period", max_digits=3, decimal_places=1)
    increased_until = forms.DateField(widget=DATE_INPUT, required=False, label="Until")


class MissedDrawForm(_CrispyForm):
    site = forms.ModelChoiceField(queryset=None, to_field_name="public_id")
    day = forms.DateField(widget=DATE_INPUT, label="Date")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites


class PolicyForm(_CrispyForm):
    ramp = forms.IntegerField(
        min_value=1,
        max_value=30,
        help_text="Eligible days before the maximum over which the chance rises to 1 (2 keeps the "
        "forced test off a single weekday).",
    )
    panel = forms.ModelChoiceField(queryset=None, to_field_name="public_id")
    specimen_type = forms.ChoiceField(choices=SpecimenType.choices)
    include_etg = forms.BooleanField(required=False, label="Include EtG (alcohol metabolite)")
    observed_collection = forms.BooleanField(required=False, label="Observed collection required")
    refusal_counts_as = forms.ChoiceField(choices=Consequence.choices)
    no_show_counts_as = forms.ChoiceField(choices=Consequence.choices)
    check_in_by = forms.TimeField(
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="The time in the selected patients' message (default 14:00).",
    )

    def __init__(self, *args, panels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["panel"].queryset = panels


class SelfReportForm(_CrispyForm):
    substance = forms.ChoiceField(choices=Substance.choices)
    last_used_on = forms.DateField(widget=DATE_INPUT, label="Date of last use (as the patient reported it)")
    reported_on = forms.DateField(widget=DATE_INPUT, label="Reported on")
    reported_to = forms.ModelChoiceField(queryset=None, to_field_name="username", label="Reported to")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_to"].queryset = staff
