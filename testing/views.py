"""Testing pages: the chart's Tests tab, the site worklist, collection, results, review, and the
admin's draws with their verification. Thin: check access, validate, call a service, render."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from iop.accounts.decorators import role_required
from iop.accounts.permissions import may_manage_clinic
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from iop.core.pagination import paginate
from patients.access import DataClass, get_visible_patient, require_data_class
from patients.models import Phase
from patients.services import records as patient_services
from patients.views.records import chart_context
from testing import selectors
from testing.draw_rule import PolicyError
from testing.forms import (
    AmendForm,
    CollectionForm,
    MissedDrawForm,
    OrderForm,
    PolicyForm,
    ResultForm,
    ReviewForm,
    SelfReportForm,
)
from testing.models import AnalyteResult, DrugTestOrder, Panel, ResultReview, Specimen, TestingPolicy
from testing.services import collection, draws, policies, self_reports
from testing.services.collection import FINALISE_ROLES, ORDER_ROLES, RESULT_ROLES, REVIEW_ROLES
from testing.services.self_reports import SELF_REPORT_ROLES
from testing.verification import verify_draw

NOT_DOT = (
    "This is a clinical random-interval testing schedule for treatment, not a DOT random testing "
    "programme: results guide care and are never the sole reason for discharge."
)


def _has_role(user, roles) -> bool:
    return user.is_superuser or user.role in roles


def _chart_url(patient) -> str:
    return reverse("patients:chart_tab", args=[patient.public_id, "tests"])


# --- Chart tab -------------------------------------------------------------------------------


@login_required
def chart_tests(request, public_id):
    """The chart's Tests tab: orders, collections and results as a timeline."""
    patient = get_visible_patient(request.user, public_id)
    context = chart_context(request, patient, "tests")
    sees_results = selectors.may_see_results(request.user)
    context.update(
        orders=list(selectors.orders_of(patient)[:100]),
        sees_results=sees_results,
        reviews=list(selectors.reviews_of(patient)) if sees_results else [],
        sobriety=selectors.sobriety_date(patient) if sees_results else None,
        self_reports=list(selectors.self_reports_of(patient)[:20]) if sees_results else [],
        not_dot=NOT_DOT,
        may_test={
            "order": _has_role(request.user, ORDER_ROLES),
            "collect": selectors.may_use_worklist(request.user),
            "result": _has_role(request.user, RESULT_ROLES) and sees_results,
            "finalise": _has_role(request.user, FINALISE_ROLES) and sees_results,
            "review": _has_role(request.user, REVIEW_ROLES) and sees_results,
            "self_report": _has_role(request.user, SELF_REPORT_ROLES) and sees_results,
        },
    )
    return render(request, "patients/chart/tests.html", context)


@role_required(lambda user: _has_role(user, SELF_REPORT_ROLES))
def self_report_create(request, public_id):
    """Record the patient's own account of their last use (feeds the derived sobriety date)."""
    require_data_class(request.user, DataClass.DRUG_TEST_RESULTS)
    patient = get_visible_patient(request.user, public_id)
    team = (
        get_user_model()
        .objects.filter(
            Q(pk=request.user.pk)
            | Q(care_teams__episode_id=patient.current_episode_id, care_teams__ended_on=None)
        )
        .distinct()
    )
    form = SelfReportForm(
        request.POST or None,
        staff=team,
        initial={"reported_on": timezone.localdate(), "reported_to": request.user.username},
    )
    if request.method == "POST" and form.is_valid():
        try:
            self_reports.record_self_report(actor=request.user, patient=patient, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Self-report recorded.")
            return redirect(_chart_url(patient))
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "title": f"Self-reported last use: {patient.display_name}",
            "cancel_url": _chart_url(patient),
        },
    )


@role_required(lambda user: _has_role(user, ORDER_ROLES))
def order_create(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    form = OrderForm(request.POST or None, initial={"due_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            collection.order_test(actor=request.user, patient=patient, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Test ordered.")
            return redirect(_chart_url(patient))
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "title": f"Order a drug test for {patient.display_name}",
            "cancel_url": _chart_url(patient),
        },
    )


# --- Worklist and collection -----------------------------------------------------------------


