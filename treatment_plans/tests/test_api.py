"""The plan API: lifecycle, immutability of signed versions, access, errors, query counts."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from iop.audit.models import AuditEntry
from treatment_plans.models import PlanVersion, VersionStatus
from treatment_plans.tests.factories import active_plan

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_the_whole_plan_lifecycle_through_the_api(clinic):
    clinician = api(clinic.clinician_on_team)
    response = clinician.post(
        "/api/v1/treatment-plans/",
        {"patient": str(clinic.patient.public_id), "templates": ["relapse-prevention"]},
    )
    assert response.status_code == 201, response.json()
    plan = response.json()
    (version,) = plan["versions"]
    assert version["status"] == "draft"
    tree = clinician.get(f"/api/v1/plan-versions/{version['id']}/").json()
    problem = tree["problems"][0]
    goal = clinician.post("/api/v1/plan-goals/", {"problem": problem["id"], "text": "Stay sober for my kids"})
    assert goal.status_code == 201, goal.json()
    target = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    objective = clinician.post(
        "/api/v1/plan-objectives/",
        {"goal": goal.json()["id"], "text": "List 5 triggers", "target_date": target},
    )
    assert objective.status_code == 201, objective.json()
    intervention = clinician.post(
        "/api/v1/plan-interventions/",
        {
            "objective": objective.json()["id"],
            "service_type": "relapse_prevention",
            "frequency": "twice a week",
            "duration": "3 hours",
            "responsible_role": "clinician",
        },
    )
    assert intervention.status_code == 201, intervention.json()
    # No PATCH (every PATCH carries a row version; plan items have none): remove and add again.
    assert clinician.patch(f"/api/v1/plan-goals/{goal.json()['id']}/", {"text": "x"}).status_code == 405
    submitted = clinician.post(f"/api/v1/plan-versions/{version['id']}/submit/", {})
    assert submitted.status_code == 200 and submitted.json()["status"] == "awaiting_signatures"
    digest = submitted.json()["content_digest"]
    name = f"{clinic.patient.legal_first_name} {clinic.patient.legal_last_name}"
    sign = f"/api/v1/plan-versions/{version['id']}/sign/"
    assert (
        clinician.post(
            sign, {"signer_role": "patient", "content_digest": digest, "patient_typed_name": name}
        ).status_code
        == 201
    )
    assert (
        clinician.post(sign, {"signer_role": "primary_clinician", "content_digest": digest}).status_code
        == 201
    )
    done = api(clinic.supervisor).post(sign, {"signer_role": "clinical_supervisor", "content_digest": digest})
    assert done.status_code == 201 and done.json()["status"] == "active"
    assert [s["signer_role"] for s in done.json()["signatures"]] == [
        "patient",
        "primary_clinician",
        "clinical_supervisor",
    ]
    review = clinician.post(
        "/api/v1/plan-reviews/",
        {
            "plan": plan["id"],
            "reviewed_on": timezone.localdate().isoformat(),
            "summary": "Engaged",
            "progress": [
                {"objective": objective.json()["id"], "status": "in_progress", "progress_percent": 30}
            ],
        },
    )
    assert review.status_code == 201, review.json()
    revised = clinician.post(
        f"/api/v1/treatment-plans/{plan['id']}/revise/", {"change_summary": "Add housing"}
    )
    assert (
        revised.status_code == 201 and revised.json()["number"] == 2 and revised.json()["status"] == "draft"
    )


def test_no_endpoint_changes_a_signed_version(clinic):
    plan, version = active_plan(clinic)
    clinician = api(clinic.clinician_on_team)
    problem, goal = version.problems.get(), version.goals.get()
    objective, intervention = version.objectives.get(), version.interventions.get()
    attempts = [
        ("post", "/api/v1/plan-problems/", {"version": str(version.public_id), "title": "Smuggled"}),
        ("post", "/api/v1/plan-goals/", {"problem": str(problem.public_id), "text": "x"}),
        (
            "post",
            "/api/v1/plan-objectives/",
            {"goal": str(goal.public_id), "text": "x", "target_date": "2030-01-01"},
        ),
        (
            "post",
            "/api/v1/plan-interventions/",
            {
                "objective": str(objective.public_id),
                "service_type": "other",
                "frequency": "x",
                "duration": "y",
                "responsible_role": "patient",
            },
        ),
        ("delete", f"/api/v1/plan-interventions/{intervention.public_id}/", None),
        ("delete", f"/api/v1/plan-problems/{problem.public_id}/", None),
        ("post", f"/api/v1/plan-versions/{version.public_id}/submit/", {}),
    ]
    for method, url, body in attempts:
        response = getattr(clinician, method)(url, body, format="json")
        assert response.status_code == 400, (url, response.status_code)
        assert "never changes" in str(response.json()), url
    version.refresh_from_db()
    assert version.status == VersionStatus.ACTIVE
    assert version.problems.get().title == problem.title
    assert version.interventions.count() == 1


def test_reads_are_scoped_and_audited(clinic):
    plan, version = active_plan(clinic)
    before = AuditEntry.objects.filter(action="read").count()
    peer = api(clinic.peer_support)
    listed = peer.get(f"/api/v1/treatment-plans/?patient={clinic.patient.public_id}")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert peer.get(f"/api/v1/plan-versions/{version.public_id}/").status_code == 200
    assert AuditEntry.objects.filter(action="read").count() == before + 2
    outsider = api(clinic.clinician_elsewhere)
    assert outsider.get(f"/api/v1/treatment-plans/{plan.public_id}/").status_code == 404
    assert outsider.get(f"/api/v1/plan-versions/{version.public_id}/").status_code == 404
    assert outsider.get(f"/api/v1/treatment-plans/?patient={clinic.patient.public_id}").status_code == 404
    assert api(None).get(f"/api/v1/treatment-plans/{plan.public_id}/").status_code == 401


def test_bad_requests_are_4xx_json(clinic):
    clinician = api(clinic.clinician_on_team)
    assert clinician.get("/api/v1/treatment-plans/").status_code == 400
    assert clinician.get("/api/v1/treatment-plans/?patient=nope").status_code == 400
    response = clinician.post(
        "/api/v1/plan-goals/", {"problem": "8d6c1f8e-0000-4000-8000-000000000000", "text": "x"}
    )
    assert response.status_code == 400 and "problem" in response.json()
    assert (
        clinician.post(
            "/api/v1/treatment-plans/", {"patient": str(clinic.patient.public_id), "templates": ["nope"]}
        ).status_code
        == 400
    )
    peer = api(clinic.peer_support)
    refused = peer.post("/api/v1/treatment-plans/", {"patient": str(clinic.patient.public_id)})
    assert refused.status_code == 403 and not PlanVersion.objects.exists()


def test_sign_with_a_stale_digest_is_refused(clinic):
    from treatment_plans import services
    from treatment_plans.tests.factories import complete_draft

    plan, version = complete_draft(clinic)
    services.submit_for_signatures(actor=clinic.clinician_on_team, version=version)
    response = api(clinic.clinician_on_team).post(
        f"/api/v1/plan-versions/{version.public_id}/sign/",
        {"signer_role": "primary_clinician", "content_digest": "x"},
    )
    assert response.status_code == 400 and not version.signatures.exists()


def test_list_endpoints_make_a_constant_number_of_queries(clinic, django_assert_max_num_queries):
    plan, version = active_plan(clinic)
    from treatment_plans import services

    for _ in range(3):
        services.record_review(
            actor=clinic.clinician_on_team,
            plan=plan,
            reviewed_on=timezone.localdate(),
            summary="ok",
            progress={
                o.public_id: {"status": "met", "progress_percent": 100} for o in version.objectives.all()
            },
        )
    client = api(clinic.clinician_on_team)
    with django_assert_max_num_queries(25):
        assert client.get(f"/api/v1/treatment-plans/?patient={clinic.patient.public_id}").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(f"/api/v1/plan-reviews/?patient={clinic.patient.public_id}").json()["count"] == 3
