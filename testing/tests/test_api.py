"""The testing API: same access rules, services and audit as the pages; errors are 4xx JSON."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from iop.audit.models import AuditEntry
from patients.models import Episode
from patients.tests.factories import PatientFactory, admit
from testing.models import CollectionOutcome, OrderKind, ResultReview
from testing.services import collection, draws
from testing.tests.factories import AnalyteFactory, PanelFactory, PolicyFactory

NY = ZoneInfo("America/New_York")


@pytest.fixture
def panel(clinic):
    panel = PanelFactory(name="Cup")
    AnalyteFactory(panel=panel, code="thc", name="THC", screen_cutoff=50)
    PolicyFactory(phase=clinic.episode.current_phase, panel=panel)
    return panel


@pytest.fixture
def order(clinic, panel):
    return collection.order_test(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind=OrderKind.SCHEDULED,
        due_on=datetime.date.today(),
    )


def api(_client, user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_policies_are_listed_with_their_panel(clinic, client, panel):
    rows = api(client, clinic.peer_support).get("/api/v1/testing-policies/").json()["results"]
    assert rows[0]["tests_per_week"] == "2.0" and rows[0]["analytes"][0]["code"] == "thc"


def test_admins_read_their_sites_draws_and_the_key_only_after_the_month(clinic, client, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 7, 0, tzinfo=NY), tick=False)
    Episode.objects.filter(pk=clinic.episode.pk).update(admitted_on=datetime.date(2026, 2, 16))
    draw = draws.run_daily_draw(site=clinic.site_a, day=datetime.date(2026, 3, 2)).draw
    rows = api(client, clinic.admin).get("/api/v1/draws/").json()["results"]
    assert [row["id"] for row in rows] == [str(draw.public_id)]
    assert rows[0]["key"] is None and rows[0]["key_commitment"] == draw.key.commitment
    assert api(client, clinic.admin_other_site).get("/api/v1/draws/").json()["results"] == []
    assert api(client, clinic.clinician_on_team).get(f"/api/v1/draws/{draw.public_id}/").status_code == 404
    time_machine.move_to(datetime.datetime(2026, 4, 1, 2, 0, tzinfo=NY), tick=False)
    draws.reveal_ended_month_keys()
    row = api(client, clinic.admin).get(f"/api/v1/draws/{draw.public_id}/").json()
    assert row["key"] == draw.key.secret


def test_orders_are_scoped_audited_and_listed_in_constant_queries(
    clinic, client, order, django_assert_max_num_queries
):
    assert api(client, clinic.clinician_elsewhere).get("/api/v1/drug-test-orders/").json()["results"] == []
    client = api(client, clinic.peer_support)
    with django_assert_max_num_queries(20) as few:
        rows = client.get("/api/v1/drug-test-orders/").json()["results"]
    assert [row["id"] for row in rows] == [str(order.public_id)]
    assert AuditEntry.objects.filter(actor=clinic.peer_support, patient_public_id=clinic.patient.public_id)
    for _ in range(5):
        patient = PatientFactory(site=clinic.site_a)
        admit(patient, team={"peer_support": clinic.peer_support})
        collection.order_test(
            actor=clinic.supervisor, patient=patient, kind=OrderKind.SCHEDULED, due_on=datetime.date.today()
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/drug-test-orders/").json()["results"]) == 6


def test_ordering_through_the_api(clinic, client, panel):
    client = api(client, clinic.clinician_on_team)
    body = {"patient": str(clinic.patient.public_id), "kind": "for_cause", "due_on": "2026-03-02"}
    response = client.post("/api/v1/drug-test-orders/", body)
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post("/api/v1/drug-test-orders/", {**body, "reason": "Slurred speech"})
    assert response.status_code == 201 and response.json()["kind"] == "for_cause"
    assert client.post("/api/v1/drug-test-orders/", {**body, "kind": "random"}).status_code == 400
    response = api(client, clinic.peer_support).post("/api/v1/drug-test-orders/", {**body, "reason": "x"})
    assert response.status_code == 403
    rows = api(client, clinic.peer_support).get("/api/v1/drug-test-orders/").json()["results"]
    assert [row["reason"] for row in rows] == [""]  # peer support: ordered, not why
    rows = api(client, clinic.case_manager).get("/api/v1/drug-test-orders/").json()["results"]
    assert [row["reason"] for row in rows] == ["Slurred speech"]
    response = api(client, clinic.clinician_elsewhere).post(
        "/api/v1/drug-test-orders/", {**body, "reason": "x"}
    )
    assert response.status_code == 404


def test_collection_results_and_finalising_through_the_api(clinic, client, order):
    client = api(client, clinic.medical)
    response = client.post(
        "/api/v1/specimens/", {"order": str(order.public_id), "outcome": "collected", "ph": 20}
    )
    assert response.status_code == 400 and "ph" in response.json()
    response = client.post(
        "/api/v1/specimens/", {"order": "3f1d6a8e-0000-4000-8000-000000000000", "outcome": "collected"}
    )
    assert response.status_code == 400 and "order" in response.json()
    response = client.post(
        "/api/v1/specimens/", {"order": str(order.public_id), "outcome": "collected", "temperature_c": "35.0"}
    )
    assert response.status_code == 201 and response.json()["validity"] == "not_assessed"
    specimen_id = response.json()["id"]
    body = {
        "specimen": specimen_id,
        "analyte": "thc",
        "stage": "screen",
        "device_or_assay": "Cup",
        "outcome": "positive",
    }
    assert client.post("/api/v1/analyte-results/", {**body, "analyte": "pcp"}).status_code == 400
    response = client.post("/api/v1/analyte-results/", body)
    assert response.status_code == 201 and response.json()["final"] is False
    assert client.post(f"/api/v1/specimens/{specimen_id}/finalise/").status_code == 403  # medical
    client = api(client, clinic.clinician_on_team)
    response = client.post(f"/api/v1/specimens/{specimen_id}/finalise/")
    assert response.status_code == 200 and len(response.json()) == 1
    assert ResultReview.objects.filter(specimen__public_id=specimen_id).exists()
    assert client.post(f"/api/v1/specimens/{specimen_id}/finalise/").status_code == 400


def test_peer_support_reads_no_results(clinic, client, order):
    specimen = collection.record_collection(
        actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED
    )
    client = api(client, clinic.peer_support)
    assert client.get("/api/v1/specimens/").status_code == 403
    assert client.get("/api/v1/analyte-results/").status_code == 403
    assert client.get(f"/api/v1/specimens/{specimen.public_id}/").status_code == 404
    assert api(client, clinic.case_manager).get(f"/api/v1/specimens/{specimen.public_id}/").status_code == 200


def _no_show_review(clinic, patient=None):
    patient = patient or clinic.patient
    order = collection.order_test(
        actor=clinic.supervisor, patient=patient, kind=OrderKind.SCHEDULED, due_on=datetime.date.today()
    )
    specimen = collection.record_collection(
        actor=clinic.medical, order=order, outcome=CollectionOutcome.NO_SHOW
    )
    return ResultReview.objects.get(specimen=specimen)


def test_reviews_are_scoped_restricted_audited_and_listed_in_constant_queries(
    clinic, client, panel, django_assert_max_num_queries
):
    review = _no_show_review(clinic)
    assert api(client, clinic.clinician_elsewhere).get("/api/v1/test-reviews/").json()["results"] == []
    peer = api(client, clinic.peer_support)
    assert peer.get("/api/v1/test-reviews/").status_code == 403
    assert peer.get(f"/api/v1/test-reviews/{review.public_id}/").status_code == 404
    assert (
        peer.post(f"/api/v1/test-reviews/{review.public_id}/respond/", {"actions": ["discuss"]}).status_code
        == 404
    )
    clinician = api(client, clinic.clinician_on_team)
    with django_assert_max_num_queries(20) as few:
        rows = clinician.get("/api/v1/test-reviews/?open=true").json()["results"]
    assert [(row["id"], row["trigger"], row["reviewed_at"]) for row in rows] == [
        (str(review.public_id), "no_show", None)
    ]
    assert AuditEntry.objects.filter(
        actor=clinic.clinician_on_team, patient_public_id=clinic.patient.public_id
    ).exists()
    for _ in range(4):
        patient = PatientFactory(site=clinic.site_a)
        admit(patient, team={"primary_clinician": clinic.clinician_on_team, "medical": clinic.medical})
        _no_show_review(clinic, patient)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(clinician.get("/api/v1/test-reviews/?open=true").json()["results"]) == 5
    assert clinician.get(f"/api/v1/test-reviews/?patient={clinic.patient.public_id}").json()["count"] == 1


def test_a_clinician_responds_to_a_review_through_the_api_once(clinic, client, panel):
    review = _no_show_review(clinic)
    url = f"/api/v1/test-reviews/{review.public_id}/respond/"
    assert (
        api(client, clinic.case_manager).post(url, {"actions": ["discuss"]}, format="json").status_code == 403
    )
    clinician = api(client, clinic.clinician_on_team)
    for bad in ({}, {"actions": []}, {"actions": ["punish"]}, {"actions": ["increase_testing"]}):
        response = clinician.post(url, bad, format="json")
        assert response.status_code == 400, bad
    response = clinician.post(
        url,
        {
            "actions": ["increase_testing", "discuss"],
            "note": "Talked it through.",
            "increased_tests_per_week": "3",
            "increased_until": str(datetime.date.today() + datetime.timedelta(days=28)),
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["reviewed_by"] == clinic.clinician_on_team.username
    assert body["actions"] == ["increase_testing", "discuss"] and body["increased_tests_per_week"] == "3.0"
    review.refresh_from_db()
    assert review.alert.resolved_at is not None
    assert AuditEntry.objects.filter(object_type="testing.resultreview", action="update").exists()
    again = clinician.post(url, {"actions": ["discuss"]}, format="json")
    assert again.status_code == 400 and "non_field_errors" in again.json()
