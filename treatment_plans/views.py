"""Plan pages inside the chart: the Plan tab, the editor (htmx partials), submitting, signing,
comparing versions, reviews and the print view. Thin: validate, call a service, render.

Every page starts from the patient (`patients.access.get_visible_patient`: 404 out of reach) and
records the chart read (`chart_context`); writes go through `treatment_plans.services`.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from iop.accounts.decorators import role_required
from iop.accounts.models import User
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from patients.access import get_visible_patient
from patients.services.consents import REDISCLOSURE_NOTICE
from patients.services.records import record_chart_view
from patients.views.records import chart_context
from treatment_plans import rules, selectors, services
from treatment_plans.forms import (
    CHILD_KIND,
    ITEM_FORMS,
    CompareForm,
    DischargeForm,
    ReviewForm,
    RevisionForm,
    SignForm,
    StartPlanForm,
    SubmitForm,
)
from treatment_plans.models import Objective, SignerRole, VersionStatus


def _plan_url(patient) -> str:
    return reverse("treatment_plans:plan", args=[patient.public_id])


def _version_url(patient, version) -> str:
    return reverse("treatment_plans:version", args=[patient.public_id, version.public_id])


def _chart(request, public_id, section: str = "plan"):
    """The patient (404 out of reach), the chart's context (audited read) and the plan."""
    patient = get_visible_patient(request.user, public_id)
    context = chart_context(request, patient, "plan")
    episode = context["header"].episode
    plan = selectors.plan_of(episode)
    context.update(
        episode=episode,
        plan=plan,
        may_write_plan=services.may_write_plans(request.user),
        discharge=selectors.discharge_of(episode) if episode and episode.status != "active" else None,
    )
    return patient, context, plan


def _require_plan(plan):
    if plan is None:
        raise Http404("No treatment plan.")
    return plan


def _version_or_404(plan, version_id):
    version = selectors.get_version(_require_plan(plan), version_id)
    if version is None:
        raise Http404("No such version.")
    return version


def _error_text(error) -> str:
    return getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)]))


@login_required
def plan_tab(request, public_id):
    patient, context, plan = _chart(request, public_id)
    today = timezone.localdate()
    context["today"] = today
    if plan is None:
        episode = context["episode"]
        if episode is not None:
            settings = selectors.plan_settings_for(episode.program)
            due_on = rules.initial_plan_due_on(episode.admitted_on, settings.initial_plan_due_days)
            context.update(initial_due_on=due_on, initial_due_state=rules.due_state(due_on, today))
        return render(request, "patients/chart/plan.html", context)
    versions = list(selectors.versions_of(plan))
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    open_version = next(
        (v for v in versions if v.status in (VersionStatus.DRAFT, VersionStatus.AWAITING_SIGNATURES)), None
    )
    context.update(
        versions=versions,
        active=active,
        open_version=open_version,
        tree=selectors.version_tree(active) if active else [],
        progress=selectors.latest_progress(plan) if active else {},
        reviews=list(selectors.reviews_of(plan)[:5]),
        review_state=rules.due_state(plan.next_review_due_on, today) if active else "",
        initial_due_state=rules.due_state(plan.initial_due_on, today) if not plan.activated_on else "",
        required_signers=selectors.plan_settings_for(plan.episode.program).required_signers,
    )
    return render(request, "patients/chart/plan.html", context)


