"""URLs of the intake pages (included by patients/urls.py, namespace "patients")."""

from django.urls import path

from patients.views import intake as views

urlpatterns = [
    path("intake/", views.queue, name="intake_queue"),
    path("intake/new/", views.referral_create, name="referral_create"),
    path("<uuid:public_id>/referrals/<uuid:referral_id>/edit/", views.referral_edit, name="referral_edit"),
    path("<uuid:public_id>/referrals/<uuid:referral_id>/close/", views.referral_close, name="referral_close"),
    path(
        "<uuid:public_id>/referrals/<uuid:referral_id>/eligibility/",
        views.eligibility,
        name="referral_eligibility",
    ),
    path("<uuid:public_id>/admit/", views.admit, name="admit"),
]
