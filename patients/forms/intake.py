"""Forms: referral, closing a referral, eligibility, admission."""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from iop.accounts.models import Role, Site, User
from iop.core.forms import VersionField
from iop.core.text_limits import NOTE_MAX, REASON_MAX
from patients.forms.records import clean_date_of_birth_field
from patients.models import (
    CareTeamRole,
    EligibilityReview,
    Patient,
    Program,
    Referral,
    ReferralOutcome,
    ReferralSource,
    Urgency,
)
from patients.services.intake import CLOSING_OUTCOMES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _row(*names: str) -> Div:
    return Div(*[Div(name, css_class="col-md") for name in names], css_class="row")


def _limit(field: forms.CharField, limit: int) -> None:
    """Give a model form's text field (a TEXT column, no length) a limit, as `max_length` would."""
    field.max_length = limit
    field.validators.append(MaxLengthValidator(limit))
    field.widget.attrs["maxlength"] = str(limit)


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user.get_full_name() or user.username} ({user.get_role_display()})"


class ReferralForm(forms.Form):
    """A new referral: who is referred (a new person, or an existing record) and why."""

    # The person
    legal_first_name = forms.CharField(max_length=80)
    legal_last_name = forms.CharField(max_length=80)
    preferred_name = forms.CharField(max_length=80, required=False)
    date_of_birth = forms.DateField(widget=DATE_INPUT)
    phone = PhoneNumberField(required=False, region="US")
    email = forms.EmailField(required=False)
    # The referral
    site = forms.ModelChoiceField(queryset=Site.objects.none(), to_field_name="public_id")
    source = forms.ChoiceField(choices=ReferralSource.choices)
    source_detail = forms.CharField(
        max_length=120,
        required=False,
        label="Source detail",
        help_text="e.g. which court, hospital or residential program",
    )
    referrer_name = forms.CharField(max_length=120, required=False)
    referrer_phone = PhoneNumberField(required=False, region="US")
    referrer_email = forms.EmailField(required=False)
    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Why the person is referred, in brief (at most {REASON_MAX:,} characters).",
    )
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.ROUTINE)
    intake_clinician = _StaffChoice(
        queryset=User.objects.none(),
        required=False,
        to_field_name="public_id",
        help_text="Who screens this person. Their home page shows the referral's alerts.",
    )
    referred_at = forms.DateTimeField(
        widget=DATETIME_INPUT,
        required=False,
        label="Referred at",
        help_text="When the first call came in. Empty means now.",
    )
    # Duplicate handling (shown only when a possible duplicate was found)
    # A record's id for records the user may see, "ref:<opaque reference>" for the others.
    attach_to = forms.CharField(required=False, widget=forms.RadioSelect, label="Use this existing record")
    attach_reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Why attach to a record held by another care team",
        help_text="Needed for a record you cannot see: attaching gives you and your site's intake "
        "team access to it, and is listed in the access log.",
    )
    confirmed_new_person = forms.BooleanField(
        required=False, label="This is a different person: create a new record"
    )

    PERSON_FIELDS = (
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "date_of_birth",
        "phone",
        "email",
    )
    REFERRAL_FIELDS = (
        "source",
        "source_detail",
        "referrer_name",
        "referrer_phone",
        "referrer_email",
        "reason",
        "urgency",
        "intake_clinician",
    )

    def __init__(self, *args, user, duplicates=None, references=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = sites = Site.objects.all() if user.is_superuser else user.sites.filter(is_active=True)
        self.fields["site"].queryset = sites
        if sites.count() == 1:
            self.fields["site"].initial = sites.first().public_id
        self.fields["intake_clinician"].queryset = (
            User.objects.filter(sites__in=sites, role__in=[Role.CLINICIAN, Role.MEDICAL], is_active=True)
            .distinct()
            .order_by("last_name", "first_name")
        )
        if user.role in (Role.CLINICIAN, Role.MEDICAL):
            self.fields["intake_clinician"].initial = user.public_id
        # Offer the duplicates found (`duplicates`: describe_duplicates rows; `references`: the
        # opaque references for the records the user may not see). On the next post, accept a
        # record id (the service attaches only to a record the user may see) or a reference.
        if duplicates:
            references = references or {}
            self.fields["attach_to"].widget.choices = [
                (
                    str(d["patient"].public_id) if d["visible"] else f"ref:{references[d['patient'].pk]}",
                    d["label"],
                )
                for d in duplicates
            ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        duplicate_section = (
            [
                Fieldset(
                    "Possible duplicate",
                    "attach_to",
                    *(["attach_reason"] if any(not d["visible"] for d in duplicates) else []),
                    "confirmed_new_person",
                    css_class="border-warning",
                )
            ]
            if duplicates
            else [Fieldset("Possible duplicate", "attach_to", "attach_reason", css_class="border-warning")]
            if str(self.data.get("attach_to", "")).startswith("ref:")
            else []
        )
        if not duplicates:
            self.fields["attach_to"].widget = forms.HiddenInput()
            self.fields["confirmed_new_person"].widget = forms.HiddenInput()
            if not str(self.data.get("attach_to", "")).startswith("ref:"):
                self.fields["attach_reason"].widget = forms.HiddenInput()
        self.helper.layout = Layout(
            *duplicate_section,
            Fieldset(
                "The person",
                _row("legal_first_name", "legal_last_name", "preferred_name"),
                _row("date_of_birth", "phone", "email"),
            ),
            Fieldset(
                "The referral",
                _row("site", "urgency", "referred_at"),
                _row("source", "source_detail"),
                _row("referrer_name", "referrer_phone", "referrer_email"),
                "reason",
                "intake_clinician",
            ),
        )

    NO_SUCH_PATIENT = "No such patient."

    def clean(self):
        data = super().clean()
        chosen = (data.get("attach_to") or "").strip()
        data["attach_to"], data["attach_reference"] = None, ""
        if chosen.startswith("ref:"):
            data["attach_reference"] = chosen[4:]
        elif chosen:
            # An id that is not offered answers like a record out of reach (the view's NoSuchPatient).
            try:
                data["attach_to"] = Patient.objects.filter(
                    public_id=uuid.UUID(chosen), site__in=self.sites
                ).first()
            except ValueError:
                pass
            if data["attach_to"] is None:
                self.add_error(None, self.NO_SUCH_PATIENT)
        return data

    def clean_date_of_birth(self):
        return clean_date_of_birth_field(self)

    def clean_referred_at(self):
        referred_at = self.cleaned_data.get("referred_at")
        if referred_at and referred_at > timezone.now():
            raise forms.ValidationError("The referral cannot be in the future.")
        return referred_at

    def person(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.PERSON_FIELDS}

    def referral(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.REFERRAL_FIELDS}


class ReferralEditForm(forms.ModelForm):
    version = VersionField()

    class Meta:
        model = Referral
        fields = [
            "source",
            "source_detail",
            "referrer_name",
            "referrer_phone",
            "referrer_email",
            "reason",
            "urgency",
            "intake_clinician",
            "referred_at",
        ]
        widgets = {"referred_at": DATETIME_INPUT, "reason": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"intake_clinician": _StaffChoice}

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        _limit(self.fields["reason"], REASON_MAX)
        self.fields["intake_clinician"].queryset = User.objects.filter(
            sites=referral.site, role__in=[Role.CLINICIAN, Role.MEDICAL], is_active=True
        ).order_by("last_name", "first_name")
        self.helper = FormHelper()
        self.helper.form_tag = False

    @staticmethod
    def initial_for(referral: Referral) -> dict:
        initial = {name: getattr(referral, name) for name in ReferralEditForm.Meta.fields}
        initial["referred_at"] = timezone.localtime(referral.referred_at)
        initial["version"] = referral.version
        return initial

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CloseReferralForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(value, label) for value, label in ReferralOutcome.choices if value in CLOSING_OUTCOMES],
        widget=forms.RadioSelect,
    )
    detail = forms.CharField(
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Where and why",
        help_text="Required when referred elsewhere: the program and the reason.",
    )
    version = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class EligibilityForm(forms.ModelForm):
    """Each criterion is a yes/no question; an unticked box is a "no"."""

    class Meta:
        model = EligibilityReview
        fields = [*EligibilityReview.CRITERIA, "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _limit(self.fields["notes"], NOTE_MAX)
        self.helper = FormHelper()
        self.helper.form_tag = False


class AdmissionForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), to_field_name="public_id")
    site = forms.ModelChoiceField(queryset=Site.objects.none(), to_field_name="public_id")
    admitted_on = forms.DateField(widget=DATE_INPUT, initial=timezone.localdate, label="Admission date")
    primary_clinician = _StaffChoice(queryset=User.objects.none(), to_field_name="public_id")
    case_manager = _StaffChoice(queryset=User.objects.none(), to_field_name="public_id", required=False)
    medical = _StaffChoice(queryset=User.objects.none(), to_field_name="public_id", required=False)
    peer_support = _StaffChoice(queryset=User.objects.none(), to_field_name="public_id", required=False)
    acknowledge_concerns = forms.BooleanField(
        required=False, label="I have reviewed the concerns above and admit to IOP"
    )
    admission_note = forms.CharField(
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Why, despite the concerns",
    )

    TEAM_FIELDS = {
        "primary_clinician": (CareTeamRole.PRIMARY_CLINICIAN, Role.CLINICIAN),
        "case_manager": (CareTeamRole.CASE_MANAGER, Role.CASE_MANAGER),
        "medical": (CareTeamRole.MEDICAL, Role.MEDICAL),
        "peer_support": (CareTeamRole.PEER_SUPPORT, Role.PEER_SUPPORT),
    }

    def __init__(
        self, *args, user, site: Site, programs, concerns: list[str], proposals: dict | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.concerns = concerns
        sites = Site.objects.all() if user.is_superuser else user.sites.filter(is_active=True)
        self.fields["site"].queryset = sites
        self.fields["site"].initial = site.public_id
        self.fields["program"].queryset = programs
        if programs.count() == 1:
            self.fields["program"].initial = programs.first().public_id
        for name, (_team_role, staff_role) in self.TEAM_FIELDS.items():
            self.fields[name].queryset = (
                User.objects.filter(sites__in=sites, role=staff_role, is_active=True)
                .distinct()
                .order_by("last_name", "first_name")
            )
        # Proposed members (patients.selectors.intake.proposed_care_team); the clinician may change them.
        for name, (team_role, _staff_role) in self.TEAM_FIELDS.items():
            proposal = (proposals or {}).get(team_role)
            if proposal is not None:
                self.fields[name].initial = proposal.user.public_id
                self.fields[name].help_text = (
                    f"Proposed: {proposal.why} ({proposal.caseload} current "
                    f"patient{'' if proposal.caseload == 1 else 's'})."
                )
        if not concerns:
            del self.fields["acknowledge_concerns"]
            del self.fields["admission_note"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        concern_fields = ["acknowledge_concerns", "admission_note"] if concerns else []
        self.helper.layout = Layout(
            _row("program", "site", "admitted_on"),
            Fieldset("Care team", _row("primary_clinician", "case_manager"), _row("medical", "peer_support")),
            *concern_fields,
        )

    def clean(self):
        data = super().clean()
        if self.concerns:
            if not data.get("acknowledge_concerns"):
                self.add_error("acknowledge_concerns", "Tick this to admit despite the concerns listed.")
            if not (data.get("admission_note") or "").strip():
                self.add_error("admission_note", "Say why the patient is admitted despite the concerns.")
        return data

    def care_team(self) -> dict:
        return {
            team_role: self.cleaned_data.get(name) for name, (team_role, _role) in self.TEAM_FIELDS.items()
        }
