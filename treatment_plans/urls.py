"""Plan pages, under the patient's chart (/patients/<id>/plan/...). Included before the patients
app's URLs, so /patients/<id>/plan/ is the Plan tab served here."""

from django.urls import path

from treatment_plans import views

app_name = "treatment_plans"

ITEM = "<uuid:public_id>/plan/items/<slug:kind>/<uuid:item_id>"
VERSION = "<uuid:public_id>/plan/versions/<uuid:version_id>"

urlpatterns = [
    path("<uuid:public_id>/plan/", views.plan_tab, name="plan"),
    path("<uuid:public_id>/plan/start/", views.plan_start, name="start"),
    path("<uuid:public_id>/plan/revise/", views.plan_revise, name="revise"),
    path("<uuid:public_id>/plan/compare/", views.compare, name="compare"),
    path("<uuid:public_id>/plan/review/", views.review, name="review"),
    path("<uuid:public_id>/plan/discharge/", views.discharge, name="discharge"),
    path("<uuid:public_id>/plan/discharge/print/", views.discharge_print, name="discharge_print"),
    path(f"{VERSION}/", views.version_detail, name="version"),
    path(f"{VERSION}/add-problem/", views.problem_add, name="problem_add"),
    path(f"{VERSION}/submit/", views.version_submit, name="submit"),
    path(f"{VERSION}/sign/", views.version_sign, name="sign"),
    path(f"{VERSION}/print/", views.version_print, name="print"),
    path(f"{ITEM}/add/", views.item_add_child, name="item_add"),
    path(f"{ITEM}/edit/", views.item_edit, name="item_edit"),
    path(f"{ITEM}/remove/", views.item_remove, name="item_remove"),
]
