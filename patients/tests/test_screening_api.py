"""The screening API: definitions, scoring without saving (and its 400s naming each bad item), the
ASAM recommendation, and the instrument-response and ASAM-assessment resources."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from iop.accounts.tests.factories import api_token_for
from iop.audit.models import AuditAction, AuditEntry
from patients.instruments import Band
from patients.models import AsamAssessment, ClinicalAlert, InstrumentResponse
from patients.services import screening as services
from patients.tests.factories import PatientFactory, admit
from patients.tests.test_screening_services import PHQ9_ITEM9_POSITIVE

pytestmark = pytest.mark.django_db

CODES = ["phq-9", "gad-7", "audit", "audit-c", "dast-10", "cage", "ciwa-ar", "cows", "c-ssrs"]


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return api


def score(api, code, body):
    return api.post(f"/api/v1/instruments/{code}/score/", body, format="json")


# --- definitions ------------------------------------------------------------------------------


def test_instruments_are_listed_with_items_and_legal_values(clinic, api):
    as_user(api, clinic.peer_support)
    body = api.get("/api/v1/instruments/").json()
    assert [row["code"] for row in body] == CODES
    phq9 = body[0]
    assert phq9["max_total"] == 27 and [band["name"] for band in phq9["bands"]][0] == "minimal"
    item9 = next(item for item in phq9["items"] if item["key"] == "9")
    assert item9["legal_values"] == [0, 1, 2, 3] and item9["options"][1] == {
        "label": "Several days",
        "value": 1,
        "points": 1,
    }
    dast = next(row for row in body if row["code"] == "dast-10")
    item3 = next(item for item in dast["items"] if item["key"] == "3")
    assert item3["kind"] == "yes_no" and item3["legal_values"] == [True, False]
    assert [option["points"] for option in item3["options"]] == [0, 1]  # reverse scored
    assert dast["credit_line"]
    cssrs = next(row for row in body if row["code"] == "c-ssrs")
    assert cssrs["has_total"] is False and cssrs["max_total"] is None
    assert next(item for item in cssrs["items"] if item["key"] == "6a")["asked_when"] == {
        "item": "6",
        "answer": True,
    }
    cows = api.get("/api/v1/instruments/cows/").json()
    assert next(item for item in cows["items"] if item["key"] == "11")["legal_values"] == [0, 3, 5]


@override_settings(DAST10_LICENCE_CONFIRMED=False)
def test_dast_10_is_not_offered_without_a_confirmed_licence(clinic, api):
    as_user(api, clinic.clinician_on_team)
    codes = [row["code"] for row in api.get("/api/v1/instruments/").json()]
    assert "dast-10" not in codes and len(codes) == 8
    assert api.get("/api/v1/instruments/dast-10/").status_code == 404
    assert score(api, "dast-10", {"answers": {}}).status_code == 404


def test_unknown_instrument_is_a_404_json(clinic, api):
    as_user(api, clinic.clinician_on_team)
    response = score(api, "bdi-ii", {"answers": {"1": 0}})
    assert response.status_code == 404 and "detail" in response.json()


# --- scoring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, body, expected",
    [
        (
            "phq-9",
            {"answers": PHQ9_ITEM9_POSITIVE},
            {"total": 1, "band": "minimal", "flags": ["suicide_risk"]},
        ),
        (
            "gad-7",
            {"answers": {str(n): 2 for n in range(1, 8)}},
            {"total": 14, "band": "moderate", "flags": ["further_evaluation"]},
        ),
        (
            "audit",
            {"answers": {str(n): 0 for n in range(1, 11)}},
            {"total": 0, "band": "low risk (zone I)", "flags": []},
        ),
        (
            "audit-c",
            {"answers": {"1": 1, "2": 1, "3": 1}, "sex": "female"},
            {"total": 3, "band": "positive", "flags": ["positive_screen"]},
        ),
        (
            "audit-c",
            {"answers": {"1": 1, "2": 1, "3": 1}, "sex": "male"},
            {"total": 3, "band": "negative", "flags": []},
        ),
        (
            "dast-10",
            {"answers": {str(n): False for n in range(1, 11)}},
            {"total": 1, "band": "low", "flags": []},
        ),
        (
            "cage",
            {"answers": {"1": True, "2": True, "3": False, "4": False}},
            {"total": 2, "band": "clinically significant", "flags": ["clinically_significant"]},
        ),
        (
            "ciwa-ar",
            {"answers": {**{str(n): 1 for n in range(1, 10)}, "10": 1}},
            {"total": 10, "band": "moderate", "flags": ["withdrawal_management_before_iop"]},
        ),
        ("cows", {"answers": {str(n): 0 for n in range(1, 12)}}, {"total": 0, "band": "none", "flags": []}),
        (
            "c-ssrs",
            {"answers": {"1": True, "2": False, "6": True, "6a": True}},
            {"total": None, "band": "high", "flags": ["high_suicide_risk"]},
        ),
        (
            "c-ssrs",
            {"answers": {"1": True, "2": False, "6": True, "6a": False}},
            {"total": None, "band": "moderate", "flags": []},
        ),
    ],
)
def test_score_returns_total_band_and_flags_without_saving(clinic, api, code, body, expected):
    as_user(api, clinic.peer_support)
    response = score(api, code, body)
    assert response.status_code == 200, response.json()
    assert response.json() == expected
    assert not InstrumentResponse.objects.exists() and not ClinicalAlert.objects.exists()


@pytest.mark.parametrize(
    "code, body, bad_items",
    [
        # an answer outside the legal set (COWS item 1 has no 3), a missing item, an unknown item
        ("cows", {"answers": {**{str(n): 0 for n in range(1, 11)}, "1": 3, "12": 0}}, {"1", "11", "12"}),
        # wrong types: a string, a float, a boolean for a choice item
        ("phq-9", {"answers": {**PHQ9_ITEM9_POSITIVE, "1": "1", "2": 1.5, "3": True}}, {"1", "2", "3"}),
        # yes/no items take booleans
        ("cage", {"answers": {"1": 1, "2": "yes", "3": False, "4": None}}, {"1", "2", "4"}),
        # C-SSRS: 3 must be left unanswered when 2 is No; 6a is needed when 6 is Yes
        ("c-ssrs", {"answers": {"1": False, "2": False, "3": True, "6": True}}, {"3", "6a"}),
        ("ciwa-ar", {"answers": {**{str(n): 0 for n in range(1, 11)}, "10": 5}}, {"10"}),
        ("gad-7", {"answers": {}}, {str(n) for n in range(1, 8)}),
    ],
)
def test_rejected_answers_are_a_400_naming_each_bad_item(clinic, api, code, body, bad_items):
    as_user(api, clinic.clinician_on_team)
    response = score(api, code, body)
    assert response.status_code == 400
    errors = response.json()["answers"]
    assert set(errors) == bad_items
    assert all(isinstance(messages, list) and messages[0] for messages in errors.values())


def test_audit_c_without_a_valid_sex_is_a_400_naming_sex_and_the_items(clinic, api):
    as_user(api, clinic.clinician_on_team)
    response = score(api, "audit-c", {"answers": {"1": 9, "2": 0, "3": 0}, "sex": "other"})
    assert response.status_code == 400
    assert set(response.json()) == {"answers", "sex"} and set(response.json()["answers"]) == {"1"}
    assert score(api, "audit-c", {"answers": {"1": 0, "2": 0, "3": 0}}).status_code == 400


@pytest.mark.parametrize("body", [{}, {"answers": [1, 2]}, {"answers": None}, [], "nonsense"])
def test_malformed_score_bodies_are_a_400_not_a_500(clinic, api, body):
    as_user(api, clinic.clinician_on_team)
    response = score(api, "phq-9", body)
    assert response.status_code == 400 and response.json()


# --- ASAM -------------------------------------------------------------------------------------


def recommend(api, body):
    return api.post("/api/v1/asam/recommend/", body, format="json")


def ratings(*values):
    return {str(d): value for d, value in zip(range(1, 7), values, strict=True)}


@pytest.mark.parametrize(
    "edition, values, level, not_iop",
    [
        ("3", (0, 1, 2, 2, 2, 1), "2.1", False),  # needs more than level 1
        ("4", (0, 1, 2, 2, 2, 1), "2.1", False),
        ("3", (1, 1, 0, 1, 0, 1), "1", False),  # all <= 1: consider level 1
        ("4", (1, 1, 0, 1, 0, 1), "1.5", False),
        ("3", (0, 1, 3, 3, 2, 1), "2.5", False),  # two at 3: consider 2.5 or 3.x
        ("3", (3, 0, 0, 0, 0, 0), "3.7-WM", True),  # D1 = 3: withdrawal management first
        ("3", (4, 0, 0, 0, 0, 0), "4-WM", True),
        ("4", (3, 0, 0, 0, 0, 0), "3.7", True),
        ("3", (0, 0, 4, 1, 1, 1), "3.7", True),  # another dimension at 4
        ("3", (2, 1, 1, 1, 1, 1), "2.1", False),  # D1 = 2: medical review before IOP
    ],
)
def test_asam_recommendation_cases(clinic, api, edition, values, level, not_iop):
    as_user(api, clinic.case_manager)
    response = recommend(api, {"edition": edition, "ratings": ratings(*values)})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["level"] == level and body["not_iop"] is not_iop
    assert body["reasons"] and all(isinstance(reason, str) and reason for reason in body["reasons"])
    assert body["medical_review_before_iop"] is (values[0] == 2)
    assert not AsamAssessment.objects.exists()


def test_asam_reasons_use_the_editions_dimension_names(clinic, api):
    as_user(api, clinic.clinician_on_team)
    third = recommend(api, {"edition": "3", "ratings": ratings(0, 0, 0, 4, 0, 0)}).json()
    fourth = recommend(api, {"edition": "4", "ratings": ratings(0, 0, 0, 4, 0, 0)}).json()
    assert "Readiness to Change" in third["reasons"][0]
    assert "Substance Use-Related Risks" in fourth["reasons"][0]


@pytest.mark.parametrize(
    "body, bad_top, bad_ratings",
    [
        ({"edition": "5", "ratings": ratings(0, 0, 0, 0, 0, 0)}, {"edition"}, set()),
        (
            {"edition": "3", "ratings": {"1": 5, "2": -1, "3": "2", "4": 1.0, "5": 0, "7": 0}},
            set(),
            {"1", "2", "3", "4", "6", "7"},
        ),
        ({"ratings": ratings(0, 0, 0, 0, 0, 0)}, {"edition"}, set()),
        ({"edition": "3"}, {"ratings"}, set()),
        ({"edition": "3", "ratings": [0, 1]}, {"ratings"}, set()),
    ],
)
def test_asam_bad_input_is_a_400_naming_each_field(clinic, api, body, bad_top, bad_ratings):
    as_user(api, clinic.clinician_on_team)
    response = recommend(api, body)
    assert response.status_code == 400
    errors = response.json()
    assert bad_top <= set(errors)
    if bad_ratings:
        assert set(errors["ratings"]) == bad_ratings


def test_asam_vocabulary(clinic, api):
    as_user(api, clinic.peer_support)
    body = api.get("/api/v1/asam/").json()
    assert body["editions"]["4"]["dimensions"]["6"] == "Person-Centered Considerations"
    assert "3.7-WM" in body["editions"]["3"]["levels"] and body["rating_labels"]["4"] == "severe/imminent"


# --- instrument responses ---------------------------------------------------------------------


def administer_body(clinic, **overrides):
    return {
        "patient": str(clinic.patient.public_id),
        "instrument_code": "phq-9",
        "answers": PHQ9_ITEM9_POSITIVE,
        **overrides,
    }


def test_administering_through_the_api_stores_audits_and_alerts(clinic, api):
    as_user(api, clinic.medical)
    response = api.post("/api/v1/instrument-responses/", administer_body(clinic, notes="api"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total"], body["band"], body["flags"]) == (1, "minimal", ["suicide_risk"])
    assert body["instrument_code"] == "phq-9" and body["instrument_version"] == "1"
    assert body["patient"] == str(clinic.patient.public_id) and body["administered_by"]["id"]
    assert body["answers"] == PHQ9_ITEM9_POSITIVE
    assert ClinicalAlert.objects.get().severity == "high"
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=body["id"]).exists()


def test_instrument_is_an_alias_of_instrument_code(clinic, api):
    as_user(api, clinic.clinician_on_team)
    body = {
        "patient": str(clinic.patient.public_id),
        "instrument": "audit-c",
        "answers": {"1": 0, "2": 0, "3": 0},
        "sex": "male",
    }
    response = api.post("/api/v1/instrument-responses/", body, format="json")
    assert response.status_code == 201 and response.json()["sex_used"] == "male"


def test_administering_bad_answers_through_the_api_is_a_400_naming_each_item(clinic, api):
    as_user(api, clinic.clinician_on_team)
    body = administer_body(clinic, answers={"1": 7, "2": 0, "x": 1})
    response = api.post("/api/v1/instrument-responses/", body, format="json")
    assert response.status_code == 400
    assert {"1", "3", "9", "x"} <= set(response.json()["answers"])
    missing = api.post(
        "/api/v1/instrument-responses/", {"patient": str(clinic.patient.public_id)}, format="json"
    )
    assert missing.status_code == 400 and "answers" in missing.json()
    unknown = api.post(
        "/api/v1/instrument-responses/", administer_body(clinic, instrument_code="bdi"), format="json"
    )
    assert unknown.status_code == 400 and "instrument_code" in unknown.json()
    assert not InstrumentResponse.objects.exists()


@pytest.mark.parametrize("persona", ["case_manager", "peer_support", "admin"])
def test_roles_that_do_not_administer_get_403_through_the_api(clinic, api, persona):
    as_user(api, clinic.persona(persona))
    response = api.post("/api/v1/instrument-responses/", administer_body(clinic), format="json")
    assert response.status_code == 403 and response.json()["detail"]


@pytest.mark.parametrize("persona", ["clinician_elsewhere", "admin_other_site"])
def test_administering_to_a_patient_outside_reach_is_404(clinic, api, persona):
    as_user(api, clinic.persona(persona))
    response = api.post("/api/v1/instrument-responses/", administer_body(clinic), format="json")
    assert response.status_code == 404 and not InstrumentResponse.objects.exists()


def test_reading_one_response_is_an_audited_chart_read(clinic, api):
    stored = services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="phq-9", answers=PHQ9_ITEM9_POSITIVE
    )
    as_user(api, clinic.case_manager)
    response = api.get(f"/api/v1/instrument-responses/{stored.public_id}/")
    assert response.status_code == 200 and response.json()["answers"]["9"] == 1
    assert (
        AuditEntry.objects.filter(
            action=AuditAction.READ, actor=clinic.case_manager, object_type="patients.chart.api"
        ).count()
        == 1
    )


def test_response_list_filters_by_patient_and_instrument_and_audits_each_patient(clinic, api):
    other = PatientFactory(site=clinic.site_a)
    admit(other, team={"primary_clinician": clinic.clinician_on_team})
    for patient in (clinic.patient, other):
        services.administer_instrument(
            actor=clinic.clinician_on_team,
            patient=patient,
            code="cage",
            answers={str(n): False for n in range(1, 5)},
        )
    services.administer_instrument(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        code="gad-7",
        answers={str(n): 0 for n in range(1, 8)},
    )
    as_user(api, clinic.clinician_on_team)
    assert api.get("/api/v1/instrument-responses/").json()["count"] == 3
    reads = AuditEntry.objects.filter(action=AuditAction.READ, object_type="patients.chart.api")
    assert reads.count() == 2  # one per patient on the page
    mine = api.get("/api/v1/instrument-responses/", {"patient": str(clinic.patient.public_id)}).json()
    assert mine["count"] == 2
    gad = api.get(
        "/api/v1/instrument-responses/", {"patient": str(clinic.patient.public_id), "instrument": "gad-7"}
    )
    assert [row["instrument_code"] for row in gad.json()["results"]] == ["gad-7"]
    assert api.get("/api/v1/instrument-responses/", {"patient": "not-a-uuid"}).status_code == 400


def test_response_list_shows_only_patients_in_reach(clinic, api):
    services.administer_instrument(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        code="cage",
        answers={str(n): False for n in range(1, 5)},
    )
    as_user(api, clinic.clinician_elsewhere)
    assert api.get("/api/v1/instrument-responses/").json()["count"] == 0
    as_user(api, clinic.admin_other_site)
    assert api.get("/api/v1/asam-assessments/").json()["count"] == 0


def test_response_list_query_count_does_not_grow_with_responses(clinic, api, query_count):
    as_user(api, clinic.clinician_on_team)
    answers = {str(n): 0 for n in range(1, 12)}
    services.administer_instrument(actor=clinic.medical, patient=clinic.patient, code="cows", answers=answers)
    one = query_count(lambda: api.get("/api/v1/instrument-responses/"))
    for _ in range(30):
        services.administer_instrument(
            actor=clinic.medical, patient=clinic.patient, code="cows", answers=answers
        )
    assert query_count(lambda: api.get("/api/v1/instrument-responses/")) == one
    assert api.get("/api/v1/instrument-responses/").json()["count"] == 31


# --- ASAM assessments -------------------------------------------------------------------------


def assess_body(clinic, **overrides):
    return {
        "patient": str(clinic.patient.public_id),
        "edition": "3",
        "ratings": ratings(0, 1, 2, 2, 2, 1),
        **overrides,
    }


def test_assessing_through_the_api_accepts_or_overrides_with_a_reason(clinic, api):
    as_user(api, clinic.clinician_on_team)
    accepted = api.post("/api/v1/asam-assessments/", assess_body(clinic), format="json")
    assert accepted.status_code == 201, accepted.json()
    assert (accepted.json()["recommended_level"], accepted.json()["chosen_level"]) == ("2.1", "2.1")
    assert accepted.json()["recommendation_reasons"]
    no_reason = api.post("/api/v1/asam-assessments/", assess_body(clinic, chosen_level="2.5"), format="json")
    assert no_reason.status_code == 400 and "override_reason" in no_reason.json()
    body = assess_body(
        clinic,
        chosen_level="2.5",
        override_reason="Court-ordered structure.",
        dimension_notes={"6": "Shelter."},
    )
    overridden = api.post("/api/v1/asam-assessments/", body, format="json")
    assert overridden.status_code == 201
    assert overridden.json()["overridden"] is True and overridden.json()["dimension_notes"] == {
        "6": "Shelter."
    }
    assert AsamAssessment.objects.count() == 2


def test_assessing_bad_ratings_through_the_api_is_a_400_naming_each_dimension(clinic, api):
    as_user(api, clinic.clinician_on_team)
    body = assess_body(clinic, edition="2", ratings={"1": 9, "2": 0}, dimension_notes={"8": "?"})
    response = api.post("/api/v1/asam-assessments/", body, format="json")
    assert response.status_code == 400
    assert "edition" in response.json() and set(response.json()["ratings"]) == {"1", "3", "4", "5", "6"}


@pytest.mark.parametrize("persona", ["medical", "case_manager", "peer_support", "admin"])
def test_only_clinicians_assess_through_the_api(clinic, api, persona):
    as_user(api, clinic.persona(persona))
    assert api.post("/api/v1/asam-assessments/", assess_body(clinic), format="json").status_code == 403


def test_reading_one_assessment_is_audited(clinic, api):
    stored = services.assess_asam(
        actor=clinic.clinician_on_team, patient=clinic.patient, edition="4", ratings=ratings(0, 1, 2, 2, 2, 1)
    )
    as_user(api, clinic.case_manager)
    response = api.get(f"/api/v1/asam-assessments/{stored.public_id}/")
    assert response.status_code == 200 and response.json()["edition"] == "4"
    assert AuditEntry.objects.filter(action=AuditAction.READ, actor=clinic.case_manager).count() == 1


def test_assessment_list_query_count_does_not_grow(clinic, api, query_count):
    as_user(api, clinic.case_manager)
    values = ratings(0, 1, 2, 2, 2, 1)
    services.assess_asam(actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=values)
    one = query_count(lambda: api.get("/api/v1/asam-assessments/"))
    for _ in range(20):
        services.assess_asam(
            actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=values
        )
    assert query_count(lambda: api.get("/api/v1/asam-assessments/")) == one


def test_openapi_schema_describes_the_screening_endpoints(clinic, api):
    as_user(api, clinic.admin)
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in [
        "/api/v1/instruments/",
        "/api/v1/instruments/{code}/",
        "/api/v1/instruments/{code}/score/",
        "/api/v1/asam/",
        "/api/v1/asam/recommend/",
        "/api/v1/instrument-responses/",
        "/api/v1/instrument-responses/{public_id}/",
        "/api/v1/asam-assessments/",
        "/api/v1/asam-assessments/{public_id}/",
    ]:
        assert path in paths, path


# --- list pages: one audit append, constant queries -------------------------------------------


def patients_with_results(clinic, how_many: int, per_patient: int, *, asam: bool) -> list:
    """`how_many` patients on clinic.clinician_on_team's care team, each with `per_patient`
    results (instrument responses, or ASAM assessments)."""
    made = []
    for _ in range(how_many):
        patient = PatientFactory(site=clinic.site_a)
        admit(patient, team={"primary_clinician": clinic.clinician_on_team})
        for _ in range(per_patient):
            if asam:
                services.assess_asam(
                    actor=clinic.clinician_on_team,
                    patient=patient,
                    edition="3",
                    ratings=ratings(0, 1, 2, 2, 2, 1),
                )
            else:
                services.administer_instrument(
                    actor=clinic.clinician_on_team, patient=patient, code="cage", answers=CAGE_ANSWERS
                )
        made.append(patient)
    return made


CAGE_ANSWERS = {str(n): False for n in range(1, 5)}


@pytest.mark.parametrize(
    "endpoint, asam", [("/api/v1/instrument-responses/", False), ("/api/v1/asam-assessments/", True)]
)
def test_list_queries_do_not_grow_with_patients_or_rows(clinic, api, query_count, endpoint, asam):
    as_user(api, clinic.clinician_on_team)
    patients_with_results(clinic, 2, 1, asam=asam)
    few = query_count(lambda: api.get(endpoint))
    patients_with_results(clinic, 20, 2, asam=asam)  # 22 patients, 42 rows: one page
    body = api.get(endpoint).json()
    assert body["count"] == 42 and len(body["results"]) == 42
    assert query_count(lambda: api.get(endpoint)) == few


@pytest.mark.parametrize(
    "endpoint, asam", [("/api/v1/instrument-responses/", False), ("/api/v1/asam-assessments/", True)]
)
def test_a_list_page_audits_one_read_per_patient_on_it(clinic, api, endpoint, asam):
    patients = patients_with_results(clinic, 3, 2, asam=asam)
    as_user(api, clinic.clinician_on_team)
    before = AuditEntry.objects.count()
    api.get(endpoint)
    reads = AuditEntry.objects.filter(action=AuditAction.READ, object_type="patients.chart.api")
    assert AuditEntry.objects.count() - before == 3
    assert sorted(str(read.patient_public_id) for read in reads) == sorted(str(p.public_id) for p in patients)
    assert all(read.actor == clinic.clinician_on_team for read in reads)


def test_a_list_read_through_break_the_glass_names_the_grant(clinic, api):
    from patients.services.records import break_the_glass

    services.administer_instrument(
        actor=clinic.clinician_on_team, patient=clinic.patient, code="cage", answers=CAGE_ANSWERS
    )
    grant = break_the_glass(
        actor=clinic.clinician_elsewhere,
        mrn=clinic.patient.mrn,
        category="imminent_risk",
        reason="Crisis at the desk, primary away",
    )
    as_user(api, clinic.clinician_elsewhere)
    assert api.get("/api/v1/instrument-responses/").json()["count"] == 1
    read = AuditEntry.objects.get(action=AuditAction.READ, object_type="patients.chart.api")
    assert read.reason == f"break-the-glass grant {grant.public_id}"


# --- CIWA-Ar bands: this installation's -------------------------------------------------------

VA_STYLE = (Band("minimal/mild", 0, 7), Band("moderate", 8, 15), Band("severe", 16, 67))
CIWA_TOTAL_8 = {**{str(n): 1 for n in range(1, 9)}, "9": 0, "10": 0}


def test_ciwa_ar_scores_with_the_installations_bands(clinic, api, settings):
    as_user(api, clinic.peer_support)
    default = score(api, "ciwa-ar", {"answers": CIWA_TOTAL_8}).json()
    assert default == {"total": 8, "band": "mild", "flags": []}
    settings.CIWA_AR_BANDS = VA_STYLE
    configured = score(api, "ciwa-ar", {"answers": CIWA_TOTAL_8}).json()
    assert configured == {"total": 8, "band": "moderate", "flags": ["withdrawal_management_before_iop"]}
    definition = api.get("/api/v1/instruments/ciwa-ar/").json()
    assert [(b["name"], b["low"], b["high"]) for b in definition["bands"]] == [
        ("minimal/mild", 0, 7),
        ("moderate", 8, 15),
        ("severe", 16, 67),
    ]
    assert definition["bands_configurable"] is True


def test_administering_ciwa_ar_through_the_api_stores_the_installations_band(clinic, api, settings):
    settings.CIWA_AR_BANDS = VA_STYLE
    as_user(api, clinic.medical)
    body = {"patient": str(clinic.patient.public_id), "instrument_code": "ciwa-ar", "answers": CIWA_TOTAL_8}
    response = api.post("/api/v1/instrument-responses/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["band"], response.json()["flags"]) == (
        "moderate",
        ["withdrawal_management_before_iop"],
    )


# --- AUDIT-C: the sex at the top level or inside the answers ------------------------------------

AUDIT_C_3 = {"1": 1, "2": 1, "3": 1}  # 3: positive for women, negative for men


@pytest.mark.parametrize(
    "body",
    [
        {"answers": AUDIT_C_3, "sex": "female"},
        {"answers": {**AUDIT_C_3, "sex": "female"}},
        {"answers": {**AUDIT_C_3, "sex": "female"}, "sex": "female"},
        {"answers": {**AUDIT_C_3, "sex": None}, "sex": "female"},
    ],
)
def test_audit_c_sex_may_be_sent_inside_the_answers(clinic, api, body):
    as_user(api, clinic.clinician_on_team)
    response = score(api, "audit-c", body)
    assert response.status_code == 200, response.json()
    assert response.json() == {"total": 3, "band": "positive", "flags": ["positive_screen"]}


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {**AUDIT_C_3, "sex": "female"}, "sex": "male"},  # conflict
        {"answers": {**AUDIT_C_3, "sex": 1}},  # not a word
        {"answers": {**AUDIT_C_3, "sex": "other"}},  # not a sex the engine scores with
    ],
)
def test_audit_c_sex_inside_the_answers_is_checked_like_the_top_level_one(clinic, api, body):
    as_user(api, clinic.clinician_on_team)
    response = score(api, "audit-c", body)
    assert response.status_code == 400 and "sex" in response.json(), response.json()
    assert "answers" not in response.json()  # "sex" is not reported as an unknown item


def test_administering_audit_c_with_the_sex_inside_the_answers(clinic, api):
    as_user(api, clinic.clinician_on_team)
    body = {
        "patient": str(clinic.patient.public_id),
        "instrument_code": "audit-c",
        "answers": {**AUDIT_C_3, "sex": "male"},
    }
    response = api.post("/api/v1/instrument-responses/", body, format="json")
    assert response.status_code == 201, response.json()
    stored = InstrumentResponse.objects.get()
    assert (stored.sex_used, stored.band, stored.answers) == ("male", "negative", AUDIT_C_3)
    conflict = api.post("/api/v1/instrument-responses/", {**body, "sex": "female"}, format="json")
    assert conflict.status_code == 400 and "sex" in conflict.json()
    assert InstrumentResponse.objects.count() == 1


# --- C-SSRS: the published periods ---------------------------------------------------------------


def test_cssrs_definition_says_which_period_each_question_asks_about(clinic, api):
    as_user(api, clinic.peer_support)
    cssrs = api.get("/api/v1/instruments/c-ssrs/").json()
    timeframes = {item["key"]: item["timeframe"] for item in cssrs["items"]}
    assert timeframes == {
        "1": "In the past month",
        "2": "In the past month",
        "3": "In the past month",
        "4": "In the past month",
        "5": "In the past month",
        "6": "Lifetime",
        "6a": "",
    }
    assert "past month" in cssrs["instructions"] and "past 3 months" in cssrs["instructions"]
    assert (
        next(item for item in cssrs["items"] if item["key"] == "6a")["wording"] == "Within the past 3 months?"
    )
    phq9 = api.get("/api/v1/instruments/phq-9/").json()
    assert {item["timeframe"] for item in phq9["items"]} == {""}  # the stem says "Over the last 2 weeks"
