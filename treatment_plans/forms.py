"""Forms of the plan pages. They parse; the services decide."""

from crispy_forms.helper import FormHelper
from django import forms

from iop.accounts.models import User
from iop.core.forms import VersionField
from patients.models import DischargeReason
from treatment_plans.models import (
    NoteFormat,
    ObjectiveStatus,
    ProblemTemplate,
    ResponsibleRole,
    ReviewReason,
    ServiceType,
    SignerRole,
    TransferDirection,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class StartPlanForm(_CrispyForm):
    templates = forms.ModelMultipleChoiceField(
        queryset=ProblemTemplate.objects.none(),
        to_field_name="key",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Start from these problems",
        help_text="Templates are a starting point: write each goal in the patient's own words.",
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["templates"].queryset = templates


class ProblemForm(_CrispyForm):
    template = forms.ModelChoiceField(
        queryset=ProblemTemplate.objects.none(),
        required=False,
        empty_label="Blank problem",
        help_text="Start from the library (its title and description fill the blanks you leave).",
    )
    title = forms.CharField(max_length=160, required=False)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="In behavioural terms."
    )
    asam_dimension = forms.TypedChoiceField(
        choices=[("", "—")] + [(n, f"Dimension {n}") for n in range(1, 7)],
        coerce=int,
        empty_value=None,
        required=False,
        label="ASAM dimension",
    )

    def __init__(self, *args, templates=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["template"]
        else:
            self.fields["template"].queryset = templates

    def clean(self):
        data = super().clean()
        if not data.get("title") and not data.get("template"):
            self.add_error("title", "Name the problem, or start from a template.")
        return data


class GoalForm(_CrispyForm):
    text = forms.CharField(
        label="Goal, in the patient's own words",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class ObjectiveForm(_CrispyForm):
    text = forms.CharField(
        label="Objective", widget=forms.Textarea(attrs={"rows": 2}), help_text="Specific and measurable."
    )
    measure = forms.CharField(max_length=200, required=False, help_text="How progress is measured.")
    target_date = forms.DateField(widget=DATE_INPUT)
    status = forms.ChoiceField(choices=ObjectiveStatus.choices, initial=ObjectiveStatus.NOT_STARTED)
    progress_percent = forms.IntegerField(min_value=0, max_value=100, initial=0, label="Progress (%)")


class InterventionForm(_CrispyForm):
    service_type = forms.ChoiceField(choices=ServiceType.choices)
    description = forms.CharField(max_length=2000, required=False)
    frequency = forms.CharField(max_length=80, help_text="e.g. 4 times a week")
    duration = forms.CharField(max_length=80, help_text="e.g. 3 hours per session, for 4 weeks")
    responsible_role = forms.ChoiceField(choices=[("", "—")] + ResponsibleRole.choices, required=False)
    responsible_staff = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff is not None:
            self.fields["responsible_staff"].queryset = staff
        self.fields["responsible_staff"].label_from_instance = lambda u: u.get_full_name() or u.username

    def clean(self):
        data = super().clean()
        if not data.get("responsible_role") and not data.get("responsible_staff"):
            self.add_error("responsible_role", "Name the role or the staff member responsible.")
        return data


ITEM_FORMS = {
    "problem": ProblemForm,
    "goal": GoalForm,
    "objective": ObjectiveForm,
    "intervention": InterventionForm,
}
# What each kind adds under it.
CHILD_KIND = {"problem": "goal", "goal": "objective", "objective": "intervention"}


class SubmitForm(_CrispyForm):
    change_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What this version changes, and why (required for a revision).",
    )


class RevisionForm(_CrispyForm):
    change_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Why the plan is revised."
    )


class SignForm(_CrispyForm):
    signer_role = forms.ChoiceField(choices=SignerRole.choices, widget=forms.RadioSelect, label="Signing as")
    patient_typed_name = forms.CharField(
        max_length=160,
        required=False,
        label="Patient types their legal name",
        help_text="Only for the patient's signature: the patient is here, has read the plan and "
        "types their name.",
    )
    content_digest = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label="I have read this version of the plan and sign it as shown.",
        error_messages={"required": "Tick the confirmation to sign."},
    )

    def __init__(self, *args, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["signer_role"].choices = [(r, SignerRole(r).label) for r in roles]


class CompareForm(forms.Form):
    old = forms.ChoiceField(label="Older version")
    new = forms.ChoiceField(label="Newer version")

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(v.public_id), f"Version {v.number} ({v.get_status_display()})") for v in versions]
        self.fields["old"].choices = choices
        self.fields["new"].choices = choices


