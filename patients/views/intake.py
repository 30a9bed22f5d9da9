"""Pages: the intake queue, referrals, eligibility and admission.

The chart's Intake tab is the hub of an intake: it shows the open referral's checklist with a
link to each step, and every step's form returns to it.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timesince import timesince

from iop.accounts.decorators import role_required
from iop.accounts.permissions import may_admit, may_register_patients
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from iop.core.pagination import paginate
from patients.access import NoSuchPatient, get_visible_patient
from patients.forms.intake import (
    AdmissionForm,
    CloseReferralForm,
    EligibilityForm,
    ReferralEditForm,
    ReferralForm,
)
from patients.models import Referral, Urgency
from patients.selectors import active_programs
from patients.selectors.intake import (
    admission_readiness,
    describe_duplicates,
    open_referral_of,
    open_referrals_for_queue,
    proposed_care_team,
    with_intake_progress,
)
from patients.services import intake as intake_services
from patients.services import records as record_services
from patients.views.records import chart_context


def _intake_tab(patient):
    return redirect("patients:chart_tab", public_id=patient.public_id, tab="intake")


def _open_referral_or_404(patient, referral_id):
    return get_object_or_404(patient.referrals.select_related("site"), public_id=referral_id)


@role_required(may_register_patients)
def queue(request):
    referrals = open_referrals_for_queue(request.user)
    urgency = request.GET.get("urgency", "")
    if urgency in Urgency.values:
        referrals = referrals.filter(urgency=urgency)
    if request.GET.get("mine"):
        referrals = referrals.filter(intake_clinician=request.user)
    # The page's pks first (an index), then what the page shows for those rows only.
    context = paginate(request, referrals.values_list("pk", flat=True))
    page = context["page"]
    page.object_list = list(
        with_intake_progress(Referral.objects.filter(pk__in=list(page.object_list))).order_by(
            "referred_at", "id"
        )
    )
    record_services.record_list_disclosure(
        actor=request.user,
        patients=[referral.patient for referral in context["page"].object_list],
        section="intake_queue",
    )
    context.update(
        nav="intake", urgency=urgency, urgencies=Urgency.choices, mine=bool(request.GET.get("mine"))
    )
    return render(request, "patients/intake/queue.html", context)


@role_required(may_register_patients)
def referral_create(request):
    duplicates = None
    form = ReferralForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        attach_to = form.cleaned_data.get("attach_to")
        try:
            referral = intake_services.record_referral(
                actor=request.user,
                site=form.cleaned_data["site"],
                patient=attach_to,
                new_patient=form.person(),  # with `patient`: the identity that names that record
                confirmed_new_person=form.cleaned_data["confirmed_new_person"],
                referred_at=form.cleaned_data["referred_at"],
                attach_reference=form.cleaned_data["attach_reference"],
                attach_reason=form.cleaned_data["attach_reason"],
                **form.referral(),
            )
        except intake_services.PossibleDuplicate as duplicate:
            duplicates = describe_duplicates(request.user, duplicate.matches)
            form = ReferralForm(
                request.POST, user=request.user, duplicates=duplicates, references=duplicate.references
            )
            form.is_valid()
            form.add_error(None, duplicate.messages[0])
        except NoSuchPatient:  # as for an id that is not offered at all
            form.add_error(None, form.NO_SUCH_PATIENT)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Referral recorded for {referral.patient.display_name}. Next: screening."
            )
            return _intake_tab(referral.patient)
    return render(
        request,
        "patients/intake/referral_form.html",
        {"form": form, "duplicates": duplicates, "nav": "intake"},
    )


@role_required(may_register_patients)
def referral_edit(request, public_id, referral_id):
    patient = get_visible_patient(request.user, public_id)
    referral = _open_referral_or_404(patient, referral_id)
    form = ReferralEditForm(
        request.POST or None, referral=referral, initial=ReferralEditForm.initial_for(referral)
    )
    if request.method == "POST" and form.is_valid():
        try:
            intake_services.update_referral(
                actor=request.user,
                referral=referral,
                expected_version=form.cleaned_data["version"],
                changes=form.changes(),
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Referral saved.")
            return _intake_tab(patient)
    context = chart_context(request, patient, "intake")
    context.update(form=form, title="Edit the referral", submit="Save")
    return render(request, "patients/intake/step_form.html", context)


@role_required(may_register_patients)
def referral_close(request, public_id, referral_id):
    patient = get_visible_patient(request.user, public_id)
    referral = _open_referral_or_404(patient, referral_id)
    form = CloseReferralForm(request.POST or None, initial={"version": referral.version})
    if request.method == "POST" and form.is_valid():
        try:
            intake_services.close_referral(
                actor=request.user,
                referral=referral,
                outcome=form.cleaned_data["outcome"],
                detail=form.cleaned_data["detail"],
                expected_version=form.cleaned_data["version"],
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Referral closed: {referral.get_outcome_display().lower()}.")
            return _intake_tab(patient)
    context = chart_context(request, patient, "intake")
    context.update(
        form=form,
        title="Close the referral without admission",
        submit="Close the referral",
        confirm="Close this referral? It leaves the intake queue.",
    )
    return render(request, "patients/intake/step_form.html", context)


@role_required(may_register_patients)
def eligibility(request, public_id, referral_id):
    patient = get_visible_patient(request.user, public_id)
    referral = _open_referral_or_404(patient, referral_id)
    latest = referral.eligibility_reviews.first()
    initial = {name: getattr(latest, name) for name in EligibilityForm.Meta.fields} if latest else None
    form = EligibilityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            review = intake_services.review_eligibility(
                actor=request.user, referral=referral, **form.cleaned_data
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            met = f"{review.criteria_met} of {len(review.CRITERIA)} criteria met"
            messages.success(request, f"Eligibility checklist saved: {met}.")
            return _intake_tab(patient)
    context = chart_context(request, patient, "intake")
    context.update(form=form, title="Eligibility checklist", submit="Save the checklist")
    return render(request, "patients/intake/step_form.html", context)


@role_required(may_admit)
def admit(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    referral = open_referral_of(patient)
    readiness = admission_readiness(patient, referral)
    site = referral.site if referral else patient.site
    form = AdmissionForm(
        request.POST or None,
        user=request.user,
        site=site,
        programs=active_programs(),
        concerns=readiness.concerns,
        proposals=proposed_care_team(site=site, referral=referral, actor=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            episode = record_services.admit_patient(
                actor=request.user,
                patient=patient,
                program=form.cleaned_data["program"],
                site=form.cleaned_data["site"],
                admitted_on=form.cleaned_data["admitted_on"],
                care_team=form.care_team(),
                referral=referral,
                acknowledge_concerns=form.cleaned_data.get("acknowledge_concerns", False),
                admission_note=form.cleaned_data.get("admission_note", ""),
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            waited = ""
            if episode.referral and episode.referral.time_to_admission is not None:
                # The same wording as the chart's referral history ("admitted after ...").
                came_from = episode.referral
                waited = f" Admitted after {timesince(came_from.referred_at, came_from.admitted_at)}."
            messages.success(
                request, f"{patient.display_name} admitted to {episode.program}, Phase 1.{waited}"
            )
            return redirect("patients:chart", public_id=patient.public_id)
    context = chart_context(request, patient, "intake")
    context.update(form=form, readiness=readiness, referral=referral, title="Admit", submit="Admit")
    return render(request, "patients/intake/admit.html", context)
