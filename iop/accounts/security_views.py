"""One's own sign-in (profile, password, second factor, API tokens) and an admin's view of a
colleague's: the pages over the sign-in security services."""

import segno
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from iop.accounts import services
from iop.accounts.api_auth import live_tokens_of
from iop.accounts.decorators import role_required
from iop.accounts.forms import CodeForm, OwnDetailsForm, OwnPasswordForm
from iop.accounts.permissions import may_manage_clinic
from iop.accounts.selectors import staff_visible_to
from iop.accounts.two_factor import has_second_factor, match_code, two_factor_required
from iop.core.forms import SERVICE_ERRORS, add_service_errors


def _next_or_home(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _security_context(user) -> dict:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return {
        "tokens": live_tokens_of(user).order_by("-created"),
        "totp": totp,
        "backup_codes_left": StaticToken.objects.filter(device__user=user).count(),
        "two_factor_required": two_factor_required(user),
    }


@login_required
def profile(request):
    form = OwnDetailsForm(
        request.POST or None,
        initial={name: getattr(request.user, name) for name in services.OWN_DETAIL_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_own_details(actor=request.user, changes=form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("account:profile")
    context = {"form": form, "nav": "profile", **_security_context(request.user)}
    return render(request, "accounts/profile.html", context)


@login_required
def password_change(request):
    form = OwnPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(actor=request.user, password=form.cleaned_data["new_password1"])
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            update_session_auth_hash(request, request.user)  # this session stays; the others end
            messages.success(request, "Your password is changed. Your API tokens were revoked.")
            return redirect(_next_or_home(request) if request.GET.get("next") else "account:profile")
    title = "Choose a new password" if request.user.must_change_password else "Change your password"
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": title, "cancel_url": reverse("account:profile"), "nav": "profile"},
    )


@login_required
def two_factor_verify(request):
    if request.user.is_verified() or not has_second_factor(request.user):
        return redirect(_next_or_home(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_code(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_or_home(request))
        form.add_error("code", "That code is not valid. Wait for the next one, or use a backup code.")
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@login_required
def two_factor_setup(request):
    """Enrol an authenticator app: scan the QR code (rendered here, as an SVG data URI), then
    type a code from the app. The backup codes are shown once."""
    device = services.pending_totp_device(user=request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_totp_device(
            actor=request.user, device=device, code=form.cleaned_data["code"]
        )
        if codes is not None:
            update_session_auth_hash(request, request.user)  # the service ended the other sessions
            otp_login(request, device)
            return render(
                request, "accounts/backup_codes.html", {"codes": codes, "next": _next_or_home(request)}
            )
        form.add_error("code", "That code does not match: check the app's clock and type the newest code.")
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_data_uri": qr.svg_data_uri(scale=5, dark="#000", light="#fff"),
        "secret": _grouped_secret(device),
        "required": two_factor_required(request.user),
        "replacing": has_second_factor(request.user),
        "next": request.GET.get("next", ""),
        "nav": "profile",
    }
    return render(request, "accounts/two_factor_setup.html", context)


def _grouped_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_POST
def backup_codes_regenerate(request):
    try:
        codes = services.regenerate_backup_codes(actor=request.user)
    except SERVICE_ERRORS as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("account:profile")
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("account:profile")})


@login_required
@require_POST
def token_revoke(request, token_id):
    try:
        services.revoke_api_token(actor=request.user, user=request.user, token_key=token_id)
    except SERVICE_ERRORS:
        messages.error(request, "No such token.")
    else:
        messages.success(request, "The token is revoked.")
    return redirect("account:profile")


@login_required
@require_POST
def sign_out_everywhere(request):
    services.sign_out_everywhere(actor=request.user, user=request.user)
    logout(request)
    return redirect("login")


# --- Admins: a colleague's sign-in --------------------------------------------------------

STAFF_ACTIONS = {
    "revoke_token": "The token is revoked.",
    "sign_out_everywhere": "Their API tokens are revoked and their sessions ended.",
    "require_password_reset": "They must choose a new password at their next sign-in.",
    "reset_two_factor": "Their second factor is removed; they enrol again at next sign-in.",
}


@role_required(may_manage_clinic)
def staff_security(request, public_id):
    person = get_object_or_404(staff_visible_to(request.user), public_id=public_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "revoke_token":
                services.revoke_api_token(
                    actor=request.user, user=person, token_key=request.POST.get("token_id", "")[:40]
                )
            elif action == "sign_out_everywhere":
                services.sign_out_everywhere(actor=request.user, user=person)
            elif action == "require_password_reset":
                services.require_password_reset(actor=request.user, user=person)
            elif action == "reset_two_factor":
                services.reset_two_factor(actor=request.user, user=person)
            else:
                messages.error(request, "Choose an action.")
                return redirect("accounts:staff_security", public_id=public_id)
        except SERVICE_ERRORS as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, STAFF_ACTIONS[action])
        return redirect("accounts:staff_security", public_id=public_id)
    context = {"person": person, "nav": "staff", **_security_context(person)}
    return render(request, "accounts/staff_security.html", context)