@role_required(services.may_write_plans)
def plan_start(request, public_id):
    patient, context, plan = _chart(request, public_id)
    if plan is not None:
        return redirect(_plan_url(patient))
    if context["episode"] is None:
        raise Http404("Not admitted.")
    suggestions = selectors.intake_suggestions(patient)
    form = StartPlanForm(
        request.POST or None,
        templates=selectors.problem_templates(),
        initial={"templates": [s["template"] for s in suggestions]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.start_plan(
                actor=request.user,
                episode=context["episode"],
                template_keys=[t.key for t in form.cleaned_data["templates"]],
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Draft plan started: add goals in the patient's words.")
            return redirect(_version_url(patient, plan.versions.get()))
    context.update(form=form, suggestions=suggestions)
    return render(request, "treatment_plans/start.html", context)


def _version_context(request, context, version):
    context.update(
        version=version,
        tree=selectors.version_tree(version),
        editing=version.is_draft and context["may_write_plan"],
        signatures=list(version.signatures.all()),
        required_signers=selectors.plan_settings_for(context["plan"].episode.program).required_signers,
    )
    context["missing_signers"] = rules.missing_signers(
        context["required_signers"], [s.signer_role for s in context["signatures"]]
    )
    return context


@login_required
def version_detail(request, public_id, version_id):
    patient, context, plan = _chart(request, public_id)
    version = _version_or_404(plan, version_id)
    _version_context(request, context, version)
    if version.is_draft:
        context["incomplete"] = services.completeness_problems(version)
    return render(request, "treatment_plans/version.html", context)


def _staff_at(patient):
    return User.objects.filter(sites=patient.site_id, is_active=True).order_by("last_name", "first_name")


def _item_form(kind, patient, data=None, *, initial=None, editing=False, templates=None):
    form_class = ITEM_FORMS[kind]
    kwargs = {"initial": initial or {}}
    if kind == "problem":
        kwargs.update(templates=templates, editing=editing)
    if kind == "intervention":
        kwargs["staff"] = _staff_at(patient)
    return form_class(data, **kwargs)


def _render_item_form(request, context, *, version, form, action, title, suggestions=(), slot="", status=200):
    context.update(form=form, action=action, title=title, suggestions=suggestions, slot=slot, version=version)
    if request.htmx:
        response = render(request, "treatment_plans/_item_form.html", context, status=status)
        if request.method == "POST":  # invalid: show the form again where it was
            response = reswap(retarget(response, f"#slot-{slot}"), "innerHTML")
        return response
    return render(request, "treatment_plans/item_form.html", context, status=status)


def _after_edit(request, patient, context, version):
    if request.htmx:
        _version_context(request, context, version)
        context["incomplete"] = services.completeness_problems(version)
        return render(request, "treatment_plans/_plan_tree.html", context)
    return redirect(_version_url(patient, version))


def _suggestions_for(item, child_kind: str) -> list:
    """The template's suggestions for what is added under `item` (goal, objective, intervention)."""
    problem = item if child_kind == "goal" else getattr(item, "problem", None) or item.goal.problem
    template = problem.template
    if template is None:
        return []
    return {
        "goal": template.suggested_goals,
        "objective": template.suggested_objectives,
        "intervention": template.suggested_interventions,
    }[child_kind]


def _suggestion_initial(kind: str, suggestions: list, index: str | None) -> dict:
    try:
        chosen = suggestions[int(index)]
    except (TypeError, ValueError, IndexError):
        return {}
    if kind == "intervention" and isinstance(chosen, dict):
        return {**chosen, "responsible_role": "clinician"}
    if kind == "objective":
        return {"text": chosen, "target_date": timezone.localdate() + datetime.timedelta(days=28)}
    return {"text": chosen}


@role_required(services.may_write_plans)
def problem_add(request, public_id, version_id):
    patient, context, plan = _chart(request, public_id)
    version = _version_or_404(plan, version_id)
    form = _item_form("problem", patient, request.POST or None, templates=selectors.problem_templates())
    if request.method == "POST" and form.is_valid():
        try:
            services.add_problem(actor=request.user, version=version, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            return _after_edit(request, patient, context, version)
    action = reverse("treatment_plans:problem_add", args=[patient.public_id, version.public_id])
    return _render_item_form(
        request, context, version=version, form=form, action=action, title="Add a problem", slot="new-problem"
    )


def _item_or_404(patient, kind, item_id):
    item = selectors.get_item(patient, kind, item_id)
    if item is None:
        raise Http404("No such item.")
    return item


@role_required(services.may_write_plans)
def item_add_child(request, public_id, kind, item_id):
    patient, context, plan = _chart(request, public_id)
    if kind not in CHILD_KIND:
        raise Http404("Nothing is added under that.")
    item = _item_or_404(patient, kind, item_id)
    child = CHILD_KIND[kind]
    suggestions = _suggestions_for(item, child)
    initial = _suggestion_initial(child, suggestions, request.GET.get("suggestion"))
    form = _item_form(child, patient, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        add = {
            "goal": services.add_goal,
            "objective": services.add_objective,
            "intervention": services.add_intervention,
        }
        try:
            add[child](actor=request.user, **{kind: item}, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            return _after_edit(request, patient, context, item.version)
    action = reverse("treatment_plans:item_add", args=[patient.public_id, kind, item.public_id])
    labels = [
        s.get("description") or s.get("service_type") if isinstance(s, dict) else s for s in suggestions
    ]
    return _render_item_form(
        request,
        context,
        version=item.version,
        form=form,
        action=action,
        title=f"Add {'an' if child in ('objective', 'intervention') else 'a'} {child}",
        suggestions=list(enumerate(labels)),
        slot=item.public_id.hex,
    )


@role_required(services.may_write_plans)
def item_edit(request, public_id, kind, item_id):
    patient, context, plan = _chart(request, public_id)
    if kind not in ITEM_FORMS:
        raise Http404("No such item.")
    item = _item_or_404(patient, kind, item_id)
    names = [name for name in ITEM_FORMS[kind].base_fields if name != "template"]
    initial = {name: getattr(item, name) for name in names}
    form = _item_form(kind, patient, request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_item(actor=request.user, item=item, changes=form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            return _after_edit(request, patient, context, item.version)
    action = reverse("treatment_plans:item_edit", args=[patient.public_id, kind, item.public_id])
    return _render_item_form(
        request,
        context,
        version=item.version,
        form=form,
        action=action,
        title=f"Edit the {kind}",
        slot=item.public_id.hex,
    )


@require_POST
@role_required(services.may_write_plans)
def item_remove(request, public_id, kind, item_id):
    patient = get_visible_patient(request.user, public_id)
    if kind not in ITEM_FORMS:
        raise Http404("No such item.")
    item = _item_or_404(patient, kind, item_id)
    try:
        services.remove_item(actor=request.user, item=item)
    except SERVICE_ERRORS as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"The {kind} was removed from the draft.")
    return redirect(_version_url(patient, item.version))


@role_required(services.may_write_plans)
def version_submit(request, public_id, version_id):
    patient, context, plan = _chart(request, public_id)
    version = _version_or_404(plan, version_id)
    form = SubmitForm(request.POST or None, initial={"change_summary": version.change_summary})
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_for_signatures(
                actor=request.user, version=version, change_summary=form.cleaned_data["change_summary"]
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Version {version.number} is ready for signatures; it no longer changes."
            )
            return redirect("treatment_plans:sign", public_id=patient.public_id, version_id=version.public_id)
    context.update(
        form=form,
        title=f"Submit version {version.number} for signatures",
        intro="After this the version is frozen: signers sign exactly what is shown. "
        "To change it later, start a revision.",
        submit_label="Submit for signatures",
        cancel_url=_version_url(patient, version),
        confirm="Freeze this version for signing?",
    )
    return render(request, "patients/consents/chart_form.html", context)


@role_required(services.may_write_plans)
def version_sign(request, public_id, version_id):
    patient, context, plan = _chart(request, public_id)
    version = _version_or_404(plan, version_id)
    _version_context(request, context, version)
    roles = context["missing_signers"]
    form = SignForm(request.POST or None, roles=roles, initial={"content_digest": version.content_digest})
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_version(
                actor=request.user,
                version=version,
                signer_role=form.cleaned_data["signer_role"],
                content_digest_shown=form.cleaned_data["content_digest"],
                patient_typed_name=form.cleaned_data["patient_typed_name"],
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            version.refresh_from_db()
            if version.status == VersionStatus.ACTIVE:
                messages.success(request, f"Signed. Version {version.number} is now the active plan.")
                return redirect(_plan_url(patient))
            messages.success(request, "Signed. The plan becomes active when every signer has signed.")
            return redirect("treatment_plans:sign", public_id=patient.public_id, version_id=version.public_id)
    context.update(form=form, signer_roles=SignerRole)
    return render(request, "treatment_plans/sign.html", context)


@require_POST
@role_required(services.may_write_plans)
def plan_revise(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    header_plan = selectors.plan_of(patient.current_episode)
    plan = _require_plan(header_plan)
    form = RevisionForm(request.POST)
    form.is_valid()
    try:
        draft = services.start_revision(
            actor=request.user, plan=plan, change_summary=form.cleaned_data.get("change_summary", "")
        )
    except SERVICE_ERRORS as error:
        messages.error(request, _error_text(error))
        return redirect(_plan_url(patient))
    messages.success(request, f"Version {draft.number} started as a draft, copied from the current plan.")
    return redirect(_version_url(patient, draft))


@login_required
def compare(request, public_id):
    patient, context, plan = _chart(request, public_id)
    versions = list(selectors.versions_of(_require_plan(plan)))
    data = request.GET or None
    if data is None and len(versions) >= 2:
        data = {"old": str(versions[1].public_id), "new": str(versions[0].public_id)}
    form = CompareForm(data, versions=versions)
    rows = summary = old = new = None
    if data is not None and form.is_valid():
        by_id = {str(v.public_id): v for v in versions}
        old, new = by_id[form.cleaned_data["old"]], by_id[form.cleaned_data["new"]]
        rows = selectors.compare_versions(old, new)
        summary = rules.diff_summary(rows)
    context.update(form=form, rows=rows, summary=summary, old=old, new=new, versions=versions)
    return render(request, "treatment_plans/compare.html", context)


@role_required(services.may_write_plans)
def review(request, public_id):
    patient, context, plan = _chart(request, public_id)
    active = selectors.active_version(_require_plan(plan))
    if active is None:
        messages.info(request, "A plan is reviewed once a version is signed and active.")
        return redirect(_plan_url(patient))
    objectives = Objective.objects.filter(version=active).select_related("goal__problem")
    progress = selectors.latest_progress(plan)
    for objective in objectives:
        if objective.lineage in progress:  # start from the last review's figures
            objective.status = progress[objective.lineage].status
            objective.progress_percent = progress[objective.lineage].progress_percent
    form = ReviewForm(
        request.POST or None, objectives=objectives, initial={"reviewed_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_review(
                actor=request.user,
                plan=plan,
                reviewed_on=form.cleaned_data["reviewed_on"],
                reason=form.cleaned_data["reason"],
                summary=form.cleaned_data["summary"],
                revision_needed=form.cleaned_data["revision_needed"],
                progress=form.progress(),
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Review recorded.")
            return redirect(_plan_url(patient))
    context.update(form=form, active=active)
    return render(request, "treatment_plans/review.html", context)


@login_required
def version_print(request, public_id, version_id):
    """A print view: the version, its signatures and the 42 CFR Part 2 notice on every page."""
    patient = get_visible_patient(request.user, public_id)
    record_chart_view(actor=request.user, patient=patient, section="plan_print")
    plan = selectors.plan_of(patient.current_episode)
    version = _version_or_404(plan, version_id)
    context = {
        "patient": patient,
        "plan": plan,
        "version": version,
        "tree": selectors.version_tree(version),
        "signatures": list(version.signatures.all()),
        "notice": REDISCLOSURE_NOTICE,
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
    }
    return render(request, "treatment_plans/print.html", context)


@role_required(services.may_write_plans)
def discharge(request, public_id):
    """Discharge: TEDS-D reason, transfer, continuing-care plan and the discharge summary."""
    patient, context, plan = _chart(request, public_id)
    episode = context["episode"]
    if episode is None:
        raise Http404("Not admitted.")
    if episode.status != "active":
        messages.info(request, "This episode has already ended.")
        return redirect(_plan_url(patient))
    form = DischargeForm(request.POST or None, initial={"discharged_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.discharge_patient(actor=request.user, episode=episode, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{patient.display_name} was discharged.")
            return redirect(_plan_url(patient))
    context.update(
        form=form,
        title="Discharge",
        intro="Ends the episode of care. The summary and the continuing-care plan are kept with it and "
        "cannot be changed afterwards; the patient comes back through a new referral.",
        submit_label="Discharge",
        submit_class="btn-danger",
        cancel_url=_plan_url(patient),
        confirm="Discharge this patient? The episode ends and the summary cannot be changed.",
    )
    return render(request, "patients/consents/chart_form.html", context)


@login_required
def discharge_print(request, public_id):
    """The discharge summary for printing, with the 42 CFR Part 2 notice on every page."""
    patient = get_visible_patient(request.user, public_id)
    record_chart_view(actor=request.user, patient=patient, section="discharge_print")
    summary = selectors.discharge_of(patient.current_episode)
    if summary is None:
        raise Http404("No discharge summary.")
    context = {
        "patient": patient,
        "episode": summary.episode,
        "summary": summary,
        "notice": REDISCLOSURE_NOTICE,
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
    }
    return render(request, "treatment_plans/discharge_print.html", context)
