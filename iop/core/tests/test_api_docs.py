"""The API docs page sits in the app's layout; the schema behind it is built once per process."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from iop.core.api_docs import CachedSchemaView


@pytest.mark.django_db
def test_the_schema_is_generated_once_and_served_the_same_afterwards(clinic, client, monkeypatch):
    calls = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    monkeypatch.setattr(CachedSchemaView, "_cache", {})
    client.force_login(clinic.clinician_on_team)
    first = client.get("/api/schema/?format=json")
    second = client.get("/api/schema/?format=json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and "/api/v1/patients/" in first.json()["paths"]
    assert len(calls) == 1


@pytest.mark.django_db
def test_the_api_docs_page_has_the_apps_navigation_a_main_landmark_and_an_h1(clinic, client):
    client.force_login(clinic.admin)
    response = client.get("/api/docs/")
    page = response.content.decode()
    assert '<html lang="en">' in page and page.count("<main") == 1
    assert '<h1 class="h4">API documentation</h1>' in page
    assert 'aria-label="Main"' in page and 'aria-current="page"' in page  # the API item is current
    assert "<script>" not in page and "<style>" not in page  # nothing inline (strict CSP)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
