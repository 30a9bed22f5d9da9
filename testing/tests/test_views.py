"""Testing pages through the client: access per persona, forms with bad input, audited reads,
constant query counts."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from conftest import PERSONAS
from iop.audit.models import AuditEntry
from patients.models import Episode
from patients.tests.factories import PatientFactory, admit
from testing.models import (
    CollectionOutcome,
    DrugTestOrder,
    OrderKind,
    OrderStatus,
    ResultOutcome,
    ResultReview,
    ResultStage,
    Specimen,
)
from testing.services import collection, draws
from testing.tests.factories import AnalyteFactory, PanelFactory, PolicyFactory

NY = ZoneInfo("America/New_York")
COLLECTORS = {
    "clinician_on_team",
    "case_manager",
    "medical",
    "supervisor",
    "admin",
}  # on the team or whole site
READS_RESULTS = {"clinician_on_team", "case_manager", "medical", "supervisor", "admin"}


@pytest.fixture
def panel(clinic):
    panel = PanelFactory(name="Cup")
    AnalyteFactory(panel=panel, code="thc", name="THC", screen_cutoff=50)
    AnalyteFactory(
        panel=panel, code="bup", name="Buprenorphine", screen_cutoff=10, explained_by=["buprenorphine"]
    )
    PolicyFactory(phase=clinic.episode.current_phase, panel=panel)
    return panel


@pytest.fixture
def order(clinic, panel):
    return collection.order_test(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        kind=OrderKind.FOR_CAUSE,
        reason="Smelled of alcohol",
        due_on=datetime.date.today(),
    )


@pytest.fixture
def specimen(clinic, order):
    return collection.record_collection(
        actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED, temperature_c="35"
    )


def positive_thc(clinic, specimen, panel):
    collection.record_result(
        actor=clinic.medical,
        specimen=specimen,
        analyte=panel.analytes.get(code="thc"),
        stage=ResultStage.SCREEN,
        device_or_assay="Cup",
        outcome=ResultOutcome.POSITIVE,
    )


def test_the_tests_tab_shows_orders_collections_and_results_and_says_it_is_not_dot(
    clinic, client, specimen, panel
):
    positive_thc(clinic, specimen, panel)
    client.force_login(clinic.clinician_on_team)
    response = client.get(reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "not a DOT random testing" in page
    assert "For cause" in page and "Smelled of alcohol" in page
    assert "THC" in page and "unexpected" in page
    assert "derived from" in page  # the sobriety date with its evidence
    assert AuditEntry.objects.filter(patient_public_id=clinic.patient.public_id, action="read").exists()


def test_peer_support_sees_the_orders_but_not_the_results(clinic, client, specimen, panel):
    positive_thc(clinic, specimen, panel)
    client.force_login(clinic.peer_support)
    page = client.get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"])
    ).content.decode()
    assert "For cause" in page
    assert "THC" not in page and "Smelled of alcohol" not in page and "validity" not in page


def test_the_tests_tab_has_a_constant_query_count(clinic, client, panel, django_assert_max_num_queries):
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"])
    for _ in range(2):
        order = collection.order_test(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            kind=OrderKind.SCHEDULED,
            due_on=datetime.date.today(),
        )
        collected = collection.record_collection(
            actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED
        )
        positive_thc(clinic, collected, panel)
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _ in range(6):
        order = collection.order_test(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            kind=OrderKind.SCHEDULED,
            due_on=datetime.date.today(),
        )
        collected = collection.record_collection(
            actor=clinic.medical, order=order, outcome=CollectionOutcome.COLLECTED
        )
        positive_thc(clinic, collected, panel)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


@pytest.fixture
def worklist_day(clinic, panel, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 7, 0, tzinfo=NY), tick=False)
    Episode.objects.filter(pk=clinic.episode.pk).update(admitted_on=datetime.date(2026, 2, 16))
    for _ in range(5):
        admit(PatientFactory(site=clinic.site_a), admitted_on=datetime.date(2026, 2, 16))  # k = 10: selected
    return draws.run_daily_draw(site=clinic.site_a, day=datetime.date(2026, 3, 2)).draw


def test_the_worklist_lists_todays_selections_the_user_sees(clinic, client, worklist_day):
    client.force_login(clinic.admin)
    page = client.get(reverse("testing:worklist")).content.decode()
    assert page.count('data-testid="collect-link"') == worklist_day.selected_count == 6
    assert "not a DOT random testing" in page and "6 of 6 patients selected" in page
    client.force_login(clinic.clinician_on_team)  # sees only their own patient
    page = client.get(reverse("testing:worklist")).content.decode()
    assert page.count('data-testid="collect-link"') == 1 and clinic.patient.mrn in page
    assert AuditEntry.objects.filter(
        actor=clinic.clinician_on_team,
        object_type="patients.list.testing_worklist",
        patient_public_id=clinic.patient.public_id,
    ).exists()


def test_the_worklist_has_a_constant_query_count(clinic, client, worklist_day, django_assert_max_num_queries):
    client.force_login(clinic.admin)
    url = reverse("testing:worklist")
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _ in range(10):
        patient = PatientFactory(site=clinic.site_a)
        admit(patient)
        collection.order_test(
            actor=clinic.supervisor,
            patient=patient,
            kind=OrderKind.SCHEDULED,
            due_on=datetime.date(2026, 3, 2),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('data-testid="collect-link"') == 16


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_collection_form_answers_each_persona(clinic, client, order, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("testing:collect", args=[order.public_id]))
    expected = 302 if user is None else (200 if persona in COLLECTORS else 404)
    assert response.status_code == expected


def test_recording_a_collection_through_the_form(clinic, client, order):
    client.force_login(clinic.medical)
    url = reverse("testing:collect", args=[order.public_id])
    response = client.post(
        url, {"outcome": "collected", "specimen_type": "urine", "creatinine": "abc", "ph": "6"}
    )
    assert response.status_code == 200 and "Enter a number" in response.content.decode()
    assert not Specimen.objects.exists()
    response = client.post(
        url,
        {
            "outcome": "collected",
            "specimen_type": "urine",
            "temperature_c": "35",
            "creatinine": "1",
            "specific_gravity": "1.0005",
        },
    )
    assert response.status_code == 302
    specimen = Specimen.objects.get()
    assert specimen.validity == "substituted"
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    response = client.post(url, {"outcome": "collected", "specimen_type": "urine"})
    assert response.status_code == 200 and "already collected" in response.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_result_form_answers_each_persona(clinic, client, specimen, persona):
    user = clinic.persona(persona)
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("testing:result_create", args=[specimen.public_id]))
    allowed = {"clinician_on_team", "medical", "supervisor"}
    expected = 302 if user is None else (200 if persona in allowed else 404)
    assert response.status_code == expected


def test_results_entered_finalised_and_reviewed_through_the_pages(clinic, client, specimen, panel):
    client.force_login(clinic.medical)
    thc = panel.analytes.get(code="thc")
    response = client.post(
        reverse("testing:result_create", args=[specimen.public_id]),
        {"analyte": str(thc.public_id), "stage": "screen", "device_or_assay": "", "outcome": "positive"},
    )
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(
        reverse("testing:result_create", args=[specimen.public_id]),
        {
            "analyte": str(thc.public_id),
            "stage": "screen",
            "device_or_assay": "Cup",
            "outcome": "positive",
            "lot": "L1",
        },
    )
    assert response.status_code == 302
    assert client.post(reverse("testing:finalise", args=[specimen.public_id])).status_code == 404  # medical
    client.force_login(clinic.clinician_on_team)
    assert client.post(reverse("testing:finalise", args=[specimen.public_id])).status_code == 302
    review = ResultReview.objects.get()
    chart = client.get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "tests"])
    ).content.decode()
    assert reverse("testing:review", args=[review.public_id]) in chart
    page = client.get(reverse("testing:review", args=[review.public_id])).content.decode()
    assert "not by punishment" in page
    response = client.post(
        reverse("testing:review", args=[review.public_id]), {"actions": ["discuss"], "note": "Talked"}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.reviewed_by == clinic.clinician_on_team


def test_the_review_page_is_404_outside_the_care_team(clinic, client, order):
    collection.record_collection(actor=clinic.medical, order=order, outcome=CollectionOutcome.REFUSED)
    review = ResultReview.objects.get()
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(reverse("testing:review", args=[review.public_id])).status_code == 404
    client.force_login(clinic.peer_support)
    assert client.get(reverse("testing:review", args=[review.public_id])).status_code == 404


def test_admins_verify_their_sites_draws_only(clinic, client, worklist_day):
    client.force_login(clinic.admin)
    page = client.get(reverse("testing:draw_list")).content.decode()
    assert reverse("testing:draw_detail", args=[worklist_day.public_id]) in page
    page = client.get(reverse("testing:draw_detail", args=[worklist_day.public_id])).content.decode()
    assert "Selections recomputed" in page
    assert worklist_day.key.secret not in page  # sealed until the month has ended
    client.force_login(clinic.admin_other_site)
    assert client.get(reverse("testing:draw_detail", args=[worklist_day.public_id])).status_code == 404


def test_an_admin_runs_a_missed_draw_through_the_page(clinic, client, worklist_day):
    client.force_login(clinic.admin)
    url = reverse("testing:draw_run")
    response = client.post(url, {"site": str(clinic.site_a.public_id), "day": "2026-03-01", "reason": "Down"})
    assert response.status_code == 200 and "closed on Sundays" in response.content.decode()
    response = client.post(
        url, {"site": str(clinic.site_a.public_id), "day": "2026-02-27", "reason": "Server down"}
    )
    assert response.status_code == 302
    assert DrugTestOrder.objects.filter(selection__draw__date=datetime.date(2026, 2, 27)).exists()
    response = client.post(url, {"site": str(clinic.site_b.public_id), "day": "2026-02-27", "reason": "x"})
    assert response.status_code == 200  # not one of this admin's sites


def test_an_admin_previews_then_saves_a_phase_policy(clinic, client, panel):
    phase = clinic.episode.current_phase
    client.force_login(clinic.admin)
    url = reverse("testing:policy_edit", args=[phase.public_id])
    page = client.get(url).content.decode()
    assert 'data-testid="policy-preview"' in page and "Tests a week" in page
    values = {
        "ramp": "1",
        "panel": str(panel.public_id),
        "specimen_type": "urine",
        "refusal_counts_as": "positive",
        "no_show_counts_as": "missed",
        "preview": "1",
    }
    response = client.post(url, values)
    assert response.status_code == 200
    assert phase.testing_policy.ramp == 2  # a preview saves nothing
    assert "Preview with a ramp of 1" in response.content.decode()
    response = client.post(url, {**values, "ramp": "9", "save": "1"})
    assert response.status_code == 200 and "maximum of 5" in response.content.decode()
    response = client.post(url, {**values, "save": "1"})
    assert response.status_code == 302
    phase.testing_policy.refresh_from_db()
    assert (phase.testing_policy.ramp, phase.testing_policy.no_show_counts_as) == (1, "missed")
    assert AuditEntry.objects.filter(object_type="testing.testingpolicy", actor=clinic.admin).exists()
    client.force_login(clinic.clinician_on_team)
    assert client.get(url).status_code == 404
    assert client.get(reverse("testing:policy_list")).status_code == 404


def test_the_site_report_counts_compliance_and_unexpected_positives_per_week(
    clinic, client, worklist_day, panel, django_assert_max_num_queries
):
    orders = list(DrugTestOrder.objects.filter(selection__draw=worklist_day).order_by("pk"))
    collected = collection.record_collection(
        actor=clinic.supervisor, order=orders[0], outcome=CollectionOutcome.COLLECTED
    )
    collection.record_collection(actor=clinic.supervisor, order=orders[1], outcome=CollectionOutcome.NO_SHOW)
    collection.record_result(
        actor=clinic.supervisor,
        specimen=collected,
        analyte=panel.analytes.get(code="thc"),
        stage=ResultStage.SCREEN,
        device_or_assay="Cup",
        outcome=ResultOutcome.POSITIVE,
    )
    collection.finalise_results(actor=clinic.supervisor, specimen=collected)
    client.force_login(clinic.supervisor)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("testing:site_report"))
    report = response.context["report"]
    assert report.weeks[-1] == "2026-03-02"
    assert (report.selected[-1], report.collected[-1], report.not_collected[-1]) == (6, 1, 1)
    assert report.positivity == {"THC": [None] * 11 + [1.0]}
    assert 'id="testing-report-data"' in response.content.decode()
    client.force_login(clinic.clinician_on_team)
    assert client.get(reverse("testing:site_report")).status_code == 404
