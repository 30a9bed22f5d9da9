"""The chart's Tests tab and its actions, under /patients/<id>/ (included before patients.urls,
whose catch-all tab route would otherwise answer /patients/<id>/tests/)."""

from django.urls import path

from testing import views

app_name = "testing_chart"

urlpatterns = [
    path("<uuid:public_id>/tests/", views.chart_tests, name="tests"),
    path("<uuid:public_id>/tests/order/", views.order_create, name="order"),
    path("<uuid:public_id>/tests/self-report/", views.self_report_create, name="self_report"),
]
