"""Forms for the scheduling pages: parse and validate; the services decide."""

from crispy_forms.helper import FormHelper
from django import forms

from iop.accounts.models import User
from iop.core.forms import VersionField
from patients.models import Phase
from scheduling import permissions
from scheduling.models import AttendanceStatus, GroupSeries, Room, SessionKind, SessionType, TopicCycle
from scheduling.recurrence import WEEKDAY_CODES, WEEKDAY_LABELS


class _Crispy(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class RoomForm(_Crispy):
    site = forms.ModelChoiceField(queryset=None)
    name = forms.CharField(max_length=80)
    capacity = forms.IntegerField(min_value=1, max_value=500)
    is_active = forms.BooleanField(required=False, initial=True, label="In use")
    version = VersionField(required=False)

    def __init__(self, *args, sites, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if editing:
            del self.fields["site"]
            self.fields["version"].required = True
        else:
            del self.fields["version"]
            del self.fields["is_active"]


class SessionTypeForm(_Crispy):
    name = forms.CharField(max_length=80)
    kind = forms.ChoiceField(choices=SessionKind.choices)
    default_minutes = forms.IntegerField(min_value=5, max_value=720, label="Default length (minutes)")
    counts_toward_clinical_hours = forms.BooleanField(required=False, initial=True)
    is_active = forms.BooleanField(required=False, initial=True, label="In use")
    version = VersionField(required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["version"].required = True
        else:
            del self.fields["version"]
            del self.fields["is_active"]


WEEKDAY_CHOICES = list(zip(WEEKDAY_CODES, WEEKDAY_LABELS, strict=True))


class SeriesForm(_Crispy):
    name = forms.CharField(max_length=120, help_text='For example "Phase 1 morning".')
    session_type = forms.ModelChoiceField(
        queryset=SessionType.objects.filter(kind=SessionKind.GROUP, is_active=True)
    )
    room = forms.ModelChoiceField(queryset=None, help_text="The series meets at the room's site.")
    facilitator = forms.ModelChoiceField(queryset=None)
    capacity = forms.IntegerField(min_value=1, max_value=500)
    days = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Every week on these days.",
    )
    recurrence_rule = forms.CharField(
        required=False,
        max_length=255,
        label="Or an RFC 5545 rule",
        help_text="Advanced, instead of the days: e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
    )
    start_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}), help_text="Local time at the site."
    )
    duration_minutes = forms.IntegerField(min_value=5, max_value=720, label="Length (minutes)")
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="First day")
    ends_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        label="Last day",
        help_text="Empty: ongoing.",
    )
    phases = forms.ModelMultipleChoiceField(
        queryset=Phase.objects.select_related("program"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The program phases this group serves.",
    )
    topic_cycle = forms.ModelChoiceField(
        queryset=TopicCycle.objects.all(), required=False, label="Curriculum"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        sites = user.sites.all()
        rooms = Room.objects.filter(is_active=True).select_related("site")
        staff = User.objects.filter(is_active=True, role__in=permissions.FACILITATOR_ROLES)
        if not user.is_superuser:
            rooms = rooms.filter(site__in=sites)
            staff = staff.filter(sites__in=sites).distinct()
        self.fields["room"].queryset = rooms
        self.fields["room"].label_from_instance = lambda room: (
            f"{room.name} ({room.site.name}, seats {room.capacity})"
        )
        self.fields["facilitator"].queryset = staff

    def clean(self):
        data = super().clean()
        rule = (data.get("recurrence_rule") or "").strip()
        days = data.get("days") or []
        if not rule and not days:
            self.add_error("days", "Choose the days the group meets (or give a rule).")
        elif not rule:
            data["recurrence_rule"] = f"FREQ=WEEKLY;BYDAY={','.join(days)}"
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        fields = ("name", "session_type", "room", "facilitator", "capacity", "recurrence_rule", "start_time")
        values = {name: data[name] for name in fields}
        values |= {
            "duration_minutes": data["duration_minutes"],
            "starts_on": data["starts_on"],
            "ends_on": data.get("ends_on"),
            "phases": list(data.get("phases") or []),
            "topic_cycle": data.get("topic_cycle"),
            "site": data["room"].site,
        }
        return values


class EnrolForm(_Crispy):
    series = forms.ModelChoiceField(queryset=None, label="Group")
    joined_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    left_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        label="Until",
        help_text="Empty: ongoing.",
    )
    phase_override_reason = forms.CharField(
        required=False, max_length=200, label="Reason (only for a group outside the patient's phase)"
    )

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["series"].queryset = GroupSeries.objects.filter(
            site_id=episode.site_id, is_active=True
        ).select_related("room")


class AttendanceForm(forms.Form):
    """One roster row: status, minutes (empty: the whole session), version (empty: first record)."""

    status = forms.ChoiceField(choices=AttendanceStatus.choices)
    minutes_attended = forms.IntegerField(required=False, min_value=0, max_value=720)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class CancelForm(_Crispy):
    reason = forms.CharField(max_length=200, help_text="Patients are told the session is cancelled.")
    version = VersionField()


class BuildWeekForm(forms.Form):
    """The builder page: which series the patient is in from `starting_on` (the proposal
    pre-ticked) and, if other than proposed, why."""

    series = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    starting_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    reason = forms.CharField(required=False, max_length=200, label="Reason (only when changing the proposal)")

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["series"].choices = [(c.key, c.name) for c in candidates]


class AppointmentForm(_Crispy):
    session_type = forms.ModelChoiceField(
        queryset=SessionType.objects.exclude(kind=SessionKind.GROUP).filter(is_active=True), label="Type"
    )
    staff = forms.ModelChoiceField(queryset=None, label="With")
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}), label="At", help_text="Local time at the site."
    )
    minutes = forms.IntegerField(
        required=False, min_value=5, max_value=720, help_text="Empty: the type's usual length."
    )
    room = forms.ModelChoiceField(queryset=None, required=False)
    family_members = forms.CharField(
        required=False, max_length=200, help_text="Family sessions: who attends."
    )
    repeat_weeks = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=26,
        initial=0,
        label="Repeat weekly for",
        help_text="More weeks (0: once).",
    )

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        from scheduling.services.appointments import STAFF_ROLES

        self.fields["staff"].queryset = User.objects.filter(
            is_active=True, role__in=STAFF_ROLES, sites=episode.site_id
        ).order_by("last_name", "first_name")
        self.fields["room"].queryset = Room.objects.filter(site_id=episode.site_id, is_active=True)
