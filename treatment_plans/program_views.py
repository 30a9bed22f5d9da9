"""Admin pages for programs: the program, its plan settings and its phases (issue 10, item 8).
Thin: validate, call `patients.services.programs` and `treatment_plans.services`, render."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from iop.accounts.decorators import role_required
from iop.accounts.permissions import may_manage_clinic
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from patients.models import Phase, Program
from patients.services import programs as program_services
from treatment_plans import selectors, services
from treatment_plans.forms import PhaseForm, ProgramForm
from treatment_plans.models import PlanSettings


@role_required(may_manage_clinic)
def program_list(request):
    programs = list(Program.objects.prefetch_related("phases").order_by("name"))
    settings = {s.program_id: s for s in PlanSettings.objects.filter(program__in=programs)}
    rows = [(program, settings.get(program.pk) or PlanSettings(program=program)) for program in programs]
    return render(request, "treatment_plans/program_list.html", {"rows": rows, "nav": "programs"})


def _form_page(request, form, title, cancel_url):
    return render(
        request,
        "_form_page.html",
        {"form": form, "nav": "programs", "title": title, "cancel_url": cancel_url, "wide": True},
    )


@role_required(may_manage_clinic)
def program_create(request):
    form = ProgramForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                program = program_services.create_program(actor=request.user, **form.program_changes())
                services.update_plan_settings(
                    actor=request.user, program=program, changes=form.settings_changes()
                )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Program “{program.name}” created: now add its phases.")
            return redirect("programs:edit", public_id=program.public_id)
    return _form_page(request, form, "New program", reverse("programs:list"))


@role_required(may_manage_clinic)
def program_edit(request, public_id):
    program = get_object_or_404(Program, public_id=public_id)
    settings = selectors.plan_settings_for(program)
    initial = {name: getattr(program, name) for name in ProgramForm.PROGRAM_FIELDS}
    initial.update({name: getattr(settings, name) for name in services.PLAN_SETTINGS_FIELDS})
    initial["version"] = program.version
    form = ProgramForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                program_services.update_program(
                    actor=request.user,
                    program=program,
                    expected_version=form.cleaned_data["version"],
                    changes=form.program_changes(),
                )
                services.update_plan_settings(
                    actor=request.user, program=program, changes=form.settings_changes()
                )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Program “{program.name}” saved.")
            return redirect("programs:list")
    context = {
        "form": form,
        "program": program,
        "phases": program.phases.order_by("order"),
        "nav": "programs",
    }
    return render(request, "treatment_plans/program_edit.html", context)


@role_required(may_manage_clinic)
def phase_edit(request, public_id, phase_id=None):
    program = get_object_or_404(Program, public_id=public_id)
    phase = get_object_or_404(Phase, program=program, public_id=phase_id) if phase_id else None
    initial = (
        {name: getattr(phase, name) for name in program_services.PHASE_FIELDS}
        if phase
        else {"order": program.phases.count() + 1}
    )
    form = PhaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            program_services.save_phase(
                actor=request.user, program=program, phase=phase, fields=form.cleaned_data
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Phase saved.")
            return redirect("programs:edit", public_id=program.public_id)
    title = f"{program.name}: {'edit ' + phase.name if phase else 'new phase'}"
    return _form_page(request, form, title, reverse("programs:edit", args=[program.public_id]))
