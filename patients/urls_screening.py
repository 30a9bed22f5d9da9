"""URLs of the screening pages (included by patients/urls.py, namespace "patients")."""

urlpatterns: list = []
