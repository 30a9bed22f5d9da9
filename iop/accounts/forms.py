from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from timezone_field import TimeZoneFormField

from iop.accounts.models import WEEKDAY_NAMES, Role, Site
from iop.core.forms import VersionField

WEEKDAY_CHOICES = [(str(day), name) for day, name in WEEKDAY_NAMES.items()]


class SiteForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = TimeZoneFormField(initial="America/New_York")
    operating_days = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["1", "2", "3", "4", "5"],
        help_text="Days the site is open; the daily random draw runs on these days only.",
    )
    daily_draw_time = forms.TimeField(
        initial="05:30",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Local time of the daily random test draw, before the site opens.",
    )
    address = forms.CharField(max_length=255, required=False)
    phone = forms.CharField(max_length=40, required=False)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    version = VersionField()

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["version"]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_operating_days(self) -> list[int]:
        return sorted(int(day) for day in self.cleaned_data["operating_days"])

    @staticmethod
    def initial_for(site: Site) -> dict:
        return {
            "name": site.name,
            "timezone": site.timezone,
            "operating_days": [str(day) for day in site.operating_days],
            "daily_draw_time": site.daily_draw_time,
            "address": site.address,
            "phone": site.phone,
            "is_active": site.is_active,
            "version": site.version,
        }


class StaffForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    is_clinical_supervisor = forms.BooleanField(
        required=False,
        label="Clinical supervisor",
        help_text="Sees every patient at their sites and co-signs plans. Clinicians only.",
    )
    credentials = forms.CharField(max_length=60, required=False, help_text="e.g. LADC, RN, MD")
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The sites you administer that this person works at. Their other sites are kept.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active (may sign in)")

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = sites if sites is not None else Site.objects.none()
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        data = super().clean()
        if data.get("is_clinical_supervisor") and data.get("role") != Role.CLINICIAN:
            self.add_error("is_clinical_supervisor", "Only clinicians can be clinical supervisors.")
        return data


class NewStaffForm(StaffForm):
    username = forms.SlugField(max_length=150, help_text="Letters, digits, - and _ only.")
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text="At least 12 characters; not a common password. Tell it to the person privately: "
        "they choose their own at first sign-in.",
    )
    field_order = ["username", "password"]


class LoginForm(AuthenticationForm):
    username = forms.CharField(widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


# --- Sign-in security: profile, passwords, second factor ---------------------------------


class OwnDetailsForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, help_text="Where password-reset links are sent.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class OwnPasswordForm(PasswordChangeForm):
    """Old password, new password twice; Django's validators (at least 12 characters)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ResetPasswordForm(SetPasswordForm):
    """The e-mailed link's form: saving clears an admin's "must change" and is audited."""

    def save(self, commit=True):
        from iop.accounts.services import complete_password_reset

        complete_password_reset(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=16,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
