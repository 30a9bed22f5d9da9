"""URLs of the consents pages (included by patients/urls.py, namespace "patients")."""

urlpatterns: list = []
