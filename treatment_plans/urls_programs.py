"""Admin pages for programs and phases, under /manage/programs/."""

from django.urls import path

from treatment_plans import program_views as views

app_name = "programs"

urlpatterns = [
    path("programs/", views.program_list, name="list"),
    path("programs/new/", views.program_create, name="create"),
    path("programs/<uuid:public_id>/", views.program_edit, name="edit"),
    path("programs/<uuid:public_id>/phases/new/", views.phase_edit, name="phase_create"),
    path("programs/<uuid:public_id>/phases/<uuid:phase_id>/", views.phase_edit, name="phase_edit"),
]
