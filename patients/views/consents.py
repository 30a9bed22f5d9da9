"""Pages: consents, availability windows and medications, inside the patient's chart.

Thin: find the patient through `patients.access` (404 outside reach), check the role, validate,
call one service, render. Every page rendered inside a chart goes through `chart_context`,
which audits the chart read; a page a role may not use is a 404, like a hidden patient.

A write page is refused (a message, back to the list) to someone who sees the patient but may
not change their record (`patients.access.may_write_clinical`: another site, or break-the-glass);
the services refuse them too. After a successful write during an open intake, the page goes
back to the intake checklist (`back_to_intake_or`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from iop.accounts.decorators import role_required
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from iop.core.pagination import paginate
from patients.access import (
    DataClass,
    get_visible_patient,
    may_write_clinical,
    require_clinical_write,
    require_data_class,
)
from patients.forms.consents import (
    AvailabilityWindowForm,
    MedicationForm,
    Part2TermsForm,
    RevokeConsentForm,
    SignatureForm,
    StopMedicationForm,
)
from patients.models import AvailabilityWindow, ConsentKind, Medication
from patients.selectors import consents as selectors
from patients.services import consents as consent_services
from patients.services import medications as medication_services
from patients.services import schedule_constraints as availability_services
from patients.views.records import back_to_intake_or, chart_context


def _chart_page(request, patient, template: str, section: str, **extra):
    """Render a page inside the chart (Intake tab highlighted); the read is audited as `section`."""
    context = chart_context(request, patient, section)
    context["tab"] = "intake"
    context.update(extra)
    return render(request, template, context)


def _form_page(request, patient, form, *, title: str, cancel_url: str, section: str, **extra):
    return _chart_page(
        request,
        patient,
        "patients/consents/chart_form.html",
        section,
        form=form,
        title=title,
        cancel_url=cancel_url,
        **extra,
    )


def _intake_url(patient) -> str:
    return reverse("patients:chart_tab", args=[patient.public_id, "intake"])


def _first_error(error) -> str:
    return getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)]))


def _may_write(user, patient) -> bool:
    """Whether the page offers write buttons (the write pages and services check again)."""
    return may_write_clinical(user, patient, allow_break_glass=False)


def _refused(request, patient, what: str, url: str):
    """None if `request.user` may change `patient`'s record; else a redirect to `url` with why."""
    try:
        require_clinical_write(request.user, patient, allow_break_glass=False, what=what)
    except PermissionError as error:
        messages.error(request, str(error))
        return redirect(url)
    return None


# --- Consents -----------------------------------------------------------------------------


@login_required
def consent_list(request, public_id):
    """Every consent of the patient, active and inactive, newest first."""
    require_data_class(request.user, DataClass.CONSENT_CONTENTS)
    patient = get_visible_patient(request.user, public_id)
    return _chart_page(
        request,
        patient,
        "patients/consents/consent_list.html",
        "consents",
        may_record=consent_services.may_record_consents(request.user) and _may_write(request.user, patient),
        **paginate(request, selectors.consents_of(patient)),
    )


@login_required
def consent_detail(request, public_id, consent_id):
    """The consent as signed: its text, signer, time, witness and status."""
    require_data_class(request.user, DataClass.CONSENT_CONTENTS)
    patient = get_visible_patient(request.user, public_id)
    consent = selectors.get_consent(patient, consent_id)
    if consent is None:
        raise Http404("No such consent.")
    return _chart_page(
        request,
        patient,
        "patients/consents/consent_detail.html",
        "consents",
        consent=consent,
        may_record=consent_services.may_record_consents(request.user) and _may_write(request.user, patient),
    )


