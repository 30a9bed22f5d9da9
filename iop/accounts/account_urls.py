"""One's own account: profile, password, second factor, API tokens (mounted at /accounts/)."""

from django.urls import path

from iop.accounts import security_views as views

app_name = "account"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("password/", views.password_change, name="password_change"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/backup-codes/", views.backup_codes_regenerate, name="backup_codes"),
    path("tokens/<str:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
