"""Patient list, chart and emergency access. Thin: validate, call a service, render."""

from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from iop.accounts.decorators import role_required
from iop.accounts.permissions import (
    may_admit,
    may_break_glass,
    may_manage_clinic,
    may_register_patients,
    may_see_audit_history,
)
from iop.audit.selectors import audit_history_of_patient
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from iop.core.pagination import paginate
from patients import access
from patients.access import get_visible_patient
from patients.filters import PatientFilter
from patients.forms.records import BreakGlassForm, NewPatientForm, PatientRecordForm
from patients.selectors import break_glass_log, chart_header, episodes_of, patient_list_for
from patients.selectors import consents as consent_selectors
from patients.selectors import intake as intake_selectors
from patients.selectors import screening as screening_selectors
from patients.selectors.records import duplicate_attachment_log
from patients.services import consents as consent_services
from patients.services import medications as medication_services
from patients.services import records as services
from patients.services import schedule_constraints as availability_services

CHART_TABS = [
    ("intake", "Intake", "clipboard2-pulse"),
    ("plan", "Plan", "journal-medical"),
    ("schedule", "Schedule", "calendar-week"),
    ("tests", "Tests", "droplet"),
    ("phases", "Phases", "signpost-split"),
    ("audit", "Audit", "shield-check"),
]


@vary_on_headers("HX-Request")
@login_required
def patient_list(request):
    patient_filter = PatientFilter(
        request.GET or None, queryset=patient_list_for(request.user), user=request.user
    )
    patients = patient_filter.qs if patient_filter.is_bound else patient_filter.queryset
    context = paginate(request, patients, pks_first=True)
    # The rows (names, MRNs, dates of birth) are a disclosure: audit each patient shown.
    services.record_list_disclosure(
        actor=request.user,
        patients=list(context["page"].object_list),
        section="search" if patient_filter.is_bound else "patient_list",
    )
    context.update(filter=patient_filter, nav="patients", may_register=may_register_patients(request.user))
    template = "patients/_patient_table.html" if request.htmx else "patients/patient_list.html"
    return render(request, template, context)


@role_required(may_register_patients)
def patient_create(request):
    sites = request.user.sites.filter(is_active=True)
    form = NewPatientForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(
                actor=request.user, site=form.cleaned_data["site"], **form.changes()
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{patient.display_name} registered with MRN {patient.mrn}.")
            return redirect("patients:chart", public_id=patient.public_id)
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "nav": "patients",
            "title": "Register a patient",
            "cancel_url": reverse("patients:list"),
        },
    )


