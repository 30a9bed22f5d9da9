"""Two-factor sign-in (django-otp): who must have a second factor, and the steps a signed-in
person must finish (code, enrolment, new password) before they may use anything else."""

from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user, user_has_device

VERIFY, ENROL, NEW_PASSWORD = "verify", "enrol", "new_password"
NO_DEVICE_SESSION_KEY = "iop_no_second_factor"


def two_factor_required(user) -> bool:
    """TWO_FACTOR_REQUIRED_FOR: admins and clinical supervisors (default) or everyone. The
    demo clinic's accounts are exempt (`two_factor_exempt`, set only by seed_demo); the test
    suite sets the policy to "nobody" unless a test asks for it (see conftest.py)."""
    if not user.is_authenticated or user.two_factor_exempt:
        return False
    policy = settings.TWO_FACTOR_REQUIRED_FOR
    if policy == "everyone":
        return True
    if policy == "nobody":
        return False
    return user.is_superuser or user.sees_whole_site


def has_second_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def match_code(user, code: str):
    """The user's confirmed device (TOTP or a one-time backup code) that accepts `code`, or None.
    Each device throttles its own failures (django-otp)."""
    code = (code or "").strip().replace(" ", "")
    if not code or len(code) > 16:
        return None
    # for_verify locks the devices (select_for_update) so two requests cannot spend one code.
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(code):
                return device
    return None


def pending_step(request) -> str | None:
    """What the signed-in user must do before anything else, or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    if not user.is_verified():
        # Known at sign-in (accounts.signals), so ordinary pages cost no query. Enrolling in
        # another session, or an admin's reset, ends this session, so the answer cannot go stale.
        no_device = request.session.get(NO_DEVICE_SESSION_KEY)
        if no_device is None:
            no_device = request.session[NO_DEVICE_SESSION_KEY] = not has_second_factor(user)
        if not no_device:
            return VERIFY
        if two_factor_required(user):
            return ENROL
    if user.must_change_password:
        return NEW_PASSWORD
    return None


STEP_URL_NAMES = {
    VERIFY: ("account:two_factor_verify",),
    ENROL: ("account:two_factor_setup",),
    NEW_PASSWORD: ("account:password_change",),
}
STEP_MESSAGES = {
    VERIFY: "Enter the code from your authenticator app (browser sign-in) first.",
    ENROL: "Set up two-factor sign-in in the browser first.",
    NEW_PASSWORD: "Choose a new password in the browser first.",
}


class SignInStepsMiddleware:
    """After the password: the one-time code (or enrolment where 2FA is required), then a new
    password where an admin asked for one. Until then every page sends the person to that step
    and the session's API calls answer 403 with a JSON body."""

    OPEN_PREFIXES = ("/static/", "/healthz", "/accounts/logout/", "/accounts/password-reset/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.OPEN_PREFIXES):
            step = pending_step(request)
            if step is not None:
                allowed = [reverse(name) for name in STEP_URL_NAMES[step]]
                if request.path not in allowed:
                    if request.path.startswith("/api/"):
                        return JsonResponse({"detail": STEP_MESSAGES[step]}, status=403)
                    target = allowed[0]
                    if request.method == "GET" and request.path != reverse("login"):
                        target += "?" + urlencode({"next": request.get_full_path()})
                    return redirect(target)
        return self.get_response(request)
