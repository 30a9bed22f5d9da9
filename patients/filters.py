"""Patient list filters, shared by the browser list and the API (django-filter)."""

import re
from datetime import datetime

import django_filters
from django.db.models import Exists, F, Func, OuterRef, Q, TextField
from django.forms.models import ModelChoiceIterator
from django.utils.html import format_html, format_html_join
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from iop.accounts.models import Role, Site, User
from patients.access import site_ids_of
from patients.models import CareTeamMember, CareTeamRole, EpisodeStatus, Phase
from patients.selectors import PATIENT_STATUS_CHOICES, PRE_ADMISSION

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")
OPTION = '<option value="{}">{}</option>'
SELECTED_OPTION = '<option value="{}" selected>{}</option>'


def parse_date_of_birth(text: str):
    for date_format in DATE_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _choices(field):
    """A dropdown's (value, label) pairs. A model dropdown's rows are read with one plain query:
    iterating its `choices` would read them through a server-side cursor (`iterator()`: DECLARE,
    FETCH and CLOSE, three round trips and a cursor held past the transaction)."""
    choices = field.choices
    if not isinstance(choices, ModelChoiceIterator):
        yield from choices
        return
    if field.empty_label is not None:
        yield ("", field.empty_label)
    if getattr(field, "null_label", None) is not None:  # django-filter's "none" choice, after the empty one
        yield (field.null_value, field.null_label)
    for row in list(choices.queryset):
        yield choices.choice(row)


class SearchName(Func):
    """first || ' ' || last || ' ' || preferred: the text a name search looks in. One trigram
    index holds UPPER() of exactly this (migration 0011), so a word is one index search rather
    than three OR-ed with the MRN, which PostgreSQL answered with a scan of every patient. A word
    has no spaces, so it matches the whole text exactly when it matches one of the names."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("legal_first_name"), F("legal_last_name"), F("preferred_name"))


def search_patients(queryset, text: str):
    """Search by date of birth (2001-04-30 or 04/30/2001), MRN, or name words (all must match)."""
    text = text.strip()
    if not text:
        return queryset
    date_of_birth = parse_date_of_birth(text)
    if date_of_birth is not None:
        return queryset.filter(date_of_birth=date_of_birth)
    queryset = queryset.alias(search_name=SearchName())
    for word in re.split(r"\s+", text)[:5]:
        queryset = queryset.filter(
            Q(search_name__icontains=word)
            # MRNs are issued in capitals: an exact match (the unique index) rather than
            # UPPER(mrn), which no index holds and which made the whole OR a sequential scan.
            | Q(mrn__in={word, word.upper()})
        )
    return queryset


@extend_schema_field(OpenApiTypes.UUID)
class StaffChoiceFilter(django_filters.ModelChoiceFilter):
    """A staff member chosen by public id."""


class PatientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search", label="Search", help_text="Name, MRN or date of birth"
    )
    site = django_filters.ModelChoiceFilter(
        label="Site",
        queryset=Site.objects.none(),
        field_name="site",
        to_field_name="public_id",
        empty_label="All sites",
    )
    status = django_filters.ChoiceFilter(
        label="Status", choices=PATIENT_STATUS_CHOICES, method="filter_status", empty_label="Any status"
    )
    phase = django_filters.ModelChoiceFilter(
        label="Phase",
        queryset=Phase.objects.none(),
        field_name="current_episode__current_phase",
        to_field_name="public_id",
        empty_label="Any phase",
    )
    primary_clinician = StaffChoiceFilter(
        label="Primary clinician",
        queryset=User.objects.none(),
        method="filter_primary_clinician",
        to_field_name="public_id",
        empty_label="Any clinician",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        user = user or getattr(self.request, "user", None)
        if user is None or user.is_superuser:
            sites = Site.objects.all()
            clinicians = User.objects.filter(role=Role.CLINICIAN)
        else:
            site_ids = site_ids_of(user)
            sites = Site.objects.filter(pk__in=site_ids)
            # EXISTS, not a join: no DISTINCT over whole user rows.
            clinicians = User.objects.filter(
                Exists(User.sites.through.objects.filter(user=OuterRef("pk"), site_id__in=site_ids)),
                role=Role.CLINICIAN,
            )
        self.filters["site"].queryset = sites.order_by("name")
        self.filters["phase"].queryset = Phase.objects.select_related("program").order_by(
            "program__name", "order"
        )
        self.filters["primary_clinician"].queryset = clinicians.only(
            "pk", "public_id", "first_name", "last_name", "username"
        ).order_by("last_name", "first_name")

    def select_fields(self) -> list[tuple]:
        """(bound field, its <option> elements) for each dropdown of the list page's form.

        The options are written here in one pass (one query per dropdown, no COUNT) rather
        than by a template loop over each choice: an admin's clinician dropdown has hundreds.
        """
        fields = []
        for field in self.form:
            if field.name == "q":
                continue
            chosen = str(field.value() if field.value() is not None else "")
            options = format_html_join(
                "",
                "{}",
                (
                    (format_html(SELECTED_OPTION if str(value) == chosen else OPTION, value, label),)
                    for value, label in _choices(field.field)
                ),
            )
            fields.append((field, options))
        return fields

    def filter_search(self, queryset, name, value):
        return search_patients(queryset, value)

    def filter_status(self, queryset, name, value):
        if value == PRE_ADMISSION:
            return queryset.filter(current_episode__isnull=True)
        if value in EpisodeStatus.values:
            return queryset.filter(current_episode__status=value)
        return queryset

    def filter_primary_clinician(self, queryset, name, value):
        if value is None:
            return queryset
        primary = CareTeamMember.objects.filter(
            episode=OuterRef("current_episode"),
            role=CareTeamRole.PRIMARY_CLINICIAN,
            ended_on__isnull=True,
            user=value,
        )
        return queryset.filter(Exists(primary))