@role_required(consent_services.may_record_consents)
def consent_create(request, public_id, kind):
    """The patient reads the consent on screen and signs by typing their legal name.

    A consent to treatment has a fixed text: one step. A Part 2 consent to disclose has terms:
    step 1 collects them, step 2 shows the text made from them and takes the signature
    (the terms travel as hidden fields; `step` says which button was pressed).
    """
    if kind not in ConsentKind.values:
        raise Http404("No such consent form.")
    patient = get_visible_patient(request.user, public_id)
    refused = _refused(
        request, patient, "record a consent", reverse("patients:consent_list", args=[patient.public_id])
    )
    if refused:
        return refused
    if kind == ConsentKind.TREATMENT:
        return _sign_treatment_consent(request, patient)
    return _sign_part2_consent(request, patient)


def _record(request, patient, kind: str, signature: SignatureForm, terms: dict):
    """Call the service; the consent, or None with the refusal shown on `signature`."""
    try:
        return consent_services.record_consent(
            actor=request.user,
            patient=patient,
            kind=kind,
            signed_by_name=signature.cleaned_data["signed_by_name"],
            agreed=signature.cleaned_data["agreed"],
            text_digest_shown=request.POST.get("text_digest", ""),
            **terms,
        )
    except SERVICE_ERRORS as error:
        add_service_errors(signature, error)
        return None


def _signed(request, patient, consent):
    """Back to the intake while one is open (the next step is there), else to the signed consent."""
    messages.success(request, f"{consent.get_kind_display()} signed and recorded.")
    return back_to_intake_or(
        patient, reverse("patients:consent_detail", args=[patient.public_id, consent.public_id])
    )


def _sign_page(request, patient, kind: str, text: str, signature: SignatureForm, terms_form=None):
    existing = None
    if kind == ConsentKind.TREATMENT:
        existing = selectors.active_consents(patient, kind=ConsentKind.TREATMENT).first()
    return _chart_page(
        request,
        patient,
        "patients/consents/consent_sign.html",
        "consents",
        kind=kind,
        kind_label=ConsentKind(kind).label,
        consent_text=text,
        text_digest=consent_services.text_digest(text),
        signature_form=signature,
        terms_form=terms_form,
        existing_consent=existing,
        cancel_url=_intake_url(patient),
    )


def _sign_treatment_consent(request, patient):
    signature = SignatureForm(request.POST or None)
    if request.method == "POST" and signature.is_valid():
        consent = _record(request, patient, ConsentKind.TREATMENT, signature, {})
        if consent is not None:
            return _signed(request, patient, consent)
    text = consent_services.treatment_consent_text(patient)
    return _sign_page(request, patient, ConsentKind.TREATMENT, text, signature)


def _terms_page(request, patient, terms_form):
    return _form_page(
        request,
        patient,
        terms_form,
        title="42 CFR Part 2 consent to disclose: the terms",
        cancel_url=_intake_url(patient),
        section="consents",
        submit_label="Show the consent to the patient",
        submit_name="step",
        submit_value="review",
        intro="Fill in the terms with the patient. The next page shows the full consent for the patient "
        "to read and sign.",
    )


def _sign_part2_consent(request, patient):
    kind = ConsentKind.PART2_DISCLOSURE
    step = request.POST.get("step") if request.method == "POST" else None
    if step not in {"review", "sign", "edit"}:
        return _terms_page(request, patient, Part2TermsForm())
    terms_form = Part2TermsForm(request.POST)
    if step == "edit" or not terms_form.is_valid():
        return _terms_page(request, patient, terms_form)
    terms = {name: terms_form.cleaned_data[name] for name in consent_services.PART2_TERMS}
    signature = SignatureForm(request.POST if step == "sign" else None)
    if step == "sign" and signature.is_valid():
        consent = _record(request, patient, kind, signature, terms)
        if consent is not None:
            return _signed(request, patient, consent)
    text = consent_services.consent_text(patient, kind, **terms)
    return _sign_page(request, patient, kind, text, signature, Part2TermsForm(request.POST, hidden=True))


