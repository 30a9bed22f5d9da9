from crispy_forms.helper import FormHelper
from django import forms

from iop.accounts.models import Site
from iop.core.forms import VersionField

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class PatientDemographicsForm(_CrispyForm):
    legal_first_name = forms.CharField(max_length=80)
    legal_last_name = forms.CharField(max_length=80)
    preferred_name = forms.CharField(max_length=80, required=False)
    pronouns = forms.CharField(max_length=30, required=False, help_text="e.g. she/her, he/him, they/them")
    date_of_birth = forms.DateField(widget=DATE_INPUT)
    version = VersionField()


class NewPatientForm(PatientDemographicsForm):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), to_field_name="public_id")

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites if sites is not None else Site.objects.none()
        del self.fields["version"]
        if sites is not None and len(sites) == 1:
            self.fields["site"].initial = sites.first().public_id


class BreakGlassForm(_CrispyForm):
    mrn = forms.CharField(
        label="MRN", max_length=20, help_text="The patient's medical record number, exactly."
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need this chart now. Your access is logged, time-limited and reviewed by admins.",
    )


class ResolveAlertForm(forms.Form):
    alert = forms.UUIDField()