class ReviewForm(_CrispyForm):
    reviewed_on = forms.DateField(widget=DATE_INPUT)
    reason = forms.ChoiceField(choices=ReviewReason.choices)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Progress summary")
    revision_needed = forms.BooleanField(required=False, label="The plan needs a revision")

    def __init__(self, *args, objectives, **kwargs):
        super().__init__(*args, **kwargs)
        self.objectives = list(objectives)
        self.helper.form_show_labels = True
        for objective in self.objectives:
            key = objective.public_id.hex
            self.fields[f"status_{key}"] = forms.ChoiceField(
                choices=ObjectiveStatus.choices, initial=objective.status, label="Status"
            )
            self.fields[f"percent_{key}"] = forms.IntegerField(
                min_value=0, max_value=100, initial=objective.progress_percent, label="Progress (%)"
            )
            self.fields[f"note_{key}"] = forms.CharField(max_length=2000, required=False, label="Note")

    def objective_rows(self):
        for objective in self.objectives:
            key = objective.public_id.hex
            yield objective, self[f"status_{key}"], self[f"percent_{key}"], self[f"note_{key}"]

    def progress(self) -> dict:
        data = self.cleaned_data
        return {
            objective.public_id: {
                "status": data[f"status_{objective.public_id.hex}"],
                "progress_percent": data[f"percent_{objective.public_id.hex}"],
                "note": data.get(f"note_{objective.public_id.hex}", ""),
            }
            for objective in self.objectives
        }


class DischargeForm(_CrispyForm):
    discharged_on = forms.DateField(widget=DATE_INPUT, label="Discharge date")
    reason = forms.ChoiceField(choices=[("", "—")] + DischargeReason.choices, label="Reason (TEDS-D)")
    transfer_direction = forms.ChoiceField(
        choices=[("", "—")] + TransferDirection.choices, required=False, help_text="Transfers only."
    )
    receiving_level = forms.CharField(
        max_length=10, required=False, help_text="Transfers only: e.g. 2.5, 3.5."
    )
    receiving_program = forms.CharField(max_length=160, required=False)
    aftercare_group = forms.CharField(max_length=200, required=False, label="Aftercare group")
    mutual_help = forms.CharField(max_length=200, required=False, label="Mutual-help meetings")
    follow_up_on = forms.DateField(widget=DATE_INPUT, required=False, label="Follow-up appointment")
    follow_up_with = forms.CharField(max_length=200, required=False, label="Follow-up with")
    continuing_care_months = forms.IntegerField(
        min_value=0, max_value=12, initial=6, help_text="3-6 months recommended, up to 12."
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Discharge summary")


# --- Programs (admins) ----------------------------------------------------------------------


class ProgramForm(_CrispyForm):
    name = forms.CharField(max_length=120)
    level_of_care = forms.CharField(max_length=10, initial="2.1", help_text="ASAM level, e.g. 2.1")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    is_active = forms.BooleanField(required=False, initial=True, label="Accepting admissions")
    initial_plan_due_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=7,
        help_text="The initial plan is due this many days after admission.",
    )
    review_interval_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=30,
        help_text="Plans are reviewed this often, and after every phase change.",
    )
    requires_patient_signature = forms.BooleanField(
        required=False, initial=True, label="Patient signs the plan"
    )
    requires_primary_clinician_signature = forms.BooleanField(
        required=False, initial=True, label="Primary clinician signs the plan"
    )
    requires_supervisor_signature = forms.BooleanField(
        required=False, initial=True, label="A clinical supervisor co-signs the plan"
    )
    note_format = forms.ChoiceField(choices=NoteFormat.choices, label="Progress note format")
    unsigned_note_alert_hours = forms.IntegerField(
        min_value=1,
        max_value=720,
        initial=24,
        help_text="Unsigned notes older than this show on the author's home page.",
    )
    version = VersionField()

    PROGRAM_FIELDS = ("name", "level_of_care", "description", "is_active")

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["version"]

    def program_changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.PROGRAM_FIELDS}

    def settings_changes(self) -> dict:
        skip = {*self.PROGRAM_FIELDS, "version"}
        return {name: value for name, value in self.cleaned_data.items() if name not in skip}


class PhaseForm(_CrispyForm):
    order = forms.IntegerField(min_value=1, max_value=20, help_text="Its place in the program: 1, 2, ...")
    name = forms.CharField(max_length=80)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    min_weeks = forms.IntegerField(min_value=0, max_value=104, label="Minimum weeks")
    sessions_per_week = forms.IntegerField(min_value=0, max_value=21)
    min_hours_per_week = forms.DecimalField(
        min_value=0, max_value=99, decimal_places=1, label="Hours per week (at least)"
    )
    tests_per_week = forms.DecimalField(
        min_value=0, max_value=9, decimal_places=1, label="Random tests per week"
    )
    max_days_untested = forms.IntegerField(min_value=1, max_value=60, help_text="In operating days.")
    attendance_threshold_percent = forms.IntegerField(
        min_value=0, max_value=100, label="Attendance to advance (%)"
    )
    advancement_criteria = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