@role_required(consent_services.may_record_consents)
def consent_revoke(request, public_id, consent_id):
    """The patient asked to revoke: a confirm step with a note. The consent stays, marked revoked."""
    patient = get_visible_patient(request.user, public_id)
    consent = selectors.get_consent(patient, consent_id)
    if consent is None:
        raise Http404("No such consent.")
    detail_url = reverse("patients:consent_detail", args=[patient.public_id, consent.public_id])
    if not consent.is_active:
        messages.info(request, f"This consent is already {consent.status.label.lower()}.")
        return redirect(detail_url)
    refused = _refused(request, patient, "record the revocation of a consent", detail_url)
    if refused:
        return refused
    form = RevokeConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consent_services.revoke_consent(
                actor=request.user, consent=consent, note=form.cleaned_data["note"]
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{consent.get_kind_display()} revoked.")
            return back_to_intake_or(patient, detail_url)
    return _form_page(
        request,
        patient,
        form,
        title=f"Revoke: {consent.get_kind_display()} signed {timezone.localtime(consent.signed_at):%Y-%m-%d}",
        cancel_url=detail_url,
        section="consents",
        submit_label="Revoke the consent",
        submit_class="btn-danger",
        confirm="Revoke this consent? It becomes inactive at once and cannot be reinstated; "
        "a new consent would have to be signed.",
        intro="Record that the patient revoked this consent. It stays in the record, shown as revoked.",
    )


# --- Availability windows -----------------------------------------------------------------


AVAILABILITY_WRITE = "change availability windows"
MEDICATION_WRITE = "change the medication list"


def _availability_url(patient) -> str:
    return reverse("patients:availability_list", args=[patient.public_id])


@login_required
def availability_list(request, public_id):
    """The patient's weekly windows (work, school, family), grouped by weekday."""
    patient = get_visible_patient(request.user, public_id)
    page_context = paginate(request, selectors.availability_of(patient), per_page=50)
    return _chart_page(
        request,
        patient,
        "patients/consents/availability_list.html",
        "availability",
        week=selectors.availability_by_weekday(page_context["page"].object_list),
        may_edit=availability_services.may_edit_availability(request.user)
        and _may_write(request.user, patient),
        **page_context,
    )


def _get_window(patient, window_id) -> AvailabilityWindow:
    window = AvailabilityWindow.objects.filter(patient=patient, public_id=window_id).first()
    if window is None:
        raise Http404("No such availability window.")
    window.patient = patient
    return window


@role_required(availability_services.may_edit_availability)
def availability_create(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    refused = _refused(request, patient, AVAILABILITY_WRITE, _availability_url(patient))
    if refused:
        return refused
    form = AvailabilityWindowForm(request.POST or None, new=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            availability_services.add_availability_window(actor=request.user, patient=patient, **data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Availability window added.")
            return back_to_intake_or(patient, _availability_url(patient))
    return _form_page(
        request,
        patient,
        form,
        title="Add a time the patient is not available",
        cancel_url=_availability_url(patient),
        section="availability",
    )


@role_required(availability_services.may_edit_availability)
def availability_edit(request, public_id, window_id):
    patient = get_visible_patient(request.user, public_id)
    window = _get_window(patient, window_id)
    refused = _refused(request, patient, AVAILABILITY_WRITE, _availability_url(patient))
    if refused:
        return refused
    initial = {name: getattr(window, name) for name in availability_services.WINDOW_FIELDS}
    initial["version"] = window.version
    form = AvailabilityWindowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            availability_services.update_availability_window(
                actor=request.user, window=window, expected_version=version, changes=data
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Availability window saved.")
            return back_to_intake_or(patient, _availability_url(patient))
    return _form_page(
        request,
        patient,
        form,
        title="Change an availability window",
        cancel_url=_availability_url(patient),
        section="availability",
    )


@require_POST
@role_required(availability_services.may_edit_availability)
def availability_delete(request, public_id, window_id):
    patient = get_visible_patient(request.user, public_id)
    window = _get_window(patient, window_id)
    try:
        availability_services.remove_availability_window(actor=request.user, window=window)
    except SERVICE_ERRORS as error:
        messages.error(request, _first_error(error))
        return redirect(_availability_url(patient))
    messages.success(request, "Availability window removed.")
    return back_to_intake_or(patient, _availability_url(patient))


# --- Medications --------------------------------------------------------------------------


def _medications_url(patient) -> str:
    return reverse("patients:medication_list", args=[patient.public_id])


@login_required
def medication_list(request, public_id):
    """Current medications first (by name), then past ones (most recently stopped first)."""
    patient = get_visible_patient(request.user, public_id)
    today = timezone.localdate()
    medications = (
        selectors.medications_of(patient)
        .annotate(
            is_past=Case(
                When(stopped_on__lt=today, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("is_past", F("stopped_on").desc(nulls_first=True), "name", "id")
    )
    return _chart_page(
        request,
        patient,
        "patients/consents/medication_list.html",
        "medications",
        may_edit=medication_services.may_edit_medications(request.user) and _may_write(request.user, patient),
        **paginate(request, medications),
    )


def _get_medication(patient, medication_id) -> Medication:
    medication = Medication.objects.filter(patient=patient, public_id=medication_id).first()
    if medication is None:
        raise Http404("No such medication.")
    medication.patient = patient
    return medication


@role_required(medication_services.may_edit_medications)
def medication_create(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    refused = _refused(request, patient, MEDICATION_WRITE, _medications_url(patient))
    if refused:
        return refused
    form = MedicationForm(request.POST or None, new=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            medication_services.add_medication(actor=request.user, patient=patient, **data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Medication added.")
            return back_to_intake_or(patient, _medications_url(patient))
    return _form_page(
        request,
        patient,
        form,
        title="Add a prescribed medication",
        cancel_url=_medications_url(patient),
        section="medications",
    )


@role_required(medication_services.may_edit_medications)
def medication_edit(request, public_id, medication_id):
    patient = get_visible_patient(request.user, public_id)
    medication = _get_medication(patient, medication_id)
    refused = _refused(request, patient, MEDICATION_WRITE, _medications_url(patient))
    if refused:
        return refused
    initial = {name: getattr(medication, name) for name in medication_services.MEDICATION_FIELDS}
    initial["version"] = medication.version
    form = MedicationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            medication_services.update_medication(
                actor=request.user, medication=medication, expected_version=version, changes=data
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Medication saved.")
            return back_to_intake_or(patient, _medications_url(patient))
    return _form_page(
        request,
        patient,
        form,
        title=f"Change {medication.name}",
        cancel_url=_medications_url(patient),
        section="medications",
    )


@role_required(medication_services.may_edit_medications)
def medication_stop(request, public_id, medication_id):
    """Record that the patient stopped a medication; it stays in the list as a past medication."""
    patient = get_visible_patient(request.user, public_id)
    medication = _get_medication(patient, medication_id)
    if medication.stopped_on is not None:
        messages.info(request, f"{medication.name} was already stopped on {medication.stopped_on:%Y-%m-%d}.")
        return redirect(_medications_url(patient))
    refused = _refused(request, patient, MEDICATION_WRITE, _medications_url(patient))
    if refused:
        return refused
    form = StopMedicationForm(request.POST or None, initial={"stopped_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            medication_services.stop_medication(
                actor=request.user, medication=medication, stopped_on=form.cleaned_data["stopped_on"]
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{medication.name} stopped.")
            return back_to_intake_or(patient, _medications_url(patient))
    return _form_page(
        request,
        patient,
        form,
        title=f"Stop {medication.name}",
        cancel_url=_medications_url(patient),
        section="medications",
        submit_label="Stop the medication",
        confirm=f"Record that the patient stopped {medication.name}?",
        intro="The medication moves to past medications; it is not deleted.",
    )
