from django.urls import include, path

from patients.views import records as views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("emergency-access/", views.break_glass, name="break_glass"),
    path("access-log/", views.break_glass_access_log, name="break_glass_log"),
    path("<uuid:public_id>/", views.chart, name="chart"),
    path("<uuid:public_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:public_id>/alerts/<uuid:alert_id>/resolve/", views.resolve_alert, name="resolve_alert"),
    path("", include("patients.urls_intake")),
    path("", include("patients.urls_screening")),
    path("", include("patients.urls_consents")),
    # Last: any other word after a chart is one of its tabs.
    path("<uuid:public_id>/<slug:tab>/", views.chart, name="chart_tab"),
]
