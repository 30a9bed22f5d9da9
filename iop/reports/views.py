"""Each role's home page and the health check."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from iop.accounts.models import Role
from iop.accounts.selectors import sites_administered_by
from iop.audit.selectors import latest_chain_verification
from patients.access import may_see_alert_detail
from patients.selectors import active_alerts_for, active_episode_count, break_glass_log, caseload_for
from patients.selectors.screening import WITHDRAWAL_DUE_ON_HOME, withdrawal_assessments_due
from scheduling import selectors as schedule_selectors

HOME_TEMPLATES = {
    Role.CLINICIAN: "reports/home_clinician.html",
    Role.CASE_MANAGER: "reports/home_case_manager.html",
    Role.MEDICAL: "reports/home_medical.html",
    Role.PEER_SUPPORT: "reports/home_peer_support.html",
    Role.ADMIN: "reports/home_admin.html",
}
CASELOAD_ON_HOME = 50
SCHEDULING_CARD_ROWS = 15


@login_required
def home(request):
    user = request.user
    role = Role.ADMIN if user.is_superuser else user.role
    context = {"nav": "home", "role_label": Role(role).label}
    if role == Role.ADMIN:
        sites = sites_administered_by(user).annotate(active_patients=active_episode_count()).order_by("name")
        site_ids = [site.id for site in sites]
        context.update(
            sites=sites,
            chain=latest_chain_verification(),
            recent_break_glass=break_glass_log(None if user.is_superuser else site_ids)[:5],
        )
    else:
        caseload = caseload_for(user)
        context.update(
            caseload=caseload[:CASELOAD_ON_HOME],
            caseload_count=caseload.count(),
            alerts=active_alerts_for(user),
            sees_alert_detail=may_see_alert_detail(user),  # ADR 0008: peer support reads "safety alert"
        )
        if role == Role.CLINICIAN or role == Role.MEDICAL:
            context["todays_sessions"] = schedule_selectors.todays_sessions_for(user)
        if role == Role.CASE_MANAGER:
            # Under-scheduled first: each caseload patient's scheduled hours against their phase.
            context["schedule_rows"] = schedule_selectors.scheduled_hours_for(list(context["caseload"]))[
                :SCHEDULING_CARD_ROWS
            ]
    if role == Role.MEDICAL:
        due = list(withdrawal_assessments_due(user)[: WITHDRAWAL_DUE_ON_HOME + 1])
        context.update(
            withdrawal_due=due[:WITHDRAWAL_DUE_ON_HOME], withdrawal_due_more=len(due) > WITHDRAWAL_DUE_ON_HOME
        )
    return render(request, HOME_TEMPLATES[role], context)


@never_cache
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
