"""URLs of the consents, availability and medication pages (included by patients/urls.py,
namespace "patients")."""

from django.urls import path

from patients.views import consents as views

urlpatterns = [
    path("<uuid:public_id>/consents/", views.consent_list, name="consent_list"),
    path("<uuid:public_id>/consents/new/<slug:kind>/", views.consent_create, name="consent_create"),
    path("<uuid:public_id>/consents/<uuid:consent_id>/", views.consent_detail, name="consent_detail"),
    path("<uuid:public_id>/consents/<uuid:consent_id>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("<uuid:public_id>/availability/", views.availability_list, name="availability_list"),
    path("<uuid:public_id>/availability/new/", views.availability_create, name="availability_create"),
    path(
        "<uuid:public_id>/availability/<uuid:window_id>/edit/",
        views.availability_edit,
        name="availability_edit",
    ),
    path(
        "<uuid:public_id>/availability/<uuid:window_id>/delete/",
        views.availability_delete,
        name="availability_delete",
    ),
    path("<uuid:public_id>/medications/", views.medication_list, name="medication_list"),
    path("<uuid:public_id>/medications/new/", views.medication_create, name="medication_create"),
    path(
        "<uuid:public_id>/medications/<uuid:medication_id>/edit/",
        views.medication_edit,
        name="medication_edit",
    ),
    path(
        "<uuid:public_id>/medications/<uuid:medication_id>/stop/",
        views.medication_stop,
        name="medication_stop",
    ),
]