@role_required(selectors.may_use_worklist)
def worklist(request):
    """Today's collection worklist for one of the user's sites."""
    sites = list(selectors.worklist_sites(request.user))
    if not sites:
        raise Http404("No site.")
    site = next((s for s in sites if str(s.public_id) == request.GET.get("site")), sites[0])
    today = timezone.localdate(timezone=site.timezone)
    orders = list(selectors.worklist(request.user, site, today))
    patient_services.record_list_disclosure(
        actor=request.user, patients=[order.patient for order in orders], section="testing_worklist"
    )
    draw = selectors.draws_for(request.user).filter(site=site, date=today).first()
    context = {
        "nav": "testing",
        "sites": sites,
        "site": site,
        "today": today,
        "orders": orders,
        "draw": draw,
        "compliance": selectors.compliance(site, today - timedelta(days=27), today),
        "not_dot": NOT_DOT,
        "is_admin": may_manage_clinic(request.user),
        "sees_report": selectors.may_see_site_report(request.user),
    }
    return render(request, "testing/worklist.html", context)


def _visible_order(user, public_id) -> DrugTestOrder:
    order = get_object_or_404(DrugTestOrder.objects.select_related("patient"), public_id=public_id)
    get_visible_patient(user, order.patient.public_id)  # 404 for a patient out of reach
    return order


@role_required(selectors.may_use_worklist)
def collect(request, public_id):
    order = _visible_order(request.user, public_id)
    patient = order.patient
    form = CollectionForm(
        request.POST or None,
        initial={"specimen_type": order.specimen_type, "observed": order.observed_required},
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            specimen = collection.record_collection(actor=request.user, order=order, **values)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            if specimen.temperature_in_range is False:
                messages.warning(request, "Temperature out of range: recollect under observation.")
            else:
                messages.success(request, f"Recorded: {specimen.get_outcome_display().lower()}.")
            if request.POST.get("next") == "worklist":
                return redirect("testing:worklist")
            return redirect(_chart_url(patient))
    return render(
        request,
        "testing/collect.html",
        {
            "form": form,
            "order": order,
            "patient": patient,
            "cancel_url": _chart_url(patient),
            "not_dot": NOT_DOT,
        },
    )


# --- Results ---------------------------------------------------------------------------------


def _visible_specimen(user, public_id) -> Specimen:
    require_data_class(user, DataClass.DRUG_TEST_RESULTS)
    specimen = get_object_or_404(
        Specimen.objects.select_related("patient", "order__panel"), public_id=public_id
    )
    get_visible_patient(user, specimen.patient.public_id)
    return specimen


@role_required(lambda user: _has_role(user, RESULT_ROLES))
def result_create(request, public_id):
    specimen = _visible_specimen(request.user, public_id)
    analytes = specimen.order.panel.analytes.all() if specimen.order.panel_id else None
    form = ResultForm(request.POST or None, analytes=analytes)
    if request.method == "POST" and form.is_valid():
        try:
            collection.record_result(actor=request.user, specimen=specimen, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Result entered; a clinician finalises it.")
            return redirect(_chart_url(specimen.patient))
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": "Enter a drug test result", "cancel_url": _chart_url(specimen.patient)},
    )


@require_POST
@role_required(lambda user: _has_role(user, FINALISE_ROLES))
def finalise(request, public_id):
    specimen = _visible_specimen(request.user, public_id)
    try:
        collection.finalise_results(actor=request.user, specimen=specimen)
    except SERVICE_ERRORS as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, "Results finalised.")
    return redirect(_chart_url(specimen.patient))


@role_required(lambda user: _has_role(user, FINALISE_ROLES))
def amend(request, public_id):
    require_data_class(request.user, DataClass.DRUG_TEST_RESULTS)
    result = get_object_or_404(
        AnalyteResult.objects.select_related("specimen__patient", "analyte"), public_id=public_id
    )
    patient = get_visible_patient(request.user, result.specimen.patient.public_id)
    form = AmendForm(request.POST or None, initial={"outcome": result.outcome, "value": result.value})
    if request.method == "POST" and form.is_valid():
        try:
            collection.amend_result(actor=request.user, result=result, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Result amended; the original stays in the record.")
            return redirect(_chart_url(patient))
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": f"Amend the {result.analyte.name} result", "cancel_url": _chart_url(patient)},
    )


# --- Clinical response -----------------------------------------------------------------------


