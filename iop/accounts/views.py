"""Admin pages: sites and staff accounts."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from iop.accounts import services
from iop.accounts.decorators import role_required
from iop.accounts.forms import NewStaffForm, SiteForm, StaffForm
from iop.accounts.models import Role
from iop.accounts.permissions import may_manage_clinic
from iop.accounts.selectors import sites_administered_by, staff_visible_to
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from iop.core.pagination import paginate

admin_only = role_required(may_manage_clinic)


@admin_only
def site_list(request):
    sites = sites_administered_by(request.user).order_by("name")
    return render(request, "accounts/site_list.html", {"sites": sites, "nav": "sites"})


@admin_only
def site_create(request):
    form = SiteForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            site = services.create_site(actor=request.user, **data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Site “{site.name}” created.")
            return redirect("accounts:site_list")
    return render(
        request,
        "_form_page.html",
        {"form": form, "nav": "sites", "cancel_url": reverse("accounts:site_list"), "title": "New site"},
    )


@admin_only
def site_edit(request, public_id):
    site = get_object_or_404(sites_administered_by(request.user), public_id=public_id)
    form = SiteForm(request.POST or None, initial=SiteForm.initial_for(site))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.update_site(actor=request.user, site=site, expected_version=version, changes=data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Site “{site.name}” saved.")
            return redirect("accounts:site_list")
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "nav": "sites",
            "cancel_url": reverse("accounts:site_list"),
            "title": f"Edit {site.name}",
            "site": site,
        },
    )


@admin_only
def staff_list(request):
    staff = staff_visible_to(request.user)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    role = request.GET.get("role", "")
    if query:
        staff = staff.filter(
            Q(username__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query)
        )
    if role in Role.values:
        staff = staff.filter(role=role)
    context = paginate(request, staff.order_by("last_name", "first_name", "username"))
    context.update(q=query, role=role, roles=Role.choices, nav="staff")
    return render(request, "accounts/staff_list.html", context)


@admin_only
def staff_create(request):
    sites = sites_administered_by(request.user)
    form = NewStaffForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            user = services.create_staff(actor=request.user, **data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Account “{user.username}” created.")
            return redirect("accounts:staff_list")
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "nav": "staff",
            "cancel_url": reverse("accounts:staff_list"),
            "title": "New staff account",
        },
    )


@admin_only
def staff_edit(request, public_id):
    user = get_object_or_404(staff_visible_to(request.user), public_id=public_id)
    sites = sites_administered_by(request.user)
    initial = {name: getattr(user, name) for name in services.STAFF_FIELDS}
    initial["sites"] = [site for site in user.sites.all() if site in set(sites)]
    form = StaffForm(request.POST or None, sites=sites, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        chosen_sites = data.pop("sites")
        try:
            services.update_staff(actor=request.user, user=user, changes=data, sites=chosen_sites)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Account “{user.username}” saved.")
            return redirect("accounts:staff_list")
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "nav": "staff",
            "cancel_url": reverse("accounts:staff_list"),
            "title": f"Edit {user.get_full_name() or user.username}",
            "staff": user,
        },
    )
