from django.urls import path

from testing import views

app_name = "testing"

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("report/", views.site_report, name="site_report"),
    path("orders/<uuid:public_id>/collect/", views.collect, name="collect"),
    path("specimens/<uuid:public_id>/results/new/", views.result_create, name="result_create"),
    path("specimens/<uuid:public_id>/finalise/", views.finalise, name="finalise"),
    path("results/<uuid:public_id>/amend/", views.amend, name="amend"),
    path("reviews/<uuid:public_id>/", views.review, name="review"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<uuid:phase_id>/", views.policy_edit, name="policy_edit"),
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/run/", views.draw_run, name="draw_run"),
    path("draws/<uuid:public_id>/", views.draw_detail, name="draw_detail"),
]
