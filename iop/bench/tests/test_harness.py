"""`make bench` must not rot: the harness runs end to end on a tiny reference workload.

No timing assertions (timings belong to the benchmark); only that every page answers, every
figure is complete and the results file has the documented shape."""

import io
import json
from importlib import import_module

import pytest
from django.apps import apps as django_apps

from iop.bench import harness
from iop.bench.middleware import QueryCountHeaderMiddleware
from iop.demo.generator import DEMO_PROGRAM_NAME
from patients.models import Program


@pytest.fixture
def tiny_reference_clinic(transactional_db):
    # A transactional test flushes migration data too: put the default program back.
    if not Program.objects.filter(name=DEMO_PROGRAM_NAME).exists():
        import_module("patients.migrations.0002_default_program").seed(django_apps, None)
    return harness.seed_reference(0.01)  # 260 patients at 5 sites, with their audit history


@pytest.mark.django_db(transaction=True)
def test_harness_measures_every_page_against_the_bare_view(
    tiny_reference_clinic, live_server, settings, tmp_path
):
    settings.ROOT_URLCONF = "iop.bench.tests.urls"
    out = io.StringIO()

    figures, throughputs = harness.run(
        live_server.url, requests_each=2, throughput_seconds=0.2, connections=2, out=out
    )

    assert {figure.role for figure in figures} == {"clinician", "casemanager", "admin"}
    assert len(figures) == len(harness.pages())
    assert [figure.name for figure in figures if figure.status != 200] == []
    assert all(figure.median_ms > 0 and figure.bare_median_ms > 0 and figure.ratio > 0 for figure in figures)
    assert [item.name for item in throughputs] == ["patient list", "chart"]
    assert all(item.requests_per_s > 0 and item.bare_requests_per_s > 0 for item in throughputs)
    results = tmp_path / "results.json"
    harness.write_results(
        results, scale=0.01, patients=tiny_reference_clinic, figures=figures, throughputs=throughputs
    )
    written = json.loads(results.read_text())
    assert set(written["pages"][0]) >= {
        "name",
        "role",
        "median_ms",
        "p95_ms",
        "bare_median_ms",
        "ratio",
        "queries",
    }
    assert "chart" in out.getvalue()


def test_reference_workload_has_a_valid_audit_chain_of_chart_reads(tiny_reference_clinic):
    from iop.audit.models import AuditEntry
    from iop.audit.services import verify_chain

    assert AuditEntry.objects.filter(object_type="patients.chart.overview").count() > 100
    assert verify_chain().ok


def test_bare_view_exists_only_with_the_bench_setting(client, clinic):
    client.force_login(clinic.clinician_on_team)
    assert client.get("/bench/bare/").status_code == 404


@pytest.mark.django_db
def test_query_count_header_counts_the_queries(rf):
    from iop.accounts.models import Site

    def view(request):
        list(Site.objects.all())
        list(Site.objects.all())
        from django.http import HttpResponse

        return HttpResponse("ok")

    response = QueryCountHeaderMiddleware(view)(rf.get("/"))
    assert response["X-Bench-Queries"] == "2"
