"""The query budget of the pages `make bench` measures (docs/decisions/0009-performance-budget.md).

Each page makes at most its budgeted number of queries, and the same number with 5 and with 25
rows behind it (patients on the caseload, referrals in the queue, results in the chart), so its
cost does not grow with the clinic. Timings are the benchmark's job, not the tests'.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import (
    AsamAssessment,
    AsamEdition,
    CareTeamRole,
    ClinicalAlert,
    InstrumentResponse,
    Referral,
)
from patients.services.intake import record_referral
from patients.tests.factories import PatientFactory, admit

# The most queries each page may make, counted as the tests see them: the session, the user and
# the session save included, and two savepoint statements for the audited read (inside the test's
# transaction; in production it is the request's only transaction). Lower them when a change makes
# a page cheaper; raising one needs a reason in the commit message. Before ADR 0009: home 10,
# patient list 25 (admin 23), chart 35, an intake patient's chart 38, phases 19, consents 24,
# intake queue 18, API patients 19, API patient 16, API episodes 20, API referrals 17.
BUDGET = {
    # 10 before the plans-due card (3: due notices, their episodes' patients, the count) and today's
    # sessions (1) joined the clinician's home; both are constant in the caseload's size.
    "home": 14,
    # The case manager's scheduled-hours card reads each caseload patient's phase requirement from
    # the caseload's own row (83 queries at 0.1 scale before: one deferred read per patient).
    "home, case manager": 12,
    "patient list": 15,
    "patient list, search": 15,
    "patient list, admin": 13,
    "chart": 21,
    "chart, intake patient": 25,
    "chart, phases": 13,
    "consents": 16,
    "intake queue": 12,
    "API patients": 12,
    "API patient": 10,
    "API episodes": 13,
    "API referrals": 12,
}


def add_team_patients(clinic, count: int) -> None:
    for _ in range(count):
        admit(
            PatientFactory(site=clinic.site_a),
            team={
                CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team,
                CareTeamRole.CASE_MANAGER: clinic.case_manager,
            },
        )


def add_referrals(clinic, count: int) -> None:
    for _ in range(count):
        person = PatientFactory.build()
        record_referral(
            actor=clinic.clinician_on_team,
            site=clinic.site_a,
            new_patient={
                "legal_first_name": person.legal_first_name,
                "legal_last_name": person.legal_last_name,
                "date_of_birth": person.date_of_birth,
            },
            confirmed_new_person=True,
            source="self",
            reason="Alcohol use",
            urgency="routine",
        )


def add_history(clinic, count: int) -> None:
    """Screening history, ASAM assessments and alerts on the clinic's patient."""
    patient = clinic.patient
    for n in range(count):
        InstrumentResponse.objects.create(
            patient=patient,
            instrument_code=("phq-9", "gad-7", "audit")[n % 3],
            instrument_version="test",
            answers={},
            total=n % 20,
            band="mild",
            administered_at=timezone.now() - datetime.timedelta(days=n + 1),
            administered_by=clinic.clinician_on_team,
        )
    for n in range(count // 5):
        AsamAssessment.objects.create(
            patient=patient,
            assessed_by=clinic.clinician_on_team,
            assessed_at=timezone.now() - datetime.timedelta(days=n + 1),
            edition=AsamEdition.values[0],
            ratings={str(dimension): 1 for dimension in range(1, 7)},
            recommended_level="2.1",
            chosen_level="2.1",
        )
        ClinicalAlert.objects.create(patient=patient, kind="other", message=f"Alert {n}")


def pages(clinic) -> dict:
    """{budget name: (who, url, how to add rows behind it)}."""
    chart = reverse("patients:chart", args=[clinic.patient.public_id])
    return {
        "home": (clinic.clinician_on_team, reverse("home"), add_team_patients),
        "home, case manager": (clinic.case_manager, reverse("home"), add_team_patients),
        "patient list": (clinic.clinician_on_team, reverse("patients:list"), add_team_patients),
        "patient list, search": (
            clinic.clinician_on_team,
            reverse("patients:list") + "?q=Testpatient",
            add_team_patients,
        ),
        "patient list, admin": (clinic.admin, reverse("patients:list"), add_team_patients),
        "chart": (clinic.clinician_on_team, chart, add_history),
        "chart, phases": (clinic.clinician_on_team, f"{chart}phases/", add_history),
        "consents": (
            clinic.clinician_on_team,
            reverse("patients:consent_list", args=[clinic.patient.public_id]),
            add_history,
        ),
        "intake queue": (clinic.clinician_on_team, reverse("patients:intake_queue"), add_referrals),
        "API patients": (clinic.clinician_on_team, "/api/v1/patients/", add_team_patients),
        "API patient": (
            clinic.clinician_on_team,
            f"/api/v1/patients/{clinic.patient.public_id}/",
            add_history,
        ),
        "API episodes": (clinic.clinician_on_team, "/api/v1/episodes/", add_team_patients),
        "API referrals": (clinic.clinician_on_team, "/api/v1/referrals/", add_referrals),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", [name for name in BUDGET if name != "chart, intake patient"])
def test_page_stays_within_its_query_budget_at_5_and_25_rows(name, clinic, client, query_count):
    user, url, add_rows = pages(clinic)[name]
    client.force_login(user)
    add_rows(clinic, 5)
    assert client.get(url).status_code == 200  # warm up: the first audited read makes the chain head
    at_five = query_count(lambda: client.get(url))
    add_rows(clinic, 20)
    at_twenty_five = query_count(lambda: client.get(url))
    assert at_twenty_five == at_five, f"{name}: {at_five} queries with 5 rows, {at_twenty_five} with 25"
    assert at_five <= BUDGET[name], f"{name}: {at_five} queries, budget {BUDGET[name]}"


@pytest.mark.django_db
def test_intake_chart_stays_within_its_query_budget(clinic, client, query_count):
    """A person in intake (open referral, screening under way) seen by an intake clinician."""
    add_referrals(clinic, 1)
    referral = Referral.objects.get(patient__legal_first_name__isnull=False, status="open")
    url = reverse("patients:chart", args=[referral.patient.public_id])
    client.force_login(clinic.clinician_elsewhere)  # not on any care team: the intake pool
    assert client.get(url).status_code == 200
    queries = query_count(lambda: client.get(url))
    assert queries <= BUDGET["chart, intake patient"], f"{queries} queries"


@pytest.mark.django_db
def test_a_later_page_of_the_patient_list_costs_the_same_whatever_comes_before(clinic, client, query_count):
    """Past page 1 the page's pks are read first, then those rows (one query more than page 1,
    however many rows are skipped)."""
    client.force_login(clinic.admin)
    add_team_patients(clinic, 30)
    url = reverse("patients:list") + "?page=2"
    assert client.get(url).status_code == 200
    after_25 = query_count(lambda: client.get(url))
    add_team_patients(clinic, 30)
    url = reverse("patients:list") + "?page=3"
    after_50 = query_count(lambda: client.get(url))
    assert after_50 == after_25 <= BUDGET["patient list, admin"] + 1
    response = client.get(url)
    names = [patient.legal_last_name for patient in response.context["page"].object_list]
    assert len(names) == 11 and names == sorted(names)  # 61 patients: page 3 holds the last 11, in order
