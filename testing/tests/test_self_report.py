"""Structured self-report of last use: recorded by clinicians and medical staff on the care team,
never edited, and weighed with the confirmed results in the derived sobriety date."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from conftest import PERSONAS
from iop.audit.models import AuditEntry
from patients.models import Episode
from testing import selectors
from testing.models import (
    CollectionOutcome,
    OrderKind,
    ResultOutcome,
    ResultStage,
    SelfReportedUse,
    Substance,
)
from testing.services import collection, self_reports
from testing.tests.factories import AnalyteFactory, PanelFactory, PolicyFactory

TODAY = datetime.date.today()


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


@pytest.fixture
def admitted_a_month_ago(clinic):
    Episode.objects.filter(pk=clinic.episode.pk).update(admitted_on=days_ago(30))
    clinic.patient.refresh_from_db()
    return clinic.patient


def report(clinic, last_used_on, **extra):
    return self_reports.record_self_report(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        substance=extra.pop("substance", Substance.ALCOHOL),
        last_used_on=last_used_on,
        **extra,
    )


def confirmed_positive(clinic, days):
    panel = PanelFactory(name=f"Cup {days}")
    thc = AnalyteFactory(panel=panel, code="thc", name="THC", screen_cutoff=50, confirmation_cutoff=15)
    PolicyFactory(phase=clinic.episode.current_phase, panel=panel)
    order = collection.order_test(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind=OrderKind.SCHEDULED,
        due_on=days_ago(days),
    )
    specimen = collection.record_collection(
        actor=clinic.medical,
        order=order,
        outcome=CollectionOutcome.COLLECTED,
        collected_at=datetime.datetime.combine(days_ago(days), datetime.time(12), tzinfo=datetime.UTC),
    )
    collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=thc,
        stage=ResultStage.CONFIRMATION,
        device_or_assay="Lab",
        value=40,
        outcome=ResultOutcome.POSITIVE,
    )
    collection.finalise_results(actor=clinic.clinician_on_team, specimen=specimen)
    return specimen


def test_without_evidence_the_sobriety_date_is_the_admission(clinic, admitted_a_month_ago):
    evidence = selectors.sobriety_date(clinic.patient)
    assert evidence.since == days_ago(30) and "admission" in evidence.evidence


def test_a_self_reported_last_use_sets_the_date_with_its_evidence(clinic, admitted_a_month_ago):
    made = report(clinic, days_ago(40), reported_on=days_ago(30), note="At intake")
    evidence = selectors.sobriety_date(clinic.patient)
    assert evidence.since == days_ago(39)
    assert evidence.self_report == made and "self-reported use of alcohol" in evidence.evidence
    assert str(clinic.clinician_on_team) in evidence.evidence
    assert AuditEntry.objects.filter(
        object_type="testing.selfreporteduse", patient_public_id=clinic.patient.public_id
    ).exists()
    # a later disclosure of use moves it; an earlier one does not
    report(clinic, days_ago(10), substance=Substance.CANNABIS)
    report(clinic, days_ago(20))
    assert selectors.sobriety_date(clinic.patient).since == days_ago(9)


def test_the_latest_of_reported_use_and_confirmed_positive_decides(clinic, admitted_a_month_ago):
    report(clinic, days_ago(12))
    confirmed_positive(clinic, 5)
    evidence = selectors.sobriety_date(clinic.patient)
    assert evidence.since == days_ago(4) and "confirmed positive" in evidence.evidence
    report(clinic, days_ago(2), substance=Substance.OPIOIDS)
    evidence = selectors.sobriety_date(clinic.patient)
    assert evidence.since == days_ago(1) and "opioids" in evidence.evidence


def test_bad_self_reports_are_refused_and_nothing_is_saved(clinic):
    for bad in (
        {"last_used_on": None},
        {"last_used_on": days_ago(1), "reported_on": days_ago(3)},
        {"last_used_on": days_ago(1), "reported_on": TODAY + datetime.timedelta(days=1)},
        {"last_used_on": days_ago(1), "substance": "glue"},
    ):
        with pytest.raises(ValidationError):
            report(clinic, **bad)
    with pytest.raises(PermissionError):
        self_reports.record_self_report(
            actor=clinic.clinician_elsewhere, patient=clinic.patient, substance="alcohol", last_used_on=TODAY
        )
    with pytest.raises(PermissionError):
        self_reports.record_self_report(
            actor=clinic.peer_support, patient=clinic.patient, substance="alcohol", last_used_on=TODAY
        )
    assert not SelfReportedUse.objects.exists()


def test_a_self_report_is_never_edited(clinic):
    made = report(clinic, days_ago(3))
    made.note = "changed"
    with pytest.raises(PermissionError):
        made.save()
    with pytest.raises(PermissionError):
        SelfReportedUse.objects.filter(pk=made.pk).update(note="changed")


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_self_report_page_is_for_clinicians_and_medical_staff_on_the_team(clinic, client, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    url = reverse("testing_chart:self_report", args=[clinic.patient.public_id])
    response = client.get(url)
    expected = {"clinician_on_team": 200, "medical": 200, "supervisor": 200, "anonymous": 302}
    assert response.status_code == expected.get(persona, 404), persona  # role_required answers 404


def test_recording_a_self_report_through_the_page(clinic, client, admitted_a_month_ago):
    client.force_login(clinic.medical)
    url = reverse("testing_chart:self_report", args=[clinic.patient.public_id])
    bad = client.post(
        url,
        {
            "substance": "alcohol",
            "last_used_on": str(TODAY),
            "reported_on": str(days_ago(1)),
            "reported_to": clinic.medical.username,
        },
    )
    assert bad.status_code == 200 and "cannot be after" in bad.content.decode()
    response = client.post(
        url,
        {
            "substance": "stimulants",
            "last_used_on": str(days_ago(6)),
            "reported_on": str(days_ago(1)),
            "reported_to": clinic.clinician_on_team.username,
        },
    )
    assert response.status_code == 302
    made = SelfReportedUse.objects.get()
    assert made.reported_to == clinic.clinician_on_team and made.recorded_by == clinic.medical
    tab = client.get(reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"])).content.decode()
    assert "self-reported use of stimulants" in tab and days_ago(5).strftime("%b") in tab


def test_self_reports_through_the_api(clinic, django_assert_max_num_queries):
    def api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    body = {
        "patient": str(clinic.patient.public_id),
        "substance": "alcohol",
        "last_used_on": str(days_ago(3)),
    }
    assert (
        api(clinic.peer_support).post("/api/v1/self-reported-uses/", body, format="json").status_code == 403
    )
    assert (
        api(clinic.case_manager).post("/api/v1/self-reported-uses/", body, format="json").status_code == 403
    )
    elsewhere = api(clinic.clinician_elsewhere).post("/api/v1/self-reported-uses/", body, format="json")
    assert elsewhere.status_code == 400 and "patient" in elsewhere.json()
    medical = api(clinic.medical)
    for bad in (
        {**body, "last_used_on": str(TODAY + datetime.timedelta(days=1))},
        {**body, "substance": "glue"},
        {**body, "reported_to": "nobody"},
    ):
        assert medical.post("/api/v1/self-reported-uses/", bad, format="json").status_code == 400, bad
    response = medical.post(
        "/api/v1/self-reported-uses/",
        {**body, "reported_to": clinic.clinician_on_team.username},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["reported_to"] == clinic.clinician_on_team.username
    assert response.json()["recorded_by"] == clinic.medical.username
    assert api(clinic.peer_support).get("/api/v1/self-reported-uses/").status_code == 403
    assert api(clinic.clinician_elsewhere).get("/api/v1/self-reported-uses/").json()["results"] == []
    clinician = api(clinic.clinician_on_team)
    with django_assert_max_num_queries(20):
        rows = clinician.get(f"/api/v1/self-reported-uses/?patient={clinic.patient.public_id}").json()[
            "results"
        ]
    assert [row["last_used_on"] for row in rows] == [str(days_ago(3))]
    assert selectors.sobriety_date(clinic.patient).since == days_ago(2)