@role_required(may_register_patients)
def patient_edit(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    if request.method == "GET":  # the form shows the record: a chart read
        services.record_chart_view(actor=request.user, patient=patient, section="edit")
    form = PatientRecordForm(request.POST or None, initial=PatientRecordForm.initial_for(patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(
                actor=request.user,
                patient=patient,
                expected_version=form.cleaned_data["version"],
                changes=form.changes(),
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Patient record saved.")
            return redirect("patients:chart", public_id=patient.public_id)
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "nav": "patients",
            "title": f"Patient record: {patient.display_name}",
            "cancel_url": reverse("patients:chart", args=[patient.public_id]),
            "wide": True,
        },
    )


def _visible_tabs(user):
    return [tab for tab in CHART_TABS if tab[0] != "audit" or may_see_audit_history(user)]


class ChartPermissions:
    """Which links and buttons the chart offers: each is exactly the check the view behind it
    makes (role predicate, then the clinical-write rule of `patients.access`), so a shown link
    never leads to a refusal. Evaluated only when a template asks, and each once.

    The write rule with and without emergency access differs only by the grant the read went
    through (`break_glass_grant`, from `record_chart_view`), so it is computed once.
    """

    def __init__(self, user, patient, break_glass_grant):
        self.user, self.patient, self.break_glass_grant = user, patient, break_glass_grant

    @cached_property
    def _writes_clinical(self) -> bool:  # an emergency assessment included (instruments, ASAM)
        return access.may_write_clinical(self.user, self.patient, allow_break_glass=True)

    @cached_property
    def _writes_record(self) -> bool:  # standing reach only (consents, availability, medications)
        return self._writes_clinical and self.break_glass_grant is None

    @cached_property
    def edit_record(self) -> bool:
        return may_register_patients(self.user)

    @cached_property
    def admit(self) -> bool:
        return may_admit(self.user)

    @cached_property
    def administer(self) -> bool:  # patients.views.screening.administer_instrument
        return screening_selectors.may_administer_instruments(self.user) and self._writes_clinical

    @cached_property
    def assess_asam(self) -> bool:  # patients.views.screening.new_asam
        return screening_selectors.may_assess_asam(self.user) and self._writes_clinical

    @cached_property
    def record_consents(self) -> bool:  # patients.views.consents.consent_create
        return consent_services.may_record_consents(self.user) and self._writes_record

    @cached_property
    def edit_availability(self) -> bool:  # patients.views.consents.availability_create
        return availability_services.may_edit_availability(self.user) and self._writes_record

    @cached_property
    def edit_medications(self) -> bool:  # patients.views.consents.medication_create
        return medication_services.may_edit_medications(self.user) and self._writes_record


def chart_context(request, patient, tab: str, *, episodes=None) -> dict:
    """Everything the chart layout (header, tabs) needs; records the chart read in the audit trail.

    Pages inside a chart (a tab, an instrument form, a consent form) start from this and extend
    `patients/chart/base.html`. `episodes`: the patient's episodes when the page shows them anyway
    (`episodes_of`), so the header takes the current one from them instead of asking again.
    """
    break_glass_grant = services.record_chart_view(actor=request.user, patient=patient, section=tab)
    return {
        "patient": patient,
        "header": chart_header(patient, episodes=episodes),
        # Whether the user works at the site holding the record (some intake actions need it).
        "at_record_site": request.user.is_superuser or patient.site_id in access.site_ids_of(request.user),
        "tabs": _visible_tabs(request.user),
        "tab": tab,
        "nav": "patients",
        "break_glass_grant": break_glass_grant,
        # What the chart offers this user for this patient: the predicates of the views behind it.
        "may": ChartPermissions(request.user, patient, break_glass_grant),
        # Minimum necessary by role (ADR 0008): which classes of the record the pages show.
        "sees": {
            "instrument_results": access.may_see_instrument_results(request.user),
            "asam_ratings": access.may_see_asam_ratings(request.user),
            "consent_contents": access.may_see_consent_contents(request.user),
            "alert_detail": access.may_see_alert_detail(request.user),
        },
    }


def back_to_intake_or(patient, url: str):
    """After a step of an open intake, go back to its checklist (the Intake tab); else to `url`."""
    if intake_selectors.open_referral_of(patient) is not None:
        return redirect("patients:chart_tab", public_id=patient.public_id, tab="intake")
    return redirect(url)


@login_required
def chart(request, public_id, tab="intake"):
    # The Intake tab lists the episodes (the header's current one among them).
    patient = get_visible_patient(request.user, public_id, with_current_episode=tab != "intake")
    if tab not in {key for key, _label, _icon in _visible_tabs(request.user)}:
        raise Http404("No such tab.")
    if tab == "intake":
        # The Intake tab shows every episode: the header's current episode and care team come
        # from the same rows, and the open referral is read once for all the tab's cards.
        episodes = list(episodes_of(patient))
        context = chart_context(request, patient, tab, episodes=episodes)
        context["episodes"] = episodes
        referral = intake_selectors.open_referral_of(patient)
        context.update(
            intake_selectors.intake_card_context(
                patient, referral=referral, open_alerts=context["header"].alerts
            )
        )
        if context["sees"]["instrument_results"] or context["sees"]["asam_ratings"]:
            context.update(screening_selectors.intake_card_context(patient, referral=referral))
        context.update(consent_selectors.intake_card_context(patient))
        if not context["sees"]["consent_contents"]:
            for key in ("consents_active", "consents_inactive", "consents_inactive_more"):
                context.pop(key)
        return render(request, f"patients/chart/{tab}.html", context)
    context = chart_context(request, patient, tab)
    if tab == "phases" and context["header"].episode:
        context["phases"] = context["header"].episode.program.phases.all()
    elif tab == "audit":
        context.update(paginate(request, audit_history_of_patient(patient.public_id), per_page=50))
    return render(request, f"patients/chart/{tab}.html", context)


@require_POST
@login_required
def resolve_alert(request, public_id, alert_id):
    patient = get_visible_patient(request.user, public_id)
    alert = get_object_or_404(patient.alerts, public_id=alert_id)
    try:
        services.resolve_alert(actor=request.user, alert=alert)
    except SERVICE_ERRORS as error:
        messages.error(
            request, getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)]))
        )
    else:
        messages.success(request, "Alert marked resolved.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = reverse("patients:chart", args=[patient.public_id])
    return redirect(next_url)


@role_required(may_break_glass)
def break_glass(request):
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.break_the_glass(actor=request.user, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.warning(
                request,
                f"Emergency access granted until {grant.expires_at:%H:%M}. "
                "This access is logged and reviewed.",
            )
            return redirect("patients:chart", public_id=grant.patient.public_id)
    return render(request, "patients/break_glass.html", {"form": form, "nav": "break_glass"})


@role_required(may_manage_clinic)
def break_glass_access_log(request):
    sites = request.user.sites.all() if not request.user.is_superuser else None
    site_ids = list(sites.values_list("id", flat=True)) if sites is not None else None
    context = paginate(request, break_glass_log(site_ids))
    context["attachments"] = duplicate_attachment_log(site_ids)[:100]
    return render(request, "patients/break_glass_log.html", {**context, "nav": "break_glass_log"})
