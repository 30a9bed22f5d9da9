from django.urls import path

from iop.accounts import security_views, views

app_name = "accounts"

urlpatterns = [
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_create, name="site_create"),
    path("sites/<uuid:public_id>/edit/", views.site_edit, name="site_edit"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<uuid:public_id>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/<uuid:public_id>/sign-in/", security_views.staff_security, name="staff_security"),
]
