"""URLs of the screening pages (included by patients/urls.py, namespace "patients")."""

from django.urls import path

from patients.views import screening as views

urlpatterns = [
    path(
        "<uuid:public_id>/instruments/<slug:code>/",
        views.administer_instrument,
        name="administer_instrument",
    ),
    path(
        "<uuid:public_id>/instruments/<slug:code>/score/",
        views.score_instrument,
        name="score_instrument",
    ),
    path(
        "<uuid:public_id>/instruments/<slug:code>/history/",
        views.instrument_history,
        name="instrument_history",
    ),
    path(
        "<uuid:public_id>/instrument-responses/<uuid:response_id>/",
        views.instrument_response,
        name="instrument_response",
    ),
    path("<uuid:public_id>/asam/", views.asam_history, name="asam_history"),
    path("<uuid:public_id>/asam/new/", views.new_asam, name="new_asam"),
    path("<uuid:public_id>/asam/recommend/", views.asam_recommend, name="asam_recommend"),
    path("<uuid:public_id>/asam/<uuid:assessment_id>/", views.asam_assessment, name="asam_assessment"),
]