@role_required(lambda user: _has_role(user, REVIEW_ROLES))
def review(request, public_id):
    require_data_class(request.user, DataClass.DRUG_TEST_RESULTS)
    item = get_object_or_404(ResultReview.objects.select_related("patient", "specimen"), public_id=public_id)
    patient = get_visible_patient(request.user, item.patient.public_id)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection.record_review(actor=request.user, review=item, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Review recorded.")
            return redirect(_chart_url(patient))
    return render(
        request,
        "testing/review.html",
        {
            "form": form,
            "review": item,
            "patient": patient,
            "cancel_url": _chart_url(patient),
            "not_dot": NOT_DOT,
        },
    )


# --- Draws (admins) --------------------------------------------------------------------------


@role_required(may_manage_clinic)
def draw_list(request):
    context = paginate(request, selectors.draws_for(request.user), per_page=50)
    context.update(nav="testing", not_dot=NOT_DOT)
    return render(request, "testing/draw_list.html", context)


@role_required(may_manage_clinic)
def draw_detail(request, public_id):
    """One draw and its verification, recomputed now (the audit chain itself is verified
    nightly and by `verify_draw`; this page checks the draw's own entries)."""
    draw = get_object_or_404(selectors.draws_for(request.user), public_id=public_id)
    report = verify_draw(draw)
    revealed = draw.key.revealed_at is not None
    return render(
        request,
        "testing/draw_detail.html",
        {"draw": draw, "report": report, "revealed": revealed, "nav": "testing", "not_dot": NOT_DOT},
    )


@role_required(may_manage_clinic)
def draw_run(request):
    sites = selectors.worklist_sites(request.user)
    form = MissedDrawForm(request.POST or None, sites=sites, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            outcome = draws.run_missed_draw(actor=request.user, **form.cleaned_data)
        except (*SERVICE_ERRORS, draws.DrawRefused) as error:
            form.add_error(None, str(error))
        else:
            if outcome.created:
                messages.success(request, "Missed draw run and logged.")
            else:
                messages.info(request, "That day was already drawn: nothing changed.")
            return redirect("testing:draw_detail", public_id=outcome.draw.public_id)
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": "Run a missed draw", "cancel_url": reverse("testing:draw_list")},
    )


# --- Policies (admins) -----------------------------------------------------------------------


@role_required(may_manage_clinic)
def policy_list(request):
    phases = Phase.objects.filter(program__is_active=True).select_related("program", "testing_policy__panel")
    return render(
        request, "testing/policy_list.html", {"phases": phases, "nav": "testing", "not_dot": NOT_DOT}
    )


@role_required(may_manage_clinic)
def policy_edit(request, phase_id):
    """Edit a phase's testing policy; "Preview" shows what the real rule does with it (expected
    tests per week, longest gap, distribution) before anything is saved."""
    phase = get_object_or_404(Phase.objects.select_related("program"), public_id=phase_id)
    policy = TestingPolicy.objects.filter(phase=phase).first()
    initial = {
        "ramp": 2,
        "specimen_type": "urine",
        "refusal_counts_as": "positive",
        "no_show_counts_as": "positive",
    }
    if policy is not None:
        initial = {name: getattr(policy, name) for name in policies.POLICY_FIELDS}
        initial["panel"] = policy.panel.public_id
    form = PolicyForm(request.POST or None, initial=initial, panels=Panel.objects.filter(is_active=True))
    ramp = initial["ramp"]
    if request.method == "POST" and form.is_valid():
        ramp = form.cleaned_data["ramp"]
        if "save" in request.POST:
            try:
                policies.save_policy(actor=request.user, phase=phase, values=form.cleaned_data)
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Testing policy for {phase} saved.")
                return redirect("testing:policy_list")
    try:
        preview = policies.preview_policy(phase, ramp)
        preview_error = ""
    except PolicyError as error:
        preview, preview_error = [], str(error)
    return render(
        request,
        "testing/policy_edit.html",
        {
            "form": form,
            "phase": phase,
            "policy": policy,
            "preview": preview,
            "preview_error": preview_error,
            "ramp": ramp,
            "nav": "testing",
            "not_dot": NOT_DOT,
        },
    )


# --- Site report (admins and clinical supervisors) -------------------------------------------


@role_required(selectors.may_see_site_report)
def site_report(request):
    """Collection compliance and positivity by substance over the last 12 weeks, as charts
    (with the same figures as a table). Aggregates only: no patient is named."""
    sites = list(selectors.worklist_sites(request.user))
    if not sites:
        raise Http404("No site.")
    site = next((s for s in sites if str(s.public_id) == request.GET.get("site")), sites[0])
    report = selectors.site_report(site)
    context = {"site": site, "sites": sites, "report": report, "nav": "testing", "not_dot": NOT_DOT}
    return render(request, "testing/site_report.html", context)
