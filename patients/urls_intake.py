"""URLs of the intake pages (included by patients/urls.py, namespace "patients")."""

urlpatterns: list = []
