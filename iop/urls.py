"""The composition root's URLs: every app's pages and the API under /api/v1/."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from iop.accounts.api import SiteViewSet, StaffViewSet
from iop.accounts.api_auth import MyTokensView, MyTokenView, ObtainTokenView, SignOutEverywhereView
from iop.accounts.forms import LoginForm, ResetPasswordForm
from iop.reports import errors as report_errors
from iop.reports import views as report_views
from patients.api.routes import ROUTES as PATIENT_ROUTES
from scheduling.api import ROUTES as SCHEDULING_ROUTES

# Swagger UI's page template carries one inline <style>: allow inline styles there only
# (scripts stay 'self'-only; its assets come from drf-spectacular-sidecar, not a CDN).
api_docs = login_required(
    csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
)

router = DefaultRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("staff", StaffViewSet, basename="staff")
for prefix, viewset, basename in [*PATIENT_ROUTES, *SCHEDULING_ROUTES]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("", report_views.home, name="home"),
    path("healthz", report_views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Passwords reset by e-mail (Django's views; the console backend in the embedded clinic).
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=ResetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/", include("iop.accounts.account_urls")),
    path("", include("scheduling.urls")),  # before patients: the chart's Schedule tab is scheduling's
    path("patients/", include("patients.urls")),
    path("manage/", include("iop.accounts.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/v1/auth/tokens/", MyTokensView.as_view(), name="api-tokens"),
    path("api/v1/auth/tokens/<str:token_id>/", MyTokenView.as_view(), name="api-token-revoke"),
    path("api/v1/auth/sign-out-everywhere/", SignOutEverywhereView.as_view(), name="api-sign-out-everywhere"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("django-admin/", admin.site.urls),
    # Last: an /api/ path nothing above matched (e.g. an empty id) answers JSON, never HTML.
    re_path(r"^api/(?P<path>.*)$", report_errors.api_not_found),
]

if settings.BENCH_BARE_VIEW:  # `make bench` only: the bare login-required view every page is measured against
    from iop.bench.views import bare

    urlpatterns.append(path("bench/bare/", bare, name="bench-bare"))

handler400 = "iop.reports.errors.bad_request"
handler403 = "iop.reports.errors.permission_denied"
handler404 = "iop.reports.errors.not_found"
handler500 = "iop.reports.errors.server_error"
