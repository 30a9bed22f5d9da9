"""The composition root's URLs: every app's pages and the API under /api/v1/."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from iop.accounts.api import SiteViewSet, StaffViewSet
from iop.accounts.api_auth import MyTokensView, MyTokenView, ObtainTokenView, SignOutEverywhereView
from iop.accounts.forms import LoginForm, ResetPasswordForm
from iop.core.api_docs import ApiDocsView, CachedSchemaView
from iop.reports import errors as report_errors
from iop.reports import views as report_views
from patients.api.routes import ROUTES as PATIENT_ROUTES
from scheduling.api import ROUTES as SCHEDULING_ROUTES
from testing.api import ROUTES as TESTING_ROUTES
from treatment_plans.api import ROUTES as PLAN_ROUTES

# The API docs: Swagger UI (from drf-spectacular-sidecar, not a CDN) inside the app's own layout,
# under the strict CSP (its script comes from the same view with ?script); the schema is built
# once per process.
api_docs = login_required(ApiDocsView.as_view(url_name="api-schema"))

router = DefaultRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("staff", StaffViewSet, basename="staff")
for prefix, viewset, basename in [*PATIENT_ROUTES, *SCHEDULING_ROUTES, *TESTING_ROUTES]:
    router.register(prefix, viewset, basename=basename)
for prefix, viewset, basename in PLAN_ROUTES:
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
    # Before patients.urls: the chart's Tests tab belongs to testing (patients cannot import it).
    path("patients/", include("testing.urls_chart")),
    # Before the patients app: /patients/<id>/plan/ (the chart's Plan tab) and its pages.
    path("patients/", include("treatment_plans.urls")),
    path("patients/", include("patients.urls")),
    path("testing/", include("testing.urls")),
    path("manage/", include("iop.accounts.urls")),
    path("manage/", include("treatment_plans.urls_programs")),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/v1/auth/tokens/", MyTokensView.as_view(), name="api-tokens"),
    path("api/v1/auth/tokens/<str:token_id>/", MyTokenView.as_view(), name="api-token-revoke"),
    path("api/v1/auth/sign-out-everywhere/", SignOutEverywhereView.as_view(), name="api-sign-out-everywhere"),
    path("api/schema/", CachedSchemaView.as_view(), name="api-schema"),
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
